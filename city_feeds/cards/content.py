"""What each information card says, from the city's fresh items (pure: no queries, no clock).

A card is a title and at most ``MAX_LINES`` lines, each a label and an optional value
("Cathédrale : 117 places libres"), plus the instant its data stop being true (the earliest end
of the items it shows: the card is withdrawn then) and the latest observation it shows. One
builder per card category (``playlists.CardCategory`` values, plus ``MAP``); each takes the
fresh items of the kinds ``KINDS`` lists for it and returns ``None`` when it has nothing to say.
Citizen reports are shown only once approved, by their service name and public address: never a
person's name, contact or free text.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from city_feeds.cards.typography import PARIS, hour, kilometres_per_hour, labelled, quantity
from city_feeds.items import ORIGIN_RESIDENT_POST, ItemKind
from city_feeds.models import FeedItem, ReviewState
from playlists.models import CardCategory

MAX_LINES = 6
MAP = "map"  # the map card's category (not yet a ``CardCategory`` choice)
KINDS: dict[str, frozenset[str]] = {
    CardCategory.PARKING: frozenset({ItemKind.PARKING}),
    CardCategory.WEATHER: frozenset({ItemKind.WEATHER}),
    CardCategory.AIR_QUALITY: frozenset({ItemKind.AIR}),
    CardCategory.TRAFFIC: frozenset({ItemKind.TRAFFIC, ItemKind.TRANSPORT}),
    CardCategory.EVENTS: frozenset({ItemKind.EVENT}),
    CardCategory.CITY_NEWS: frozenset({ItemKind.CITIZEN_REPORT, ItemKind.ENERGY, ItemKind.NEWS}),
    MAP: frozenset(
        {ItemKind.PARKING, ItemKind.TRAFFIC, ItemKind.TRANSPORT, ItemKind.CITIZEN_REPORT}
    ),
}
SEVERITY_ORDER = {"Extreme": 0, "Severe": 1, "Moderate": 2, "Minor": 3}


@dataclass(frozen=True)
class CardLine:
    label: str
    value: str = ""

    @property
    def text(self) -> str:
        return labelled(self.label, self.value) if self.value else self.label


@dataclass(frozen=True)
class CardContent:
    category: str
    title: str
    lines: tuple[CardLine, ...]
    expires_at: dt.datetime  # the card is withdrawn then
    updated_at: dt.datetime | None = None  # the latest observation shown

    @property
    def foot(self) -> str:
        """The line at the card's foot: the hour of its data."""
        if self.updated_at is None:
            return ""
        return _("Data of %(hour)s · City of Chartres") % {"hour": hour(self.updated_at)}

    @property
    def text(self) -> str:
        """Everything the card says, one line each (the asset's description): two cards of
        the same text are the same picture."""
        return "\n".join([self.title, *(line.text for line in self.lines), self.foot])


def categories_of(kinds: Iterable[str]) -> list[str]:
    """The card categories that items of ``kinds`` appear on."""
    wanted = set(kinds)
    return [category for category, shown in KINDS.items() if shown & wanted]


def is_airable(item: FeedItem) -> bool:
    """Citizen reports air only once an editor approved them; other items need no review."""
    if item.kind == ItemKind.CITIZEN_REPORT:
        return item.review == ReviewState.APPROVED
    return item.review in (ReviewState.NOT_NEEDED, ReviewState.APPROVED)


def value_of(item: FeedItem, name: str) -> Any:
    """The value named ``name`` among the item's values (``None``: absent)."""
    return next((v.get("value") for v in item.values if v.get("name") == name), None)


def unit_of(item: FeedItem, name: str) -> str:
    return next((str(v.get("unit", "")) for v in item.values if v.get("name") == name), "")


def _ends(item: FeedItem) -> dt.datetime:
    return min(filter(None, (item.expires_at, item.valid_until)))


