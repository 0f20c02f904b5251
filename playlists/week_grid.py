"""Layout of the editors' week grid: scheduled items placed in local-day columns.

Pure (no Django, no clock: ``now`` is passed in). A column is one local day, from its local
midnight to the next one, measured on the real UTC instants: a 23-hour day (spring) is 1,380
minutes tall, a 25-hour day (autumn) 1,500, so an entry's ``top`` is the number of minutes that
really elapsed since local midnight (20:00 on 2026-10-25 is 1,260 minutes after midnight, not
1,200). Items crossing midnight are split between the two columns; runs of short fillers and
cards are merged into one "break" box so a week of 4.8-s cards stays readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from playlists.calendar import resolve_local, zone_for

MINUTE = dt.timedelta(minutes=1)
SMALL_MINUTES = 3.0  # fillers shorter than this are merged with their neighbours
BREAK_ROLE = "break"
MERGEABLE_ROLES = frozenset(
    {"ident", "preroll", "postroll", "interstitial", "filler", "card", "slate"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GridItem:
    """A scheduled item as the grid needs it (``start``/``end`` aware)."""

    start: dt.datetime
    end: dt.datetime
    role: str
    title: str
    url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GridEntry:
    """A box in a day column: ``top`` and ``height`` in minutes from local midnight."""

    top: float
    height: float
    role: str
    title: str
    tooltip: str
    url: str
    start: dt.datetime  # local, aware
    end: dt.datetime  # local, aware
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class HourMark:
    top: float
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DayColumn:
    day: dt.date
    minutes: float
    hours: tuple[HourMark, ...]
    entries: tuple[GridEntry, ...]
    now_top: float | None = None


def week_monday(value: str | None, today: dt.date) -> dt.date:
    """The Monday of the week holding ``value`` (YYYY-MM-DD), or of ``today`` when absent/bad."""
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())


def day_bounds(day: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of the local midnight starting ``day`` and of the next one."""
    start = resolve_local(day, dt.time(0), tz)
    return start, resolve_local(day + dt.timedelta(days=1), dt.time(0), tz)


def minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start) / MINUTE


def hour_marks(start: dt.datetime, end: dt.datetime, tz: str) -> tuple[HourMark, ...]:
    """One mark per real hour of the day, labelled with its local wall time (02:00 twice in
    autumn, no 02:00 in spring)."""
    zone = zone_for(tz)
    first = start.replace(minute=0, second=0, microsecond=0)
    first += dt.timedelta(hours=1) if first < start else dt.timedelta(0)
    count = int((end - first) / dt.timedelta(hours=1) - 1e-9) + 1
    instants = (first + dt.timedelta(hours=n) for n in range(max(count, 0)))
    return tuple(
        HourMark(top=minutes_between(start, at), label=f"{at.astimezone(zone):%H:%M}")
        for at in instants
    )


def place(
    items: Iterable[GridItem], start: dt.datetime, end: dt.datetime, tz: str
) -> list[GridEntry]:
    """Entries of the items that overlap [start, end), clipped to it, in order of start."""
    zone = zone_for(tz)
    entries = []
    for item in sorted(items, key=lambda i: i.start):
        low, high = max(item.start, start), min(item.end, end)
        if low >= high:
            continue
        local_start, local_end = item.start.astimezone(zone), item.end.astimezone(zone)
        entries.append(
            GridEntry(
                top=minutes_between(start, low),
                height=minutes_between(low, high),
                role=item.role,
                title=item.title,
                tooltip=f"{item.title} · {local_start:%H:%M:%S}–{local_end:%H:%M:%S}",
                url=item.url,
                start=local_start,
                end=local_end,
            )
        )
    return entries


def merge_small(
    entries: Sequence[GridEntry], max_minutes: float = SMALL_MINUTES
) -> list[GridEntry]:
    """Merge runs of contiguous short filler/card entries into one "break" entry."""
    merged: list[GridEntry] = []
    for entry in entries:
        previous = merged[-1] if merged else None
        if previous is not None and _joins(previous, entry, max_minutes):
            merged[-1] = _merge(previous, entry)
        else:
            merged.append(entry)
    return merged


def _small(entry: GridEntry, max_minutes: float) -> bool:
    return entry.role in MERGEABLE_ROLES | {BREAK_ROLE} and entry.height < max_minutes


def _joins(previous: GridEntry, entry: GridEntry, max_minutes: float) -> bool:
    contiguous = abs(previous.top + previous.height - entry.top) < 1e-6
    small_previous = previous.role == BREAK_ROLE or _small(previous, max_minutes)
    return contiguous and small_previous and _small(entry, max_minutes)


def _merge(previous: GridEntry, entry: GridEntry) -> GridEntry:
    titles = f"{previous.title} + {entry.title}" if previous.count < 4 else previous.title
    titles += " + …" if previous.count == 4 else ""
    return replace(
        previous,
        height=previous.height + entry.height,
        role=BREAK_ROLE,
        title=titles,
        tooltip=f"{titles} · {previous.start:%H:%M:%S}–{entry.end:%H:%M:%S}",
        url="",
        end=entry.end,
        count=previous.count + 1,
    )


def week_columns(
    items: Sequence[GridItem], monday: dt.date, tz: str, now: dt.datetime
) -> list[DayColumn]:
    """The seven local-day columns of the week starting ``monday``."""
    columns = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        start, end = day_bounds(day, tz)
        columns.append(
            DayColumn(
                day=day,
                minutes=minutes_between(start, end),
                hours=hour_marks(start, end, tz),
                entries=tuple(merge_small(place(items, start, end, tz))),
                now_top=minutes_between(start, now) if start <= now < end else None,
            )
        )
    return columns
