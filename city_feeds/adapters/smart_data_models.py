"""FIWARE Smart Data Models entities as items (pure; shared by the NGSI-LD and NGSIv2 adapters).

Each NGSI adapter flattens its own wire form (NGSI-LD Property/GeoProperty/Relationship, NGSIv2
normalized ``{"value", "type", "metadata"}``, or keyValues) into an ``Entity`` of plain values;
this module turns an entity of a known type into an ``Item``:

- ``OffStreetParking``: ``free_spaces`` (``availableSpotNumber``, required), ``total_spaces``;
- ``ParkingSpot``: ``status`` (free, occupied, closed, unknown; required) and ``free_spaces`` 1/0;
- ``WeatherObserved`` / ``WeatherForecast``: ``temperature`` (Cel), ``relative_humidity`` (%, the
  models' 0..1 fraction turned into a percentage), ``wind_speed`` (m/s), ``precipitation`` (mm),
  ``weather_type``; a forecast adds ``temperature_min``/``temperature_max`` (``dayMinimum``/
  ``dayMaximum``) and its validity (``validFrom``/``validTo``);
- ``AirQualityObserved``: ``no2``, ``pm10``, ``pm25``, ``o3`` (ug/m3; mg/m3 unit codes converted,
  unknown unit codes dropped), ``aqi``; the keyValues example's ``co2`` is never read as ``no2``;
- ``TrafficFlowObserved``: ``intensity``, ``average_speed`` (km/h), ``congested`` (1/0);
- ``WeatherAlert``: an ``ALERT`` item with the models' severity mapped to CAP's scale.

Entities of any other type are skipped. An entity whose identifier is missing, whose required
value is missing, or any of whose read attributes has the wrong type (a string where a number is
expected, an unreadable date, a malformed GeoJSON) is skipped too, with the reason logged: one bad
sensor never hides the others. Times without a zone are UTC (the models' examples omit it);
``observed_at`` is ``dateObserved`` (the end of an interval), else the main attribute's
``observedAt``, else ``dateModified``/``modifiedAt``. GeoJSON is ``[lon, lat]``; ``Item.location``
is ``(lat, lon)``: a point as is, a line or polygon by the mean of its vertices.
"""

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from city_feeds.adapters.common import parse_time
from city_feeds.items import AlertFacts, Area, FeedError, Item, ItemKind, Value

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entity:
    """One entity with plain attribute values, whatever its wire form."""

    id: str
    type: str
    attrs: dict[str, Any]
    observed_at: dict[str, Any] = field(default_factory=dict)  # attribute -> its observedAt
    unit_codes: dict[str, str] = field(default_factory=dict)  # attribute -> its unitCode


class Unusable(Exception):
    """This entity cannot be used (the reason is logged, the entity skipped)."""


