"""IPTV renderers: the M3U channel list and the XMLTV guide, pure functions of their inputs.

The views (``broadcasting.delivery.views_iptv``) load the channels and the guide and call these; nothing
here touches the database or the clock. All URLs handed in are already absolute.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lxml import etree

XMLTV_TIME_FORMAT = "%Y%m%d%H%M%S %z"
XMLTV_DOCTYPE = '<!DOCTYPE tv SYSTEM "xmltv.dtd">'
LANG = "fr"


@dataclass(frozen=True)
class ChannelListing:
    """A channel as IPTV apps see it."""

    tvg_id: str
    number: int
    name: str
    group: str
    logo_url: str  # absolute, or "" without a logo
    stream_url: str  # absolute live master playlist
    page_url: str  # absolute page where the channel can be watched
    time_zone: str


@dataclass(frozen=True)
class ProgrammeListing:
    """One guide line in XMLTV terms (aware instants; text may be empty)."""

    start: dt.datetime
    stop: dt.datetime
    title: str
    sub_title: str = ""
    description: str = ""
    category: str = ""
    icon_url: str = ""


def tvg_id(slug: str) -> str:
    """The id shared by the M3U ``tvg-id`` and the XMLTV ``channel`` id."""
    return f"{slug}.carillon"


def channels_m3u(channels: Sequence[ChannelListing], *, epg_url: str) -> str:
    """The extended M3U list of ``channels`` pointing at the guide ``epg_url``."""
    header = f'#EXTM3U url-tvg="{_attr(epg_url)}" x-tvg-url="{_attr(epg_url)}"'
    lines = [header]
    for channel in channels:
        lines.append(_extinf(channel))
        lines.append(channel.stream_url)
    return "\n".join(lines) + "\n"


def _extinf(channel: ChannelListing) -> str:
    attributes = {
        "tvg-id": channel.tvg_id,
        "tvg-chno": str(channel.number),
        "tvg-name": channel.name,
        "tvg-logo": channel.logo_url,
        "group-title": channel.group,
    }
    rendered = " ".join(f'{key}="{_attr(value)}"' for key, value in attributes.items())
    return f"#EXTINF:-1 {rendered},{_title(channel.name)}"


def _attr(value: str) -> str:
    """An M3U attribute value: M3U has no escaping, so quotes and line breaks are replaced."""
    return _title(value).replace('"', "'")


def _title(value: str) -> str:
    """M3U is line-based: a line break in a name would start a new entry."""
    return " ".join(value.split())


def xmltv_time(instant: dt.datetime, zone: ZoneInfo) -> str:
    """``YYYYMMDDHHMMSS +HHMM`` in the channel's local time with its explicit offset."""
    return instant.astimezone(zone).strftime(XMLTV_TIME_FORMAT)


def xmltv(
    channels: Sequence[ChannelListing],
    programmes_by_channel: Mapping[str, Sequence[ProgrammeListing]],
    *,
    generator: str,
    source: str = "Carillon",
) -> bytes:
    """The XMLTV document (UTF-8, with its DOCTYPE) of ``channels`` and their programmes.

    ``programmes_by_channel`` is keyed by ``tvg_id``. Elements follow the DTD's order: all
    ``channel`` elements, then all ``programme`` elements.
    """
    tv = etree.Element("tv", {"generator-info-name": generator, "source-info-name": source})
    for channel in channels:
        tv.append(_channel_element(channel))
    for channel in channels:
        zone = ZoneInfo(channel.time_zone)
        for programme in programmes_by_channel.get(channel.tvg_id, ()):
            tv.append(_programme_element(programme, channel_id=channel.tvg_id, zone=zone))
    body: bytes = etree.tostring(
        tv, encoding="UTF-8", xml_declaration=True, doctype=XMLTV_DOCTYPE, pretty_print=True
    )
    return body


def _channel_element(channel: ChannelListing) -> etree._Element:
    element = etree.Element("channel", {"id": channel.tvg_id})
    _text_child(element, "display-name", channel.name, lang=LANG)
    if channel.logo_url:
        etree.SubElement(element, "icon", {"src": channel.logo_url})
    if channel.page_url:
        _text_child(element, "url", channel.page_url)
    return element


def _programme_element(
    programme: ProgrammeListing, *, channel_id: str, zone: ZoneInfo
) -> etree._Element:
    element = etree.Element(
        "programme",
        {
            "start": xmltv_time(programme.start, zone),
            "stop": xmltv_time(programme.stop, zone),
            "channel": channel_id,
        },
    )
    _text_child(element, "title", programme.title, lang=LANG)
    if programme.sub_title:
        _text_child(element, "sub-title", programme.sub_title, lang=LANG)
    if programme.description:
        _text_child(element, "desc", programme.description, lang=LANG)
    if programme.category:
        _text_child(element, "category", programme.category, lang=LANG)
    if programme.icon_url:
        etree.SubElement(element, "icon", {"src": programme.icon_url})
    return element


def _text_child(parent: etree._Element, tag: str, text: str, *, lang: str = "") -> None:
    child = etree.SubElement(parent, tag, {"lang": lang} if lang else {})
    child.text = _xml_text(text)


def _xml_text(value: str) -> str:
    """Drop the control characters XML 1.0 cannot carry (lxml refuses them)."""
    return "".join(c for c in value if c in "\t\n\r" or ord(c) >= 0x20)
