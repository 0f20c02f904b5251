"""ETSI NGSI-LD payloads (pure): one entity, a list of entities (a query's answer), or a
notification ``{"type": "Notification", "data": [...]}`` (a subscription's push).

Attributes may be normalized (``{"type": "Property", "value": ..., "observedAt": ...}``,
``GeoProperty``, ``Relationship``), concise (``{"value": ...}``) or plain (keyValues); JSON-LD
typed values (``{"@type": "DateTime", "@value": ...}``) are unwrapped. The entities become items
in ``city_feeds.adapters.smart_data_models`` (which types, which values, what is skipped).
A payload that is not JSON, too large, or neither an entity, a list nor a notification raises
``FeedError``; a bad entity inside is skipped.
"""

from typing import Any

from city_feeds.adapters.common import load_json
from city_feeds.adapters.smart_data_models import Entity, entity_type_name, items_from_entities
from city_feeds.items import FeedError, Item, ParseOptions

_NOT_ATTRIBUTES = {"id", "type", "@context", "scope", "createdAt", "deletedAt"}


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    return items_from_entities(
        [entity for raw in _raw_entities(load_json(data, options)) if (entity := _entity(raw))]
    )


def _raw_entities(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and document.get("type") == "Notification":
        entities = document.get("data")
        if not isinstance(entities, list):
            raise FeedError("NGSI-LD notification without a data list")
        return entities
    if isinstance(document, dict) and "id" in document and "type" in document:
        return [document]
    raise FeedError("not an NGSI-LD entity, entity list or notification")


def _entity(raw: Any) -> Entity | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"].strip():
        return None
    attrs: dict[str, Any] = {}
    observed_at: dict[str, Any] = {}
    unit_codes: dict[str, str] = {}
    for name, attribute in raw.items():
        if name in _NOT_ATTRIBUTES:
            continue
        if isinstance(attribute, list) and attribute and _is_attribute(attribute[0]):
            attribute = attribute[0]  # a multi-attribute (datasetId): its first instance
        attrs[name] = _value(attribute)
        if isinstance(attribute, dict) and _is_attribute(attribute):
            if "observedAt" in attribute:
                observed_at[name] = attribute["observedAt"]
            if isinstance(attribute.get("unitCode"), str):
                unit_codes[name] = attribute["unitCode"]
    return Entity(
        raw["id"].strip(), entity_type_name(raw.get("type")), attrs, observed_at, unit_codes
    )


_ATTRIBUTE_TYPES = {"Property", "GeoProperty", "Relationship", "LanguageProperty", "JsonProperty"}


def _is_attribute(attribute: Any) -> bool:
    if not isinstance(attribute, dict):
        return False
    kind = attribute.get("type")
    return kind in _ATTRIBUTE_TYPES or (
        kind is None and ("value" in attribute or "object" in attribute)
    )


def _value(attribute: Any) -> Any:
    if _is_attribute(attribute):
        kind = attribute.get("type")
        if kind == "Relationship" or "object" in attribute:
            attribute = attribute.get("object")
        elif kind == "LanguageProperty":
            attribute = attribute.get("languageMap")
        elif kind == "JsonProperty":
            attribute = attribute.get("json")
        else:
            attribute = attribute.get("value")
    if isinstance(attribute, dict) and "@value" in attribute:
        return attribute["@value"]
    return attribute
