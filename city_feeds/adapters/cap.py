"""OASIS CAP 1.2 alerts (pure): a lone ``<alert>``, alerts embedded in an Atom feed's entries,
or MeteoAlarm's API v1 JSON (``{"warnings": [{"alert": {...}}]}``).

Every alert is validated against ``city_feeds/schemas/CAP-v1.2.xsd`` before it is read; a
MeteoAlarm alert is first written as CAP XML (its keys in the schema's order, unknown keys
dropped) so that it meets the same schema and the same reader. XML comes through the safe parser
of ``city_feeds.adapters.common`` (no DOCTYPE, no entities, no network).

Each alert becomes one ``ALERT`` item: ``external_id`` its identifier, title its headline (else
its event), body its description, ``valid_from`` its ``effective`` time (CAP: ``sent`` when
absent; ``onset`` is kept in ``extra``), ``valid_until`` its ``expires``, and ``AlertFacts`` with
the identifiers it updates or cancels (parsed from ``references``' ``sender,identifier,sent``
triples) and its areas: geocodes as (valueName, value), polygons as (lat, lon) rings (closed if
the sender left them open), circles as ((lat, lon), km). Among several ``info`` blocks the one in
``options.language`` wins (exactly, then any of its regions such as ``fr-FR``), else the first.

A lone alert that fails the schema, or whose references, polygon or circle cannot be read,
raises ``FeedError`` with the reason. In a feed (Atom, MeteoAlarm) such an alert is skipped and
logged, unless no alert of the feed is valid (``FeedError`` again). Atom entries that only link
to their alert (the US NWS index) give no item: ``linked_alerts`` lists those links for a
fetcher, and they are logged.
"""

import copy
import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Any

from lxml import etree

from city_feeds.adapters.common import check_size, load_json, parse_time, parse_xml
from city_feeds.items import AlertFacts, Area, FeedError, Item, ItemKind, ParseOptions

logger = logging.getLogger(__name__)

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
_NS = {"cap": CAP_NS, "atom": ATOM_NS}
_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "CAP-v1.2.xsd"


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    check_size(data, options)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return _from_meteoalarm(load_json(data, options), options)
    root = parse_xml(data, options)
    if root.tag == f"{{{CAP_NS}}}alert":
        return [_alert_item(_validated(root), options)]
    if root.tag == f"{{{ATOM_NS}}}feed":
        return _from_feed(_atom_alerts(root), options)
    raise FeedError(f"not a CAP 1.2 alert, an Atom feed or MeteoAlarm JSON (root {root.tag})")


def linked_alerts(data: bytes, options: ParseOptions) -> list[str]:
    """The links of an Atom feed's entries that carry no CAP 1.2 alert of their own."""
    root = parse_xml(data, options)
    if root.tag != f"{{{ATOM_NS}}}feed":
        return []
    return [
        href
        for entry in root.iterfind("atom:entry", _NS)
        if entry.find(".//cap:alert", _NS) is None
        for href in entry.xpath("atom:link/@href", namespaces=_NS)
    ]


# --- containers --------------------------------------------------------------------------------


def _atom_alerts(feed: etree._Element) -> list[etree._Element]:
    alerts: list[etree._Element] = []
    for entry in feed.iterfind("atom:entry", _NS):
        embedded = entry.findall(".//cap:alert", _NS)
        if not embedded:
            links = entry.xpath("atom:link/@href", namespaces=_NS)
            logger.info("cap atom entry links its alert (not fetched here): %s", links)
        alerts.extend(copy.deepcopy(alert) for alert in embedded)
    return alerts


def _from_meteoalarm(document: Any, options: ParseOptions) -> list[Item]:
    warnings = document.get("warnings") if isinstance(document, dict) else document
    if not isinstance(warnings, list):
        raise FeedError("MeteoAlarm JSON without a warnings list")
    alerts = []
    for warning in warnings:
        alert = warning.get("alert") if isinstance(warning, dict) else None
        if not isinstance(alert, dict):
            raise FeedError("MeteoAlarm warning without an alert object")
        alerts.append(_cap_elements("alert", alert)[0])
    return _from_feed(alerts, options)


