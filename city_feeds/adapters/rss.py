"""RSS 2.0 and Atom feeds (feedparser) → news items (or the source's own kind).

Each entry becomes one ``Item``: ``external_id`` from its guid/id, else its link (an entry with
neither is skipped: it could not be de-duplicated); ``title`` and ``body`` as plain text (HTML
tags dropped, entities decoded); ``observed_at`` the published (else updated) time; the link in
``extra["link"]``. An entry with neither title nor summary is skipped.

Safety: the payload is handed to feedparser as a stream (given bytes, feedparser would try them as
a file name), after a size check and a defusedxml pass that refuses entity declarations and
external references. A payload feedparser cannot read as a feed raises ``FeedError``.
"""

import calendar
import datetime as dt
import io
import time
from html.parser import HTMLParser
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
import feedparser
from defusedxml import DefusedXmlException

from city_feeds.adapters.common import check_size, item_kind
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions

TITLE_FROM_BODY_CHARS = 120


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    kind = item_kind(options, default=ItemKind.NEWS)
    check_size(data, options)
    _refuse_entities(data)
    feed = feedparser.parse(io.BytesIO(data), sanitize_html=True, resolve_relative_uris=False)
    if not feed.get("version") and not feed.entries:
        reason = feed.get("bozo_exception") or "no RSS or Atom document"
        raise FeedError(f"not an RSS or Atom feed: {reason}")
    items = (_item(entry, kind) for entry in feed.entries)
    return [item for item in items if item is not None]


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded, white space folded."""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "p", "div", "li"}:
            self.parts.append(" ")


def _refuse_entities(data: bytes) -> None:
    """Refuse entity declarations and external references; leave merely malformed XML to
    feedparser's lenient parser (which drops unsafe declarations itself)."""
    try:
        safe_et.fromstring(data)
    except DefusedXmlException as err:
        raise FeedError(f"XML entities or external references refused: {err!r}") from err
    except ParseError:
        return


def _item(entry: Any, kind: ItemKind) -> Item | None:
    external_id = _text(entry.get("id")) or _text(entry.get("link"))
    body = html_to_text(_text(entry.get("summary")))
    title = html_to_text(_text(entry.get("title"))) or body[:TITLE_FROM_BODY_CHARS]
    if not external_id or not title:
        return None
    link = _text(entry.get("link"))
    if not link.startswith(("https://", "http://")):  # feedparser may copy a URN id here
        link = ""
    return Item(
        kind=kind,
        external_id=external_id,
        title=title,
        body=body,
        observed_at=_time(entry.get("published_parsed") or entry.get("updated_parsed")),
        extra={"link": link} if link else {},
    )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _time(value: object) -> dt.datetime | None:
    """feedparser's times are UTC ``struct_time``s."""
    if not isinstance(value, time.struct_time):
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(value), tz=dt.UTC)
