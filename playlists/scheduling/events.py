"""Event occurrences: RRULE expansion in naive local time, resolution onto the grid, trimming.

A hard occurrence starts exactly at ``grid_ceil`` of its local start; an occurrence that started
before the window keeps, on time, its items that start inside it. Events whose assets are all
missing are skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.rrule import rrulestr

from playlists.calendar import resolve_local, zone_for
from playlists.rules import Event
from playlists.scheduling.state import Build, Occurrence, Piece

LOOKBACK_DAYS = 2
"""How far before the window event occurrences are expanded (longer events lose their head)."""


def expand_occurrences(build: Build) -> list[Occurrence]:
    """Expand every event around the window, sorted by start then event id."""
    rules, grid = build.rules, build.grid
    zone = zone_for(rules.tz)
    low = grid.instant(build.window[0]) - timedelta(days=LOOKBACK_DAYS)
    high = grid.instant(build.window[1])
    bounds = (low.astimezone(zone).replace(tzinfo=None), high.astimezone(zone).replace(tzinfo=None))
    found = []
    for event in rules.events:
        items = tuple(
            Piece(build.lengths[i], "asset", i, "event")
            for i in event.asset_ids
            if i in build.lengths
        )
        for local in _expand(event, *bounds) if items else []:
            start = grid.ceil(resolve_local(local.date(), local.time(), rules.tz))
            occurrence = _trim(build, Occurrence(start, event.hard, event, items))
            if occurrence is not None:
                found.append(occurrence)
    return sorted(found, key=lambda o: (o.start, o.event.id))


def _expand(event: Event, low: datetime, high: datetime) -> list[datetime]:
    """Return the naive local starts of ``event`` within [low, high] (one-off or RRULE)."""
    start = event.dtstart_local.replace(tzinfo=None)
    if not event.rrule:
        return [start] if low <= start <= high else []
    return list(rrulestr(event.rrule, dtstart=start).between(low, high, inc=True))


def _trim(build: Build, occurrence: Occurrence) -> Occurrence | None:
    """Keep an occurrence inside the window; one started before keeps its later items on time."""
    first, last = build.window
    if occurrence.start >= last:
        return None
    if occurrence.start >= first:
        return occurrence
    at, kept = occurrence.start, list(occurrence.items)
    while kept and at < first:
        at += kept.pop(0).segments
    if not kept:
        return None
    return Occurrence(at, True, occurrence.event, tuple(kept))


def next_hard(occurrences: list[Occurrence], horizon: int) -> list[int]:
    """Return, for each index, the start of the first hard occurrence at or after it."""
    result = [horizon] * (len(occurrences) + 1)
    for index in range(len(occurrences) - 1, -1, -1):
        hard = occurrences[index].hard
        result[index] = occurrences[index].start if hard else result[index + 1]
    return result
