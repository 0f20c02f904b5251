"""FIWARE NGSIv2 payloads (pure): one entity, a list of entities (a query's answer, normalized
or ``options=keyValues``), or an Orion notification ``{"subscriptionId": ..., "data": [...]}``.

A normalized attribute is ``{"value": ..., "type": ..., "metadata": {...}}``: its value is
taken, ``geo:point`` (``"lat, lon"``) becomes a GeoJSON point, and the ``TimeInstant`` metadata
(an IoT Agent's observation time) stands for NGSI-LD's ``observedAt``. The entities become items
in ``city_feeds.adapters.smart_data_models`` (which types, which values, what is skipped).
A payload that is not JSON, too large, or neither an entity, a list nor a notification raises
``FeedError``; a bad entity inside is skipped.
"""

from typing import Any

from city_feeds.adapters.common import load_json
from city_feeds.adapters.smart_data_models import Entity, entity_type_name, items_from_entities
from city_feeds.items import FeedError, Item, ParseOptions

_NORMALIZED_KEYS = {"value", "type", "metadata"}


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    return items_from_entities(
        [entity for raw in _raw_entities(load_json(data, options)) if (entity := _entity(raw))]
    )


def _raw_entities(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and "subscriptionId" in document:
        entities = document.get("data")
        if not isinstance(entities, list):
            raise FeedError("Orion notification without a data list")
        return entities
    if isinstance(document, dict) and "id" in document and "type" in document:
        return [document]
    raise FeedError("not an NGSIv2 entity, entity list or Orion notification")


def _entity(raw: Any) -> Entity | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"].strip():
        return None
    attrs: dict[str, Any] = {}
    observed_at: dict[str, Any] = {}
    for name, attribute in raw.items():
        if name in ("id", "type"):
            continue
        if _is_normalized(attribute):
            attrs[name] = _value(attribute)
            instant = _metadata_value(attribute, "TimeInstant")
            if instant is not None:
                observed_at[name] = instant
        else:
            attrs[name] = attribute
    return Entity(raw["id"].strip(), entity_type_name(raw.get("type")), attrs, observed_at)


def _is_normalized(attribute: Any) -> bool:
    return (
        isinstance(attribute, dict)
        and "value" in attribute
        and attribute.keys() <= _NORMALIZED_KEYS
    )


def _metadata_value(attribute: dict[str, Any], name: str) -> Any:
    metadata = attribute.get("metadata")
    entry = metadata.get(name) if isinstance(metadata, dict) else None
    return entry.get("value") if isinstance(entry, dict) else None


def _value(attribute: dict[str, Any]) -> Any:
    value = attribute["value"]
    if attribute.get("type") == "geo:point" and isinstance(value, str):
        return _geo_point(value)
    return value


def _geo_point(text: str) -> Any:
    """NGSIv2's ``"lat, lon"`` as GeoJSON (``[lon, lat]``); left as text when unreadable (the
    entity is then skipped as having a malformed location)."""
    parts = text.split(",")
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        return text
    return {"type": "Point", "coordinates": [lon, lat]}
