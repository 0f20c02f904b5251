"""DATEX II v3 publications (pure): road works and closures as ``TRAFFIC`` items.

- ``SituationPublication``: one item per ``situationRecord`` (``external_id`` its id), titled by
  its road name, else its public comment, else its record type (``MaintenanceWorks``,
  ``RoadOrCarriagewayOrLaneManagement``...), with its validity period, its severity on CAP's
  scale, and its location if present.
- ``TrafficRegulationPublication`` (France's DiaLog): one item per ``trafficRegulation`` of each
  ``trafficRegulationOrder`` (``external_id`` ``<order id>#<n>``), titled by the order's
  description, with its validity period and location; inactive regulations are skipped.

A payload may be a ``d2:payload`` or a ``messageContainer`` of them; elements are found by
their DATEX II v3 namespaces, the publication kind by its ``xsi:type``. Locations are points
(``pointCoordinates``) or GML ``posList`` lines in DATEX's "lat lon" order (an item's location
is then the mean of the vertices, the line itself kept in ``extra["line"]`` as "lat,lon ...").
Texts are chosen in ``options.language`` when the payload offers several.

XML comes through the safe parser (no DOCTYPE, no entities, no network). A payload that is not
DATEX II v3 raises ``FeedError``; a record with an unreadable time or location is skipped and
logged.
"""

import datetime as dt
import logging
import re

from lxml import etree

from city_feeds.adapters.common import parse_time, parse_xml
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions

logger = logging.getLogger(__name__)

_BASE = "http://datex2.eu/schema/3/"
NS = {
    "d2": _BASE + "d2Payload",
    "con": _BASE + "messageContainer",
    "com": _BASE + "common",
    "loc": _BASE + "locationReferencing",
    "sit": _BASE + "situation",
    "tro": _BASE + "trafficRegulation",
}
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_SEVERITY = {
    "highest": "Extreme",
    "high": "Severe",
    "medium": "Moderate",
    "low": "Minor",
    "lowest": "Minor",
    "none": "Minor",
}


class _Unusable(Exception):
    """This record cannot be used (logged, skipped)."""


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    root = parse_xml(data, options)
    items: list[Item] = []
    for payload in _payloads(root):
        kind = _xsi_type(payload)
        if kind == (NS["sit"], "SituationPublication"):
            items.extend(_situation_items(payload, options))
        elif kind == (NS["tro"], "TrafficRegulationPublication"):
            items.extend(_regulation_items(payload, options))
        else:
            logger.info("datex2 publication of type %s ignored", kind)
    return items


def _payloads(root: etree._Element) -> list[etree._Element]:
    if root.tag == f"{{{NS['d2']}}}payload":
        return [root]
    if root.tag == f"{{{NS['con']}}}messageContainer":
        return root.findall("con:payload", NS)
    raise FeedError(f"not a DATEX II v3 payload (root {root.tag})")


def _xsi_type(element: etree._Element) -> tuple[str | None, str]:
    """The ``xsi:type`` of an element as (namespace, local name), its prefix resolved."""
    value = (element.get(_XSI_TYPE) or "").strip()
    prefix, _, local = value.rpartition(":")
    return element.nsmap.get(prefix or None), local


# --- shared readers ----------------------------------------------------------------------------


def _child_or_self(element: etree._Element, path: str) -> etree._Element:
    child = element.find(path, NS)
    return element if child is None else child