def _content(
    category: str, title: str, lines: Sequence[CardLine], shown: Sequence[FeedItem]
) -> CardContent | None:
    if not lines or not shown:
        return None
    observed = [item.observed_at for item in shown if item.observed_at is not None]
    return CardContent(
        category=category,
        title=title,
        lines=tuple(lines[:MAX_LINES]),
        expires_at=min(_ends(item) for item in shown),
        updated_at=max(observed, default=None),
    )


# --- Parking -----------------------------------------------------------------------------------


def _is_car_park(item: FeedItem) -> bool:
    """A car park with a count (single parking spots are not listed one by one)."""
    return isinstance(value_of(item, "free_spaces"), int | float) and not value_of(item, "status")


def parking_card(items: Sequence[FeedItem], *, now: dt.datetime) -> CardContent | None:
    """ "Parkings", then "Cathédrale : 117 places libres" per car park (by name)."""
    parks = sorted(filter(_is_car_park, items), key=lambda item: item.title)[:MAX_LINES]
    lines = [
        CardLine(park.title, free_spaces_text(int(value_of(park, "free_spaces")))) for park in parks
    ]
    return _content(CardCategory.PARKING, _("Car parks"), lines, parks)


def free_spaces_text(free: int) -> str:
    if free <= 0:
        return _("full")
    return ngettext("%(count)s free space", "%(count)s free spaces", free) % {
        "count": quantity(free, "")
    }


# --- Weather -----------------------------------------------------------------------------------

WEATHER_TYPES = {
    "sunny": gettext_lazy("sunny"),
    "clearnight": gettext_lazy("clear sky"),
    "cloudy": gettext_lazy("cloudy"),
    "overcast": gettext_lazy("overcast"),
    "partlycloudy": gettext_lazy("partly cloudy"),
    "lightrain": gettext_lazy("light rain"),
    "rain": gettext_lazy("rain"),
    "heavyrain": gettext_lazy("heavy rain"),
    "drizzle": gettext_lazy("drizzle"),
    "fog": gettext_lazy("fog"),
    "mist": gettext_lazy("mist"),
    "snow": gettext_lazy("snow"),
    "thunder": gettext_lazy("storm"),
}


def weather_summary(item: FeedItem) -> str:
    """ "12 °C · couvert": the temperature and the weather type (translated when known)."""
    parts = []
    temperature = value_of(item, "temperature")
    if isinstance(temperature, int | float):
        parts.append(quantity(temperature, "Cel"))
    if sky := weather_sky(item):
        parts.append(sky)
    return " · ".join(parts)


def weather_sky(item: FeedItem) -> str:
    """The weather type, in the active language when known (``"overcast"`` → "couvert")."""
    kind = value_of(item, "weather_type")
    if not isinstance(kind, str) or not kind:
        return ""
    key = kind.replace(" ", "").replace("_", "").replace(",", "").lower()
    return str(WEATHER_TYPES.get(key, kind))


def weather_details(item: FeedItem) -> str:
    """ "Humidité 80 % · vent 15 km/h"."""
    parts = []
    humidity = value_of(item, "relative_humidity")
    if isinstance(humidity, int | float):
        parts.append(_("humidity %(value)s") % {"value": quantity(humidity, "%")})
    wind = value_of(item, "wind_speed")
    if isinstance(wind, int | float):
        speed = kilometres_per_hour(wind) if unit_of(item, "wind_speed") == "m/s" else wind
        parts.append(_("wind %(value)s") % {"value": quantity(speed, "km/h")})
    return " · ".join(parts).capitalize()


def current_weather(items: Sequence[FeedItem], *, now: dt.datetime) -> FeedItem | None:
    """The latest observation (or forecast in force) at ``now``."""
    current = [i for i in items if i.valid_from is None or i.valid_from <= now]
    observed = [i for i in current if i.extra.get("entity_type") != "WeatherForecast"]
    pool = observed or current
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return max(pool, key=lambda i: i.observed_at or epoch, default=None)


