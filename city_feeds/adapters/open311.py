"""Open311 GeoReport v2 service requests (JSON or XML) → citizen report items.

Each request becomes one ``Item`` of kind CITIZEN_REPORT: ``external_id`` its
``service_request_id``, ``title`` its ``service_name`` (else its ``service_code``), ``body`` its
``description``, ``location`` its ``lat``/``long``, ``valid_from`` its ``requested_datetime`` and
``observed_at`` its ``updated_datetime`` (else the requested one); ``extra`` holds ``status``
(``open``/``closed``), the public ``address`` string, ``service_code``, ``status_notes``,
``agency_responsible`` and ``expected_datetime``.

Personal data never pass: fields are read from an allow-list (``KEPT``), so a server that
sends the reporter's name, e-mail, phone, account or device id, an ``address_id`` or a
``media_url`` (a resident's photo) has them dropped here. Free texts (description, notes) still
go through the editors' approval before anything airs.

A request without an id or any title is skipped; a field of the wrong type is ignored. A
payload that is neither a list of requests (JSON, optionally as ``{"service_requests": [...]}``)
nor a ``<service_requests>`` document raises ``FeedError``.
"""

import datetime as dt
from typing import Any

from city_feeds.adapters.common import load_json, parse_time_or_none, parse_xml
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions

KEPT = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "lat",
    "long",
)
EXTRA = ("address", "service_code", "status_notes", "agency_responsible", "expected_datetime")
STATUSES = {"open", "closed"}


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    requests = _xml_requests(data, options) if _is_xml(data) else _json_requests(data, options)
    items = (_item(_public_fields(request)) for request in requests)
    return [item for item in items if item is not None]


def _is_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _json_requests(data: bytes, options: ParseOptions) -> list[Any]:
    document = load_json(data, options)
    if isinstance(document, dict) and "service_requests" in document:
        document = document["service_requests"]
    if not isinstance(document, list):
        raise FeedError("Open311: expected a list of service requests")
    return [request for request in document if isinstance(request, dict)]


def _xml_requests(data: bytes, options: ParseOptions) -> list[dict[str, str]]:
    root = parse_xml(data, options)
    if root.tag != "service_requests":
        raise FeedError(f"Open311: expected <service_requests>, got <{root.tag!s:.40}>")
    return [
        {str(field.tag): (field.text or "").strip() for field in request if len(field) == 0}
        for request in root.iterfind("request")
    ]


def _public_fields(request: dict[str, Any]) -> dict[str, str]:
    """The allow-listed fields, as stripped strings (numbers accepted, other types dropped)."""
    public = {}
    for name in KEPT:
        value = request.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            public[name] = value.strip()
    return public


def _item(fields: dict[str, str]) -> Item | None:
    external_id = fields.get("service_request_id", "")
    title = fields.get("service_name") or fields.get("service_code", "")
    if not external_id or not title:
        return None
    requested = _utc(fields.get("requested_datetime"))
    extra = {name: fields[name] for name in EXTRA if name in fields}
    status = fields.get("status", "").lower()
    if status in STATUSES:
        extra["status"] = status
    return Item(
        kind=ItemKind.CITIZEN_REPORT,
        external_id=external_id,
        title=title,
        body=fields.get("description", ""),
        location=_location(fields.get("lat"), fields.get("long")),
        observed_at=_utc(fields.get("updated_datetime")) or requested,
        valid_from=requested,
        extra=extra,
    )


def _utc(value: str | None) -> dt.datetime | None:
    moment = parse_time_or_none(value)
    return moment.astimezone(dt.UTC) if moment else None


def _location(lat: str | None, lon: str | None) -> tuple[float, float] | None:
    try:
        latitude, longitude = float(lat or "nan"), float(lon or "nan")
    except ValueError:
        return None
    if not (abs(latitude) <= 90 and abs(longitude) <= 180):  # also refuses NaN
        return None
    return (latitude, longitude)