def _collapsed(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _multilingual(element: etree._Element | None, language: str) -> str:
    """The text of a ``MultilingualString`` in the preferred language, else its first."""
    if element is None:
        return ""
    values = element.findall(".//com:value", NS)
    wanted = language.split("-")[0].lower()
    for value in values:
        if (value.get("lang") or "").split("-")[0].lower() == wanted:
            return _collapsed(value.text)
    return _collapsed(values[0].text) if values else ""


def _time(element: etree._Element, path: str) -> dt.datetime | None:
    text = element.findtext(path, namespaces=NS)
    if text is None or not text.strip():
        return None
    try:
        return parse_time(text)
    except FeedError as err:
        raise _Unusable(f"{path}: {err}") from err


def _validity(element: etree._Element) -> tuple[dt.datetime | None, dt.datetime | None]:
    spec = element.find(".//com:validityTimeSpecification", NS)
    if spec is None:
        return None, None
    return _time(spec, "com:overallStartTime"), _time(spec, "com:overallEndTime")


def _coordinate(lat: float, lon: float) -> tuple[float, float]:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _Unusable(f"coordinates out of range: {lat}, {lon}")
    return lat, lon


def _line(element: etree._Element) -> list[tuple[float, float]]:
    pos_list = element.find(".//loc:posList", NS)
    if pos_list is None:
        return []
    try:
        numbers = [float(part) for part in (pos_list.text or "").split()]
    except ValueError as err:
        raise _Unusable(f"posList is not numbers: {err}") from err
    if not numbers or len(numbers) % 2:
        raise _Unusable("posList is not lat lon pairs")
    return [_coordinate(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]


def _point(element: etree._Element) -> tuple[float, float] | None:
    point = element.find(".//loc:pointCoordinates", NS)
    if point is None:
        return None
    try:
        lat = float(point.findtext("loc:latitude", namespaces=NS) or "")
        lon = float(point.findtext("loc:longitude", namespaces=NS) or "")
    except ValueError as err:
        raise _Unusable(f"pointCoordinates are not numbers: {err}") from err
    return _coordinate(lat, lon)


def _location(element: etree._Element, extra: dict[str, str]) -> tuple[float, float] | None:
    """The record's point (or its line's vertex mean); the line goes to ``extra["line"]``."""
    if (point := _point(element)) is not None:
        return point
    line = _line(element)
    if not line:
        return None
    extra["line"] = " ".join(f"{lat},{lon}" for lat, lon in line)
    return (
        round(sum(p[0] for p in line) / len(line), 7),
        round(sum(p[1] for p in line) / len(line), 7),
    )


# --- situations --------------------------------------------------------------------------------


def _situation_items(payload: etree._Element, options: ParseOptions) -> list[Item]:
    items = []
    for situation in payload.iterfind("sit:situation", NS):
        overall = situation.findtext("sit:overallSeverity", namespaces=NS) or ""
        for record in situation.iterfind("sit:situationRecord", NS):
            try:
                items.append(_record_item(record, overall.strip(), options))
            except _Unusable as err:
                logger.warning("datex2 record skipped id=%s: %s", record.get("id"), err)
    return items


def _record_item(record: etree._Element, overall_severity: str, options: ParseOptions) -> Item:
    record_id = (record.get("id") or "").strip()
    if not record_id:
        raise _Unusable("situationRecord without an id")
    record_type = _xsi_type(record)[1]
    comment = _multilingual(record.find("sit:generalPublicComment", NS), options.language)
    road = _multilingual(record.find(".//loc:roadName", NS), options.language)
    severity = (record.findtext("sit:severity", namespaces=NS) or overall_severity).strip()
    extra = _record_extra(record, record_type)
    valid_from, valid_until = _validity(_child_or_self(record, "sit:validity"))
    return Item(
        kind=ItemKind.TRAFFIC,
        external_id=record_id,
        title=road or comment or record_type or record_id,
        body=comment,
        location=_location(_child_or_self(record, "sit:locationReference"), extra),
        observed_at=_time(record, "sit:situationRecordVersionTime"),
        valid_from=valid_from,
        valid_until=valid_until,
        severity=_SEVERITY.get(severity, "Unknown" if severity else ""),
        extra=extra,
    )


_RECORD_DETAILS = ("roadMaintenanceType", "roadOrCarriagewayOrLaneManagementType", "validityStatus")


def _record_extra(record: etree._Element, record_type: str) -> dict[str, str]:
    extra = {"record_type": record_type}
    for name in _RECORD_DETAILS:
        found = record.xpath(f".//*[local-name()='{name}']")
        if found and isinstance(found[0], etree._Element) and (found[0].text or "").strip():
            extra[name] = found[0].text.strip()
    return extra


# --- traffic regulations (DiaLog) --------------------------------------------------------------


def _regulation_items(payload: etree._Element, options: ParseOptions) -> list[Item]:
    items = []
    orders = payload.iterfind(
        "tro:trafficRegulationsFromCompetentAuthorities/tro:trafficRegulationOrder", NS
    )
    for order in orders:
        for number, regulation in enumerate(order.iterfind("tro:trafficRegulation", NS), 1):
            try:
                item = _regulation_item(order, regulation, number, options)
            except _Unusable as err:
                logger.warning("datex2 regulation skipped order=%s: %s", order.get("id"), err)
                continue
            if item is not None:
                items.append(item)
    return items


def _regulation_item(
    order: etree._Element, regulation: etree._Element, number: int, options: ParseOptions
) -> Item | None:
    order_id = (order.get("id") or order.findtext("tro:regulationId", namespaces=NS) or "").strip()
    status = (regulation.findtext("tro:status", namespaces=NS) or "").strip()
    if not order_id or status == "inactive":
        return None
    description = _multilingual(order.find("tro:description", NS), options.language)
    authority = _multilingual(order.find("tro:issuingAuthority", NS), options.language)
    extra = _regulation_extra(order, regulation, status)
    valid_from, valid_until = _validity(regulation)
    return Item(
        kind=ItemKind.TRAFFIC,
        external_id=f"{order_id}#{number}",
        title=description or authority or order_id,
        body=authority,
        location=_location(regulation, extra),
        valid_from=valid_from,
        valid_until=valid_until,
        extra=extra,
    )


def _regulation_extra(
    order: etree._Element, regulation: etree._Element, status: str
) -> dict[str, str]:
    extra = {"order_status": (order.findtext("tro:status", namespaces=NS) or "").strip()}
    extra["status"] = status
    kind = regulation.find("tro:typeOfRegulation", NS)
    if kind is not None:
        extra["regulation_type"] = _xsi_type(kind)[1]
        details = [_collapsed(child.text) for child in kind if isinstance(child.tag, str)]
        extra["restriction"] = " ".join(detail for detail in details if detail)
    days = regulation.findall(".//com:exceptionPeriod//com:applicableDay", NS)
    days += regulation.findall(".//com:exceptionPeriod//com:specialDayType", NS)
    if days:
        extra["except"] = " ".join(_collapsed(day.text) for day in days)
    return {key: value for key, value in extra.items() if value}