def _from_feed(alerts: list[etree._Element], options: ParseOptions) -> list[Item]:
    items: list[Item] = []
    errors: list[FeedError] = []
    for alert in alerts:
        try:
            items.append(_alert_item(_validated(alert), options))
        except FeedError as err:
            logger.warning("cap alert skipped: %s", err)
            errors.append(err)
    if errors and not items:
        raise errors[0]
    return items


# --- MeteoAlarm JSON as CAP XML ------------------------------------------------------------------

_PAIR = ("valueName", "value")
_CHILDREN: dict[str, tuple[str, ...]] = {
    "alert": (
        *("identifier", "sender", "sent", "status", "msgType", "source", "scope"),
        *("restriction", "addresses", "code", "note", "references", "incidents", "info"),
    ),
    "info": (
        *("language", "category", "event", "responseType", "urgency", "severity", "certainty"),
        *("audience", "eventCode", "effective", "onset", "expires", "senderName", "headline"),
        *("description", "instruction", "web", "contact", "parameter", "resource", "area"),
    ),
    "resource": ("resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"),
    "area": ("areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"),
    "eventCode": _PAIR,
    "parameter": _PAIR,
    "geocode": _PAIR,
}


def _cap_elements(name: str, value: Any) -> list[etree._Element]:
    """The CAP elements for one JSON key (a list gives repeated elements)."""
    elements = []
    for one in value if isinstance(value, list) else [value]:
        element = etree.Element(f"{{{CAP_NS}}}{name}")
        if name in _CHILDREN:
            if not isinstance(one, dict):
                raise FeedError(f"MeteoAlarm {name} is not an object")
            for child in _CHILDREN[name]:
                if child in one:
                    element.extend(_cap_elements(child, one[child]))
        elif isinstance(one, str | int | float) and not isinstance(one, bool):
            element.text = str(one)
        else:
            raise FeedError(f"MeteoAlarm {name} is not text: {one!r:.40}")
        elements.append(element)
    return elements


# --- validation --------------------------------------------------------------------------------


_per_thread = threading.local()


def _schema() -> etree.XMLSchema:
    """The CAP 1.2 schema, one per thread (a validator keeps its last error log)."""
    schema = getattr(_per_thread, "schema", None)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = etree.XMLSchema(etree.parse(str(_SCHEMA_PATH), parser=parser))  # noqa: S320
        _per_thread.schema = schema
    return schema


def _validated(alert: etree._Element) -> etree._Element:
    schema = _schema()
    if not schema.validate(alert):
        error = schema.error_log.last_error
        identifier = alert.findtext("cap:identifier", namespaces=_NS) or "?"
        raise FeedError(
            f"CAP alert {identifier.strip()[:80]} fails the CAP 1.2 schema: "
            f"{error.message} (line {error.line})"
        )
    return alert


# --- reading -----------------------------------------------------------------------------------


def _text(element: etree._Element, name: str) -> str:
    return (element.findtext(f"cap:{name}", namespaces=_NS) or "").strip()


def _time(element: etree._Element, name: str) -> dt.datetime | None:
    text = _text(element, name)
    return parse_time(text) if text else None


def _alert_item(alert: etree._Element, options: ParseOptions) -> Item:
    info = _preferred_info(alert.findall("cap:info", _NS), options.language)
    sent = parse_time(_text(alert, "sent"))
    facts = AlertFacts(
        identifier=_text(alert, "identifier"),
        sender=_text(alert, "sender"),
        sent=sent,
        status=_text(alert, "status"),
        msg_type=_text(alert, "msgType"),
        references=_references(_text(alert, "references")),
        **(_info_facts(info) if info is not None else {}),
    )
    return Item(
        kind=ItemKind.ALERT,
        external_id=facts.identifier,
        title=_title(alert, info),
        body=_text(info, "description") if info is not None else "",
        location=_centre(facts.areas),
        observed_at=sent,
        valid_from=(_time(info, "effective") if info is not None else None) or sent,
        valid_until=_time(info, "expires") if info is not None else None,
        severity=_text(info, "severity") if info is not None else "Unknown",
        alert=facts,
        extra=_extra(alert, info),
    )


