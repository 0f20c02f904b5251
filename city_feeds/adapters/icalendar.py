"""iCalendar (RFC 5545) → event items, recurrences expanded over ``[now, now + 14 days]``.

Each occurrence of a ``VEVENT`` that overlaps the window becomes one ``Item`` of kind EVENT:
``external_id`` is the UID and the occurrence's start (its RECURRENCE-ID when the library gives
one, so a moved occurrence keeps its id), ``title`` the SUMMARY, ``body`` the DESCRIPTION, the
LOCATION text in ``extra["place"]``, GEO as ``location``, ``valid_from``/``valid_until`` the
occurrence's start and end (UTC). All-day events and floating times are read in Europe/Paris; an
all-day event whose DTEND is not after its DTSTART (a common mistake) lasts its one day.

Skipped: cancelled occurrences and events without UID or SUMMARY. At most ``MAX_OCCURRENCES``
occurrences are read, so a hostile ``FREQ=SECONDLY`` rule costs little. A payload that is not a
calendar, or whose rules cannot be expanded, raises ``FeedError``.
"""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from city_feeds.adapters.common import check_size
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions

WINDOW = dt.timedelta(days=14)
MAX_OCCURRENCES = 1000
LOCAL_ZONE = ZoneInfo("Europe/Paris")


def parse(data: bytes, options: ParseOptions) -> list[Item]:
    check_size(data, options)
    calendar = _calendar(data)
    start = options.now or dt.datetime.now(dt.UTC)
    try:
        occurrences = _occurrences(calendar, start, start + WINDOW)
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as err:
        raise FeedError(f"calendar events cannot be expanded: {err}") from err
    items = (_item(occurrence) for occurrence in occurrences)
    return [item for item in items if item is not None]


def _calendar(data: bytes) -> icalendar.Component:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, TypeError, IndexError, KeyError) as err:
        raise FeedError(f"not an iCalendar document: {err}") from err
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise FeedError("not an iCalendar document: no VCALENDAR")
    calendar.subcomponents = [  # an event without a start cannot be placed: skipped
        component
        for component in calendar.subcomponents
        if component.name != "VEVENT" or "DTSTART" in component
    ]
    return calendar


def _occurrences(
    calendar: icalendar.Component, start: dt.datetime, end: dt.datetime
) -> list[icalendar.Component]:
    """The occurrences overlapping ``[start, end)``, in order of start, at most
    ``MAX_OCCURRENCES`` of them."""
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    found = []
    for occurrence in itertools.islice(query.after(start), MAX_OCCURRENCES):
        if _moment(occurrence.get("DTSTART").dt) >= end:
            break
        found.append(occurrence)
    return found


def _item(event: icalendar.Component) -> Item | None:
    uid, title = _text(event, "UID"), _text(event, "SUMMARY")
    if not uid or not title or _text(event, "STATUS").upper() == "CANCELLED":
        return None
    start_value = event.get("DTSTART").dt
    start, end = _moment(start_value), _end(event, start_value)
    recurrence = event.get("RECURRENCE-ID")
    key = _moment(recurrence.dt) if recurrence is not None else start
    place = _text(event, "LOCATION")
    extra = {"place": place} if place else {}
    if _is_all_day(start_value):
        extra["all_day"] = "1"
    return Item(
        kind=ItemKind.EVENT,
        external_id=f"{uid}@{key.isoformat()}",
        title=title,
        body=_text(event, "DESCRIPTION"),
        location=_geo(event),
        valid_from=start,
        valid_until=end,
        extra=extra,
    )


def _end(event: icalendar.Component, start_value: dt.date) -> dt.datetime:
    start = _moment(start_value)
    end_property = event.get("DTEND")
    end = _moment(end_property.dt) if end_property is not None else start
    if _is_all_day(start_value) and end <= start:
        return _moment(start_value + dt.timedelta(days=1))
    return max(end, start)


def _is_all_day(value: dt.date) -> bool:
    return not isinstance(value, dt.datetime)


def _moment(value: dt.date) -> dt.datetime:
    """An aware UTC instant: dates and floating times are local to Chartres."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_ZONE)
    return value.astimezone(dt.UTC)


def _text(event: icalendar.Component, name: str) -> str:
    value = event.get(name)
    return str(value).strip() if value is not None else ""


def _geo(event: icalendar.Component) -> tuple[float, float] | None:
    geo = event.get("GEO")
    if not isinstance(geo, icalendar.vGeo):
        return None
    if abs(geo.latitude) > 90 or abs(geo.longitude) > 180:
        return None
    return (geo.latitude, geo.longitude)
