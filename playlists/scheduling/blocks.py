"""Block instances and the spans they resolve into.

A block instance is a block on one local date; its start and end are resolved with
``resolve_local`` (DST-safe) and snapped with ``grid_ceil``. Instances are resolved by priority
into spans tiling the window; time no block covers goes to the day's default filling. Each
instance has its own random stream, seeded by (seed, channel, block, local date).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from playlists.calendar import day_type, resolve_local, zone_for
from playlists.rules import WEEKDAYS
from playlists.scheduling.events import LOOKBACK_DAYS
from playlists.scheduling.state import Build, Grid, Instance


def local_days(tz: str, grid: Grid, first: int, horizon: int) -> list[date]:
    """Return the local dates from a few days before ``first`` to two days after ``horizon``."""
    zone = zone_for(tz)
    lookback = timedelta(days=LOOKBACK_DAYS + 1)
    low = grid.instant(first).astimezone(zone).date() - lookback
    high = grid.instant(horizon).astimezone(zone).date() + timedelta(days=2)
    return [low + timedelta(days=n) for n in range((high - low).days + 1)]


def block_spans(build: Build, days: list[date]) -> list[tuple[int, int, Instance]]:
    """Resolve block instances by priority into spans tiling [window start, horizon)."""
    instances = _block_instances(build, days)
    first, horizon = build.window[0], build.horizon
    cuts = {min(max(x, first), horizon) for s, e, *_ in instances for x in (s, e)}
    points = sorted(cuts | {first, horizon})
    spans: list[tuple[int, int, Instance]] = []
    for low, high in zip(points, points[1:], strict=False):
        covering = [x for x in instances if x[0] <= low < x[1]]
        if covering:
            instance = max(covering, key=lambda x: (x[2], x[0], -x[3]))[4]
        else:
            instance = _default_instance(build, build.day_of(low))
        if spans and spans[-1][2] is instance:
            spans[-1] = (spans[-1][0], high, instance)
        else:
            spans.append((low, high, instance))
    return spans


def _block_instances(build: Build, days: list[date]) -> list[tuple[int, int, int, int, Instance]]:
    """Return (start, end, priority, block id, instance) of every block on every local date."""
    rules, grid = build.rules, build.grid
    any_holiday = any("holiday" in block.day_types for block in rules.blocks)
    found = []
    for day in days:
        kind = day_type(day, build.holidays)
        if kind == "holiday" and not any_holiday:
            kind = WEEKDAYS[day.weekday()]
        for block in rules.blocks:
            if kind not in block.day_types:
                continue
            end_day = day if block.end > block.start else day + timedelta(days=1)
            start = grid.ceil(resolve_local(day, block.start, rules.tz))
            end = grid.ceil(resolve_local(end_day, block.end, rules.tz))
            if start < end and end > build.window[0] and start < build.horizon:
                rng = _rng(build, f"{block.id}:{day}")
                instance = Instance(block, block.fillers or rules.default_fillers, rng)
                found.append((start, end, block.priority, block.id, instance))
    return found


def _rng(build: Build, key: str) -> random.Random:
    """Return the random stream of (seed, channel, ``key``): stable across runs and processes."""
    return random.Random(f"{build.seed}:{build.rules.channel_id}:{key}")  # noqa: S311 (not crypto)


def _default_instance(build: Build, ordinal: int) -> Instance:
    """Return the default filling of local day ``ordinal`` (one per day, shared by its spans)."""
    if ordinal not in build.defaults:
        day = date.fromordinal(ordinal)
        rng = _rng(build, f"default:{day}")
        build.defaults[ordinal] = Instance(None, build.rules.default_fillers, rng)
    return build.defaults[ordinal]
