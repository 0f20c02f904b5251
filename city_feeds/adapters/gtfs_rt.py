"""GTFS-Realtime (binary protobuf ``FeedMessage``) → transport items.

- Each **alert** becomes one ``Item`` (``external_id`` ``alert:<entity id>``): ``title`` its
  header text and ``body`` its description, in the preferred language (``options.language``,
  then French, then an untagged text, then the first one); ``valid_from`` the earliest start of
  its active periods and ``valid_until`` their latest end (none when one is open-ended); every
  period in ``extra["active_periods"]`` (``start/end`` ISO pairs, ``;``-separated), the affected
  routes and stops in ``extra["routes"]``/``extra["stops"]`` (comma-separated), its cause and
  effect (GTFS names), its URL; its severity level on CAP's scale.
- **Trip updates** are summarised per route (``external_id`` ``delays:<route id>``; a trip with no
  route id counts as its own route, keyed by its trip id, since the static GTFS is not at hand):
  ``title`` the route id, values ``trips``, ``cancelled_trips``, ``mean_delay`` and ``max_delay``
  (seconds; a trip's delay is its own, else that of its first stop time update that gives one,
  else 0), the trip ids in ``extra["trips"]``. Cards and the ticker phrase it ("Ligne …").

The header's timestamp is every item's ``observed_at``. A payload that is not a FeedMessage (no
header, corrupt wire format) raises ``FeedError``; deleted entities and alerts without any text
are skipped.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as gtfs

from city_feeds.adapters.common import check_size
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions, Value

SEVERITY = {"INFO": "Minor", "WARNING": "Moderate", "SEVERE": "Severe"}
CANCELLED = {gtfs.TripDescriptor.CANCELED, gtfs.TripDescriptor.DELETED}


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    message = _message(data, options)
    observed = _time(message.header.timestamp)
    entities = [entity for entity in message.entity if not entity.is_deleted]
    alerts = (
        _alert_item(entity.id, entity.alert, observed, options.language)
        for entity in entities
        if entity.HasField("alert")
    )
    updates = [entity.trip_update for entity in entities if entity.HasField("trip_update")]
    return [item for item in alerts if item is not None] + _delay_items(updates, observed)


def _message(data: bytes, options: ParseOptions) -> gtfs.FeedMessage:
    check_size(data, options)
    message = gtfs.FeedMessage()
    try:
        message.ParseFromString(data)
    except DecodeError as err:
        raise FeedError(f"not a GTFS-Realtime FeedMessage: {err}") from err
    if not message.HasField("header") or not message.header.gtfs_realtime_version:
        raise FeedError("not a GTFS-Realtime FeedMessage: no header")
    return message


def _alert_item(
    entity_id: str, alert: gtfs.Alert, observed: dt.datetime | None, language: str
) -> Item | None:
    title = _translation(alert.header_text, language)
    body = _translation(alert.description_text, language)
    if not title and not body:
        return None
    start, end, periods = _periods(alert.active_period)
    extra = {
        "active_periods": periods,
        "routes": _joined(entity.route_id for entity in alert.informed_entity),
        "stops": _joined(entity.stop_id for entity in alert.informed_entity),
        "cause": gtfs.Alert.Cause.Name(alert.cause),
        "effect": gtfs.Alert.Effect.Name(alert.effect),
        "url": _translation(alert.url, language),
    }
    return Item(
        kind=ItemKind.TRANSPORT,
        external_id=f"alert:{entity_id}",
        title=title or body,
        body=body if title else "",
        observed_at=observed,
        valid_from=start,
        valid_until=end,
        severity=SEVERITY.get(gtfs.Alert.SeverityLevel.Name(alert.severity_level), ""),
        extra={name: value for name, value in extra.items() if value},
    )


def _translation(text: gtfs.TranslatedString, language: str) -> str:
    """The text in ``language``, else in French, else untagged, else the first one."""
    by_language = {t.language.lower(): t.text.strip() for t in reversed(text.translation)}
    for wanted in (language.lower(), "fr", ""):
        if by_language.get(wanted):
            return by_language[wanted]
    return next((t.text.strip() for t in text.translation if t.text.strip()), "")


def _periods(
    periods: Sequence[gtfs.TimeRange],
) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    starts = [_time(period.start) for period in periods]
    ends = [_time(period.end) for period in periods]
    text = ";".join(f"{_iso(s)}/{_iso(e)}" for s, e in zip(starts, ends, strict=True))
    start = None if not periods or None in starts else min(s for s in starts if s)
    end = None if not periods or None in ends else max(e for e in ends if e)
    return start, end, text


def _delay_items(updates: list[gtfs.TripUpdate], observed: dt.datetime | None) -> list[Item]:
    by_route: dict[str, list[gtfs.TripUpdate]] = defaultdict(list)
    for update in updates:
        route = update.trip.route_id or update.trip.trip_id
        if route:
            by_route[route].append(update)
    return [_route_item(route, trips, observed) for route, trips in sorted(by_route.items())]


def _route_item(route: str, trips: list[gtfs.TripUpdate], observed: dt.datetime | None) -> Item:
    running = [trip for trip in trips if trip.trip.schedule_relationship not in CANCELLED]
    delays = [_trip_delay(trip) for trip in running] or [0]
    values = (
        Value("trips", len(trips)),
        Value("cancelled_trips", len(trips) - len(running)),
        Value("mean_delay", round(sum(delays) / len(delays)), "s"),
        Value("max_delay", max(delays), "s"),
    )
    return Item(
        kind=ItemKind.TRANSPORT,
        external_id=f"delays:{route}",
        title=route,
        values=values,
        observed_at=observed,
        extra={"trips": _joined(trip.trip.trip_id for trip in trips), "summary": "delays"},
    )


def _trip_delay(update: gtfs.TripUpdate) -> int:
    if update.HasField("delay"):
        return int(update.delay)
    for stop in update.stop_time_update:
        for name in ("arrival", "departure"):
            event = stop.arrival if name == "arrival" else stop.departure
            if stop.HasField(name) and event.HasField("delay"):
                return int(event.delay)
    return 0


def _joined(values: Iterable[str]) -> str:
    return ",".join(dict.fromkeys(value for value in values if value))


def _time(seconds: int) -> dt.datetime | None:
    """A POSIX time (0 means absent in GTFS-RT); out-of-range values count as absent."""
    if seconds <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else ""