def weather_card(items: Sequence[FeedItem], *, now: dt.datetime) -> CardContent | None:
    """Now (temperature, sky, humidity and wind), then the next hours' forecasts."""
    current = current_weather(items, now=now)
    coming = sorted(
        (i for i in items if i.valid_from is not None and i.valid_from > now),
        key=lambda i: i.valid_from or now,
    )
    lines: list[CardLine] = []
    if current is not None and weather_summary(current):
        lines.append(CardLine(_("Now"), weather_summary(current)))
        if weather_details(current):
            lines.append(CardLine(weather_details(current)))
    for forecast in coming[: MAX_LINES - len(lines)]:
        if forecast.valid_from is not None and weather_summary(forecast):
            lines.append(CardLine(hour(forecast.valid_from), weather_summary(forecast)))
    shown = ([current] if current is not None else []) + coming[: MAX_LINES - 1]
    return _content(CardCategory.WEATHER, _("Weather in Chartres"), lines, shown)


# --- Air quality -------------------------------------------------------------------------------

POLLUTANT_NAMES = {"no2": "NO₂", "pm10": "PM10", "pm25": "PM2,5", "o3": "O₃"}


def air_index_text(item: FeedItem) -> str:
    aqi = value_of(item, "aqi")
    level = value_of(item, "air_quality_level")
    parts = [_("index %(value)s") % {"value": quantity(aqi, "")}] if aqi is not None else []
    if isinstance(level, str) and level:
        parts.append(level)
    return " · ".join(parts)


def pollutants_text(item: FeedItem) -> str:
    found = [(name, value_of(item, key)) for key, name in POLLUTANT_NAMES.items()]
    return " · ".join(
        f"{name} {quantity(value, 'ug/m3')}" for name, value in found if value is not None
    )


def air_card(items: Sequence[FeedItem], *, now: dt.datetime) -> CardContent | None:
    """Per station: its index and level, then its pollutants."""
    lines: list[CardLine] = []
    shown: list[FeedItem] = []
    for station in sorted(items, key=lambda item: item.title):
        station_lines = [CardLine(station.title, air_index_text(station))]
        if pollutants_text(station):
            station_lines.append(CardLine(pollutants_text(station)))
        if len(lines) + len(station_lines) > MAX_LINES:
            break
        lines += station_lines
        shown.append(station)
    return _content(CardCategory.AIR_QUALITY, _("Air quality"), lines, shown)


# --- Traffic and buses -------------------------------------------------------------------------


def is_disruption(item: FeedItem) -> bool:
    """A road work, closure or bus disruption; a traffic count only when congested."""
    if value_of(item, "intensity") is not None or value_of(item, "congested") is not None:
        return bool(value_of(item, "congested"))
    return True


def traffic_card(items: Sequence[FeedItem], *, now: dt.datetime) -> CardContent | None:
    """Disruptions, road works and bus disruptions, the most severe first."""
    found = sorted(
        filter(is_disruption, items),
        key=lambda item: (SEVERITY_ORDER.get(item.severity, 4), item.kind, item.title),
    )[:MAX_LINES]
    lines = [CardLine(_traffic_label(item), _traffic_value(item)) for item in found]
    return _content(CardCategory.TRAFFIC, _("Traffic and buses"), lines, found)


def _traffic_label(item: FeedItem) -> str:
    return _("Buses") if item.kind == ItemKind.TRANSPORT else item.title


def _traffic_value(item: FeedItem) -> str:
    if item.kind == ItemKind.TRANSPORT:
        return item.title
    return _("congested") if value_of(item, "congested") else ""


# --- Events ------------------------------------------------------------------------------------


