"""Generic JSON (or CSV) read through a field mapping set by an editor → items of the source's
kind (``options.item_kind``, required).

The mapping (``options.field_mapping``) names where each field of an item is found:

- ``"items"``: the dotted path of the list of items (``"results"`` for Opendatasoft Explore
  v2.1); ``""`` makes the root object one item (Open-Meteo); absent, a root list is the list of
  items and a root object is one item.
- ``"id"``, ``"title"``, ``"body"``, ``"severity"``, ``"lat"``, ``"lon"``, ``"observed_at"``,
  ``"valid_from"``, ``"valid_until"``, ``"value:<name>"``, ``"extra:<name>"``: a dotted path
  inside an item (``"geo_point_2d.lat"``, ``"current.temperature_2m"``; a number steps into a
  list), or a literal when it starts with ``=`` (``"title": "=Météo à Chartres"``).
- ``"unit:<name>"``: the unit (literal) of value ``<name>``.
- ``"timezone"``: the zone of times written without one (default UTC; Open-Meteo answers in
  the zone it was asked for).
- ``"format": "csv"`` reads a CSV export instead (header row; ``"delimiter"``, default ``,``;
  UTF-8 or Windows-1252; a decimal comma is accepted): paths are then column names.

An item without an id gets its position as id (fine for a single-object payload); one without a
title gets its id. A value that is missing, not finite, or not a number or short text is left
out; an item that is not an object is skipped. Times are ISO 8601 strings or POSIX seconds.
A payload that cannot be read, or whose ``items`` path does not lead to a list or an object,
raises ``FeedError``; so does a mapping that is not text to text.
"""

import csv
import datetime as dt
import io
import math
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from city_feeds.adapters.common import check_size, item_kind, load_json
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions, Value

TEXT_VALUE_CHARS = 200
NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
ITEM_FIELDS = ("id", "title", "body", "severity", "lat", "lon")


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    kind = item_kind(options)
    mapping = _mapping(options.field_mapping)
    is_csv = mapping.get("format", "json").lower() == "csv"
    if is_csv:
        records: list[Any] = _csv_records(data, options, mapping.get("delimiter") or ",")
    else:
        records = _json_records(load_json(data, options), mapping)
    reader = _Reader(mapping, split_paths=not is_csv)
    items = (reader.item(kind, index, record) for index, record in enumerate(records))
    return [item for item in items if item is not None]


def _mapping(mapping: object) -> dict[str, str]:
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        raise FeedError("the field mapping must map names to paths (text to text)")
    return mapping


def _json_records(document: Any, mapping: dict[str, str]) -> list[Any]:
    if "items" not in mapping:
        return document if isinstance(document, list) else [document]
    found = _lookup(document, mapping["items"], split=True) if mapping["items"] else document
    if isinstance(found, list):
        return found
    if isinstance(found, dict):
        return [found]
    raise FeedError(f"no list of items at {mapping['items']!r:.80}")


def _csv_records(data: bytes, options: ParseOptions, delimiter: str) -> list[dict[str, str]]:
    check_size(data, options)
    if len(delimiter) != 1:
        raise FeedError("the CSV delimiter must be one character")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_windows_1252(data)
    try:
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise FeedError(f"malformed CSV: {err}") from err


def _decode_windows_1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as err:
        raise FeedError("CSV is neither UTF-8 nor Windows-1252") from err


def _lookup(record: Any, path: str, *, split: bool) -> Any:
    """The value at a dotted ``path`` in nested objects and lists (``None`` when absent)."""
    current = record
    for step in path.split(".") if split else [path]:
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


class _Reader:
    """Reads items out of records with one mapping."""

    def __init__(self, mapping: dict[str, str], *, split_paths: bool) -> None:
        self.mapping = mapping
        self.split_paths = split_paths
        self.zone = _zone(mapping.get("timezone", ""))

    def item(self, kind: ItemKind, index: int, record: Any) -> Item | None:
        if not isinstance(record, dict):
            return None
        fields = {name: _text(self.field(record, name)) for name in ITEM_FIELDS}
        external_id = fields["id"] or str(index)
        return Item(
            kind=kind,
            external_id=external_id,
            title=fields["title"] or external_id,
            body=fields["body"],
            values=self.values(record),
            location=_location(_number(fields["lat"]), _number(fields["lon"])),
            severity=fields["severity"],
            observed_at=self.time(record, "observed_at"),
            valid_from=self.time(record, "valid_from"),
            valid_until=self.time(record, "valid_until"),
            extra=self.extras(record),
        )

    def field(self, record: dict[str, Any], name: str) -> Any:
        path = self.mapping.get(name)
        if not path:
            return None
        if path.startswith("="):
            return path[1:]
        return _lookup(record, path, split=self.split_paths)

    def time(self, record: dict[str, Any], name: str) -> dt.datetime | None:
        return _time(self.field(record, name), self.zone)

    def values(self, record: dict[str, Any]) -> tuple[Value, ...]:
        values = []
        for key in self.mapping:
            name = key.removeprefix("value:")
            if key.startswith("value:") and name:
                value = _value(self.field(record, key))
                if value is not None:
                    values.append(Value(name, value, self.mapping.get(f"unit:{name}", "")))
        return tuple(values)

    def extras(self, record: dict[str, Any]) -> dict[str, str]:
        extra = {}
        for key in self.mapping:
            name = key.removeprefix("extra:")
            if key.startswith("extra:") and name:
                text = _text(self.field(record, key))
                if text:
                    extra[name] = text
        return extra


def _zone(name: str) -> dt.tzinfo:
    if not name:
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise FeedError(f"unknown time zone in the field mapping: {name!r:.40}") from err


def _text(value: Any) -> str:
    """Text of a scalar (numbers written plainly); nothing for objects, lists and booleans."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value) if math.isfinite(value) else ""
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> float | int | None:
    """A finite number from a JSON number or a numeric text (decimal point or comma)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        text = value.strip().replace(",", ".")
        try:
            value = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:  # more digits than Python converts
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    return None


def _value(value: Any) -> float | int | str | None:
    number = _number(value)
    if number is not None:
        return number
    text = _text(value)
    return text if text and len(text) <= TEXT_VALUE_CHARS else None


def _location(lat: float | int | None, lon: float | int | None) -> tuple[float, float] | None:
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return (float(lat), float(lon))


def _time(value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """An aware UTC time from ISO 8601 text (``zone`` when it has none) or POSIX seconds."""
    number = None if isinstance(value, str) else _number(value)
    try:
        if number is not None:
            return dt.datetime.fromtimestamp(number, tz=dt.UTC)
        if not isinstance(value, str) or not value.strip():
            return None
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)
