"""Generic, pure pieces every adapter needs: a size limit, safe JSON and XML loading, times.

Nothing here knows a standard. Each function raises ``FeedError`` with a reason fit for a
source's health line when the payload cannot be read.
"""

import datetime as dt
import json
from typing import Any

from lxml import etree

from city_feeds.items import FeedError, ItemKind, ParseOptions


def check_size(data: bytes, options: ParseOptions) -> None:
    """Refuse a payload larger than ``options.max_bytes``."""
    if len(data) > options.max_bytes:
        raise FeedError(f"payload too large: {len(data)} bytes (limit {options.max_bytes})")


def _refuse_constant(name: str) -> Any:
    raise FeedError(f"malformed JSON: {name} is not a number JSON allows")


def load_json(data: bytes, options: ParseOptions) -> Any:
    """The JSON document in ``data`` (size-checked, UTF-8)."""
    check_size(data, options)
    try:
        return json.loads(data.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as err:
        raise FeedError(f"payload is not UTF-8: {err}") from err
    except json.JSONDecodeError as err:
        raise FeedError(f"malformed JSON: {err}") from err
    except FeedError:
        raise
    except ValueError as err:  # a number of more digits than Python converts
        raise FeedError(f"unreadable JSON number: {err}") from err
    except RecursionError as err:
        raise FeedError("JSON nested too deeply") from err


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, options: ParseOptions) -> etree._Element:
    """The root element of the XML document in ``data``: size-checked, no network, no entity
    resolution, and any DOCTYPE refused (entity expansion and external entities live there)."""
    check_size(data, options)
    if b"<!DOCTYPE" in data.upper():
        # Cheap pre-check before libxml2 even reads the declarations.
        raise FeedError("XML with a DOCTYPE (DTD or entities) refused")
    try:
        root = etree.fromstring(data, parser=_safe_parser())  # noqa: S320 (safe parser)
    except etree.XMLSyntaxError as err:
        raise FeedError(f"malformed XML: {err}") from err
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise FeedError("XML with a DOCTYPE (DTD or entities) refused")
    return root


def parse_time(value: object) -> dt.datetime:
    """An aware datetime from an ISO 8601 string (``Z``, fractions, offsets); a time without
    a zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise FeedError(f"not a date-time: {value!r:.80}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise FeedError(f"not a date-time: {value!r:.80}") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def parse_time_or_none(value: object) -> dt.datetime | None:
    """Like ``parse_time`` for optional fields: ``None`` when absent or unreadable."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except FeedError:
        return None


def item_kind(options: ParseOptions, *, default: ItemKind | None = None) -> ItemKind:
    """The kind a source gives its items (``options.item_kind``), else ``default``; a source
    of a generic standard with no kind at all cannot be read."""
    if not options.item_kind:
        if default is None:
            raise FeedError("the source sets no item kind")
        return default
    try:
        return ItemKind(options.item_kind)
    except ValueError as err:
        raise FeedError(f"unknown item kind: {options.item_kind!r:.40}") from err
