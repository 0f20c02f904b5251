"""What every adapter makes of a payload: normalised items (pure; no Django).

An adapter is a pure function ``parse(data: bytes, *, options) -> list[Item]`` of one standard
(``city_feeds/adapters/<standard>.py``). It never trusts its input: a payload it cannot read
raises ``FeedError`` with a reason fit for the source's health line; an entity it cannot use is
skipped. Times are aware (UTC when the payload gives no zone), values carry their units.
"""

import datetime as dt
import enum
from dataclasses import dataclass, field


class FeedError(ValueError):
    """The payload cannot be read (malformed, hostile, too large, wrong types)."""


# ``Item.extra["origin"]`` of an item made from a resident's approved post (``cms``).
ORIGIN_RESIDENT_POST = "resident_post"


class ItemKind(enum.StrEnum):
    WEATHER = "weather"
    PARKING = "parking"
    AIR = "air"
    TRAFFIC = "traffic"
    EVENT = "event"
    TRANSPORT = "transport"
    ALERT = "alert"
    CITIZEN_REPORT = "citizen_report"
    ENERGY = "energy"
    NEWS = "news"


@dataclass(frozen=True)
class Value:
    """One measured or counted value: ``name`` is a stable key (``free_spaces``,
    ``temperature``, ``aqi``...), ``unit`` a UCUM-like symbol (``Cel``, ``%``, ``ug/m3``)."""

    name: str
    value: float | int | str
    unit: str = ""


@dataclass(frozen=True)
class Area:
    """Where an alert applies: geocodes as (valueName, value) pairs, polygons as (lat, lon)
    rings (CAP's axis order), circles as ((lat, lon), radius in km)."""

    description: str = ""
    geocodes: tuple[tuple[str, str], ...] = ()
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[tuple[tuple[float, float], float], ...] = ()


@dataclass(frozen=True)
class AlertFacts:
    """What a CAP alert (or a source mapped to it) says beyond an item's common fields."""

    identifier: str
    sender: str
    sent: dt.datetime
    status: str  # Actual, Exercise, System, Test, Draft
    msg_type: str  # Alert, Update, Cancel, Ack, Error
    urgency: str = "Unknown"
    certainty: str = "Unknown"
    event: str = ""
    instruction: str = ""
    language: str = ""
    references: tuple[str, ...] = ()  # identifiers of the alerts it updates or cancels
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    external_id: str  # stable within the source: upsert and de-duplicate by it
    title: str
    body: str = ""
    values: tuple[Value, ...] = ()
    location: tuple[float, float] | None = None  # (lat, lon)
    observed_at: dt.datetime | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    severity: str = ""  # CAP's scale: Extreme, Severe, Moderate, Minor, Unknown
    alert: AlertFacts | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseOptions:
    """What an adapter may need from its source besides the payload: the kind of its items
    (generic JSON, RSS), the field mapping (generic JSON), the language preferred among several
    (CAP's ``info`` blocks), the instant "now" (iCalendar windows), limits."""

    item_kind: str = ""
    field_mapping: dict[str, str] = field(default_factory=dict)
    language: str = "fr"
    now: dt.datetime | None = None
    max_bytes: int = 5 * 1024 * 1024