def entity_type_name(value: object) -> str:
    """The short type name of an entity (``OffStreetParking`` from an expanded URI too)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    if not isinstance(value, str):
        return ""
    for separator in ("#", "/", ":"):
        value = value.rsplit(separator, 1)[-1]
    return value


def items_from_entities(entities: list[Entity]) -> list[Item]:
    """The items of the entities of known types, bad entities skipped."""
    items = []
    for entity in entities:
        builder = _BUILDERS.get(entity.type)
        if builder is None:
            logger.debug("ngsi entity skipped (unknown type) id=%s type=%s", entity.id, entity.type)
            continue
        try:
            items.append(builder(entity))
        except Unusable as err:
            logger.warning("ngsi entity skipped id=%s type=%s: %s", entity.id, entity.type, err)
    return items


# --- readers: each raises Unusable on a wrong type, returns None when absent ------------------


def _number(entity: Entity, name: str) -> float | int | None:
    value = entity.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Unusable(f"{name} is not a number: {value!r:.40}")
    return value


def _count(entity: Entity, name: str) -> int | None:
    value = _number(entity, name)
    if value is None:
        return None
    if value < 0 or value != int(value):
        raise Unusable(f"{name} is not a count: {value!r}")
    return int(value)


def _text(entity: Entity, name: str) -> str | None:
    value = entity.attrs.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unusable(f"{name} is not text: {value!r:.40}")
    return value.strip()


def _time(entity: Entity, name: str) -> dt.datetime | None:
    value = entity.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, str) and "/" in value:  # an ISO 8601 interval: its end
        value = value.rsplit("/", 1)[-1]
    try:
        return parse_time(value)
    except FeedError as err:
        raise Unusable(f"{name}: {err}") from err


def _observed_at(entity: Entity, main: str) -> dt.datetime | None:
    if (moment := _time(entity, "dateObserved")) is not None:
        return moment
    if main in entity.observed_at:
        try:
            return parse_time(entity.observed_at[main])
        except FeedError as err:
            raise Unusable(f"{main}.observedAt: {err}") from err
    return _time(entity, "dateModified") or _time(entity, "modifiedAt")


def _coordinate(pair: object) -> tuple[float, float]:
    if not isinstance(pair, list | tuple) or len(pair) < 2:
        raise Unusable(f"not a GeoJSON position: {pair!r:.40}")
    lon, lat = pair[0], pair[1]
    for number in (lon, lat):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise Unusable(f"not a GeoJSON position: {pair!r:.40}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Unusable(f"position out of range: {pair!r:.40}")
    return float(lat), float(lon)


def _location(entity: Entity) -> tuple[float, float] | None:
    geometry = entity.attrs.get("location")
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        raise Unusable("location is not GeoJSON")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return _coordinate(coordinates)
    if kind == "LineString" and isinstance(coordinates, list) and coordinates:
        points = [_coordinate(pair) for pair in coordinates]
    elif kind == "Polygon" and isinstance(coordinates, list) and coordinates:
        ring = coordinates[0] if isinstance(coordinates[0], list) else []
        points = [_coordinate(pair) for pair in ring[:-1] or ring]
    else:
        raise Unusable(f"location is not a usable GeoJSON geometry: {kind!r:.40}")
    if not points:
        raise Unusable("location has no positions")
    return (
        round(sum(p[0] for p in points) / len(points), 7),
        round(sum(p[1] for p in points) / len(points), 7),
    )


def _address_part(entity: Entity, part: str) -> str:
    address = entity.attrs.get("address")
    value = address.get(part) if isinstance(address, dict) else None
    return value.strip() if isinstance(value, str) else ""


def _title(entity: Entity, *address_parts: str) -> str:
    name = _text(entity, "name")
    if name:
        return name
    for part in address_parts:
        if value := _address_part(entity, part):
            return value
    return entity.id


def _values(*values: Value | None) -> tuple[Value, ...]:
    return tuple(value for value in values if value is not None)


def _value(name: str, number: float | int | str | None, unit: str = "") -> Value | None:
    return None if number is None else Value(name, number, unit)


def _item(entity: Entity, kind: ItemKind, title: str, **fields: Any) -> Item:
    return Item(
        kind=kind,
        external_id=entity.id,
        title=title,
        location=_location(entity),
        extra={"entity_type": entity.type},
        **fields,
    )


# --- parking -----------------------------------------------------------------------------------


def _off_street_parking(entity: Entity) -> Item:
    free = _count(entity, "availableSpotNumber")
    if free is None:
        raise Unusable("no availableSpotNumber")
    total = _count(entity, "totalSpotNumber")
    if total is not None and total < free:
        logger.warning("ngsi parking id=%s: total %s below free %s", entity.id, total, free)
        total = None
    return _item(
        entity,
        ItemKind.PARKING,
        _title(entity),
        values=_values(Value("free_spaces", free), _value("total_spaces", total)),
        observed_at=_observed_at(entity, "availableSpotNumber"),
    )


_SPOT_STATUSES = {"free", "occupied", "closed", "unknown"}


def _parking_spot(entity: Entity) -> Item:
    status = _text(entity, "status")
    if status not in _SPOT_STATUSES:
        raise Unusable(f"status is not one of {sorted(_SPOT_STATUSES)}: {status!r:.40}")
    return _item(
        entity,
        ItemKind.PARKING,
        _title(entity),
        values=(Value("status", status), Value("free_spaces", 1 if status == "free" else 0)),
        observed_at=_observed_at(entity, "status"),
    )


# --- weather -----------------------------------------------------------------------------------


def _percent(fraction: float | int | None) -> float | None:
    """The models give relative humidity as a 0..1 fraction; some sources send percents."""
    if fraction is None:
        return None
    if not 0 <= fraction <= 100:
        raise Unusable(f"relativeHumidity out of range: {fraction!r}")
    return round(fraction * 100 if fraction <= 1 else fraction, 1)


def _weather_values(entity: Entity) -> list[Value | None]:
    return [
        _value("temperature", _number(entity, "temperature"), "Cel"),
        _value("relative_humidity", _percent(_number(entity, "relativeHumidity")), "%"),
        _value("wind_speed", _number(entity, "windSpeed"), "m/s"),
        _value("precipitation", _number(entity, "precipitation"), "mm"),
        _value("weather_type", _text(entity, "weatherType") or None),
    ]


def _weather_observed(entity: Entity) -> Item:
    values = _values(*_weather_values(entity))
    if not values:
        raise Unusable("no weather value")
    return _item(
        entity,
        ItemKind.WEATHER,
        _title(entity, "addressLocality"),
        values=values,
        observed_at=_observed_at(entity, "temperature"),
    )


def _day_temperature(entity: Entity, name: str) -> float | int | None:
    day = entity.attrs.get(name)
    if day is None:
        return None
    if not isinstance(day, dict):
        raise Unusable(f"{name} is not an object")
    return _number(Entity(entity.id, entity.type, day), "temperature")


def _weather_forecast(entity: Entity) -> Item:
    values = _values(
        *_weather_values(entity),
        _value("temperature_min", _day_temperature(entity, "dayMinimum"), "Cel"),
        _value("temperature_max", _day_temperature(entity, "dayMaximum"), "Cel"),
    )
    if not values:
        raise Unusable("no forecast value")
    return _item(
        entity,
        ItemKind.WEATHER,
        _title(entity, "addressLocality"),
        values=values,
        observed_at=_observed_at(entity, "temperature") or _time(entity, "dateIssued"),
        valid_from=_time(entity, "validFrom"),
        valid_until=_time(entity, "validTo"),
    )


# --- air quality -------------------------------------------------------------------------------

_POLLUTANTS = ("no2", "pm10", "pm25", "o3")
_TO_MICROGRAMS = {"GQ": 1, "GP": 1000}  # UN/CEFACT: GQ ug/m3, GP mg/m3


def _pollutant(entity: Entity, name: str) -> Value | None:
    amount = _number(entity, name)
    if amount is None:
        return None
    unit_code = entity.unit_codes.get(name, "GQ")
    if unit_code not in _TO_MICROGRAMS:
        logger.warning("ngsi air id=%s: %s in unknown unit %s dropped", entity.id, name, unit_code)
        return None
    return Value(name, round(amount * _TO_MICROGRAMS[unit_code], 3), "ug/m3")


def _air_quality_observed(entity: Entity) -> Item:
    values = _values(
        *(_pollutant(entity, name) for name in _POLLUTANTS),
        _value("aqi", _number(entity, "airQualityIndex")),
        _value("air_quality_level", _text(entity, "airQualityLevel") or None),
    )
    if not values:
        raise Unusable("no air quality value")
    return _item(
        entity,
        ItemKind.AIR,
        _title(entity, "streetAddress", "addressLocality"),
        values=values,
        observed_at=_observed_at(entity, "airQualityIndex"),
    )


# --- traffic -----------------------------------------------------------------------------------


def _congested(entity: Entity) -> Value | None:
    value = entity.attrs.get("congested")
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Unusable(f"congested is not a boolean: {value!r:.40}")
    return Value("congested", int(value))


def _traffic_flow_observed(entity: Entity) -> Item:
    values = _values(
        _value("intensity", _count(entity, "intensity")),
        _value("average_speed", _number(entity, "averageVehicleSpeed"), "km/h"),
        _congested(entity),
    )
    if not values:
        raise Unusable("no traffic value")
    return _item(
        entity,
        ItemKind.TRAFFIC,
        _title(entity, "streetAddress", "addressLocality"),
        values=values,
        observed_at=_observed_at(entity, "intensity"),
    )


# --- weather alerts ----------------------------------------------------------------------------

_ALERT_SEVERITY = {
    "informational": "Minor",
    "green": "Minor",
    "low": "Minor",
    "yellow": "Moderate",
    "medium": "Moderate",
    "orange": "Severe",
    "high": "Severe",
    "red": "Extreme",
    "critical": "Extreme",
}


def _weather_alert(entity: Entity) -> Item:
    severity = _ALERT_SEVERITY.get((_text(entity, "severity") or "").lower(), "Unknown")
    event = (_text(entity, "subCategory") or _text(entity, "category") or "").replace("_", " ")
    issued = _time(entity, "dateIssued")
    valid_from = _time(entity, "validFrom")
    region = _address_part(entity, "addressRegion") or _address_part(entity, "addressLocality")
    sent = issued or valid_from
    facts = None
    if sent is not None:  # CAP-like facts need the time it was sent
        facts = AlertFacts(
            identifier=entity.id,
            sender=_text(entity, "alertSource") or "",
            sent=sent,
            status="Actual",
            msg_type="Alert",
            event=event,
            areas=(Area(description=region),) if region else (),
        )
    return _item(
        entity,
        ItemKind.ALERT,
        _text(entity, "name") or _text(entity, "description") or event or entity.id,
        body=_text(entity, "description") or "",
        observed_at=issued,
        valid_from=valid_from,
        valid_until=_time(entity, "validTo"),
        severity=severity,
        alert=facts,
    )


_BUILDERS: dict[str, Callable[[Entity], Item]] = {
    "OffStreetParking": _off_street_parking,
    "ParkingSpot": _parking_spot,
    "WeatherObserved": _weather_observed,
    "WeatherForecast": _weather_forecast,
    "AirQualityObserved": _air_quality_observed,
    "TrafficFlowObserved": _traffic_flow_observed,
    "WeatherAlert": _weather_alert,
}