def events_card(items: Sequence[FeedItem], *, now: dt.datetime) -> CardContent | None:
    """Today's events (Europe/Paris) not yet over, by start time."""
    today = now.astimezone(PARIS).date()
    found = sorted(
        (
            item
            for item in items
            if item.valid_from is not None
            and item.valid_from.astimezone(PARIS).date() <= today
            and (item.valid_until is None or item.valid_until > now)
            and (item.valid_until or item.valid_from).astimezone(PARIS).date() >= today
        ),
        key=lambda item: item.valid_from or now,
    )[:MAX_LINES]
    lines = [CardLine(_event_when(item, now=now), item.title) for item in found]
    return _content(CardCategory.EVENTS, _("Today in Chartres"), lines, found)


def _event_when(item: FeedItem, *, now: dt.datetime) -> str:
    start = item.valid_from or now
    return _("now") if start <= now else hour(start)


# --- City news: street lighting, citizen reports, news -----------------------------------------


def energy_text(item: FeedItem) -> str | None:
    """ "18 450 kWh économisés ce mois-ci" from the first kWh value of an energy item."""
    saved = next(
        (
            v.get("value")
            for v in item.values
            if v.get("unit") == "kWh" or "kwh" in str(v.get("name", "")).lower()
        ),
        None,
    )
    if not isinstance(saved, int | float):
        return None
    return _("%(amount)s saved this month") % {"amount": quantity(saved, "kWh")}


def report_line(item: FeedItem) -> CardLine:
    """A citizen report by its service name and public address (never who reported it)."""
    where = item.extra.get("address", "")
    what = f"{item.title}, {where}" if where else item.title
    resolved = item.extra.get("status") == "closed"
    return CardLine(_("Resolved") if resolved else _("Reported"), what)


def _is_resident_post(item: FeedItem) -> bool:
    return (item.extra or {}).get("origin") == ORIGIN_RESIDENT_POST


def _news_line(item: FeedItem) -> CardLine:
    if item.kind == ItemKind.CITIZEN_REPORT:
        return report_line(item)
    if _is_resident_post(item):
        return CardLine(_("Residents"), item.title)
    return CardLine(item.title)


def city_news_card(items: Sequence[FeedItem], *, now: dt.datetime) -> CardContent | None:
    """The month's energy saved by the smart street lighting, approved citizen reports (open
    ones, then resolved ones), the residents' approved posts (the newest first), then the
    city's news."""
    lines: list[CardLine] = []
    shown: list[FeedItem] = []
    for item in (i for i in items if i.kind == ItemKind.ENERGY):
        if (text := energy_text(item)) is not None:
            lines.append(CardLine(_("Street lighting"), text))
            shown.append(item)
            break
    reports = sorted(
        (i for i in items if i.kind == ItemKind.CITIZEN_REPORT and is_airable(i)),
        key=lambda i: (i.extra.get("status") == "closed", i.title),
    )
    news = [i for i in items if i.kind == ItemKind.NEWS]
    posts = sorted(
        (i for i in news if _is_resident_post(i)),
        key=lambda i: i.valid_from or i.received_at,
        reverse=True,
    )
    city = sorted((i for i in news if not _is_resident_post(i)), key=lambda i: i.title)
    for item in [*reports, *posts, *city][: MAX_LINES - len(lines)]:
        lines.append(_news_line(item))
        shown.append(item)
    return _content(CardCategory.CITY_NEWS, _("Chartres today"), lines, shown)


BUILDERS: dict[str, Callable[..., CardContent | None]] = {
    CardCategory.PARKING: parking_card,
    CardCategory.WEATHER: weather_card,
    CardCategory.AIR_QUALITY: air_card,
    CardCategory.TRAFFIC: traffic_card,
    CardCategory.EVENTS: events_card,
    CardCategory.CITY_NEWS: city_news_card,
}


def card_content(
    category: str, items: Sequence[FeedItem], *, now: dt.datetime
) -> CardContent | None:
    """What the card of ``category`` says given the fresh items (``None``: nothing)."""
    airable = [item for item in items if item.kind in KINDS[category] and is_airable(item)]
    return BUILDERS[category](airable, now=now)