def _preferred_info(infos: list[etree._Element], language: str) -> etree._Element | None:
    wanted = language.strip().lower()
    primary = wanted.split("-")[0]

    def code(info: etree._Element) -> str:
        return (_text(info, "language") or "en-US").lower()

    for matches in (
        lambda c: c == wanted,
        lambda c: c == primary,
        lambda c: c.startswith(primary + "-"),
    ):
        for info in infos:
            if wanted and matches(code(info)):
                return info
    return infos[0] if infos else None


def _info_facts(info: etree._Element) -> dict[str, Any]:
    return {
        "urgency": _text(info, "urgency"),
        "certainty": _text(info, "certainty"),
        "event": _text(info, "event"),
        "instruction": _text(info, "instruction"),
        "language": _text(info, "language") or "en-US",
        "areas": tuple(_area(area) for area in info.iterfind("cap:area", _NS)),
    }


def _title(alert: etree._Element, info: etree._Element | None) -> str:
    if info is not None and (title := _text(info, "headline") or _text(info, "event")):
        return title
    return _text(alert, "note") or _text(alert, "identifier")


def _extra(alert: etree._Element, info: etree._Element | None) -> dict[str, str]:
    extra = {"scope": _text(alert, "scope")}
    if info is not None:
        extra |= {
            "onset": _text(info, "onset"),
            "sender_name": _text(info, "senderName"),
            "web": _text(info, "web"),
            "category": _text(info, "category"),
        }
    return {key: value for key, value in extra.items() if value}


def _references(text: str) -> tuple[str, ...]:
    """The identifiers in CAP's space-separated ``sender,identifier,sent`` triples."""
    identifiers = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[1]:
            raise FeedError(f"CAP references entry is not sender,identifier,sent: {triple:.80}")
        identifiers.append(parts[1])
    return tuple(identifiers)


def _area(area: etree._Element) -> Area:
    return Area(
        description=_text(area, "areaDesc"),
        geocodes=tuple(
            (_text(code, "valueName"), _text(code, "value"))
            for code in area.iterfind("cap:geocode", _NS)
        ),
        polygons=tuple(
            _polygon(text) for el in area.iterfind("cap:polygon", _NS) if (text := _content(el))
        ),
        circles=tuple(
            _circle(text) for el in area.iterfind("cap:circle", _NS) if (text := _content(el))
        ),
    )


def _content(element: etree._Element) -> str:
    return (element.text or "").strip()


def _point(text: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError as err:
        raise FeedError(f"CAP point is not lat,lon: {text:.40}") from err
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise FeedError(f"CAP point out of range: {text:.40}")
    return lat, lon


def _polygon(text: str) -> tuple[tuple[float, float], ...]:
    ring = [_point(pair) for pair in text.split()]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(set(ring)) < 3:
        raise FeedError(f"CAP polygon has fewer than 3 distinct points: {text:.80}")
    return tuple(ring)


def _circle(text: str) -> tuple[tuple[float, float], float]:
    parts = text.split()
    if len(parts) != 2:
        raise FeedError(f"CAP circle is not 'lat,lon radius': {text:.80}")
    try:
        radius = float(parts[1])
    except ValueError as err:
        raise FeedError(f"CAP circle radius is not a number: {text:.80}") from err
    if not 0 <= radius < 20_000:
        raise FeedError(f"CAP circle radius out of range: {text:.80}")
    return _point(parts[0]), radius


def _centre(areas: tuple[Area, ...]) -> tuple[float, float] | None:
    """A point for the map: the first circle's centre, else the first polygon's vertex mean."""
    for area in areas:
        if area.circles:
            return area.circles[0][0]
        if area.polygons:
            vertices = area.polygons[0][:-1]
            return (
                round(sum(p[0] for p in vertices) / len(vertices), 6),
                round(sum(p[1] for p in vertices) / len(vertices), 6),
            )
    return None
