"""The timeline builder: channel rules + library + window + seed -> gap-free entries on the grid.

Pure (no Django, no clock). All arithmetic runs on integer segment indices counted from the
channel's epoch, so every instant is on the grid and entries are laid end to end:

- Window: entries tile exactly ``[grid_ceil(start), grid_ceil(end))``. Starting at
  ``grid_ceil(start)`` never reaches back into the segment on air; the entry that crosses the end
  of the window is truncated and flagged ``cut`` (a later build replaces it).
- Blocks: each block instance (a block on one local date) resolves its local start and end with
  ``resolve_local`` (DST-safe) and snaps both with ``grid_ceil``; instances are resolved by
  priority into spans that tile the window (time no block covers: the default fillers).
- Events: RRULEs expand in naive local time, then ``resolve_local``; a hard occurrence starts
  exactly at ``grid_ceil`` of its local start, a soft one when the item in progress ends. An
  occurrence that started before the window keeps, on time, its items that start inside it.
  Events whose assets are all missing are skipped.
- Inside a span, a programme item (with its break, pre-roll and post-roll; without them when only
  the item fits) starts only if it ends before the span's end and the next hard event; the rest
  is filled with fillers, card slots, then the slate. Consecutive slates of a span are merged.
- Rotation picks are weighted random; ``no_repeat_hours`` falls back to the least recently played
  fitting asset when nothing else qualifies (entry flagged ``repeat_fallback``);
  ``max_plays_per_day`` never falls back.
- Randomness: one ``random.Random`` per block instance, seeded by (seed, channel, block, local
  date), so a change on one day does not reshuffle the picks of the others (history still couples
  them through no-repeat and plays per day). An empty library gives one slate entry.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import NamedTuple, Protocol

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from playlists.calendar import (
    day_type,
    french_holidays_for,
    grid_ceil,
    grid_offset_us,
    is_on_grid,
    resolve_local,
    zone_for,
)
from playlists.rules import (
    ENTRY_KINDS,
    WEEKDAYS,
    Block,
    ChannelRules,
    Event,
    FillerPolicy,
    LibraryAsset,
    PlaylistRule,
    PlayRecord,
    RotationRule,
    TimelineEntry,
)

__all__ = [
    "Gate",
    "IndexedPool",
    "PoolAsset",
    "ScanPool",
    "TimelineEntry",
    "build_timeline",
    "length_order",
    "timeline_problems",
]

SAMPLING_TRIES = 24
"""Rejection-sampling draws before a rotation pick falls back to an exact scan."""

_LOOKBACK_DAYS = 2
"""How far before the window event occurrences are expanded (longer events lose their head)."""


class PoolAsset(NamedTuple):
    """A library asset as pools see it: length in segments, creation as a grid position.

    Pools keep them in ``length_order`` (length, then id).
    """

    segments: int
    id: int
    category: str
    created: float
    resident: bool


class _Piece(NamedTuple):
    """Something to lay on the timeline (its natural length in segments)."""

    segments: int
    kind: str
    asset_id: int | None
    role: str
    card_category: str = ""


@dataclass(slots=True)
class _Raw:
    """A timeline entry in grid indices, before conversion to ``TimelineEntry``."""

    start: int
    end: int
    piece: _Piece
    block_id: int | None
    event_id: int | None
    cut: bool
    fallback: bool


Pick = tuple[int, int, bool]
"""A rotation pick: asset id, length in segments, repeat fallback."""


class Gate:
    """The rotation constraints of one pick at grid index ``at``, local day ``day``.

    ``last``: latest start per asset; ``plays``: plays per (asset, local date ordinal);
    ``gap``: no-repeat in segments; ``cap``: max plays per day; ``pending``: assets laid around
    the pick (break, rolls), not yet recorded: each counts as one more play, and is refused as
    long as no-repeat applies.
    """

    __slots__ = ("at", "cap", "day", "gap", "last", "pending", "plays")

    def __init__(
        self,
        *,
        last: dict[int, int],
        plays: dict[tuple[int, int], int],
        at: int,
        day: int,
        gap: float,
        cap: int | None,
        pending: frozenset[int] = frozenset(),
    ) -> None:
        self.last, self.plays, self.pending = last, plays, pending
        self.at, self.day, self.gap, self.cap = at, day, gap, cap

    def under_cap(self, asset_id: int) -> bool:
        """Tell whether the asset has not reached ``max_plays_per_day`` on this day."""
        if self.cap is None:
            return True
        plays = self.plays.get((asset_id, self.day), 0) + (asset_id in self.pending)
        return plays < self.cap

    def allows(self, asset_id: int) -> bool:
        """Tell whether the asset honours both max plays per day and no-repeat."""
        if asset_id in self.pending and self.gap > 0:
            return False
        last = self.last.get(asset_id)
        return (last is None or self.at - last >= self.gap) and self.under_cap(asset_id)


class RotationPool(Protocol):
    """Picks one asset of a rotation pool."""

    def pick(self, *, room: int, at: int, gate: Gate, rng: random.Random) -> Pick | None:
        """Pick an asset of at most ``room`` segments to start at grid index ``at``."""


def length_order(item: PoolAsset) -> int:
    """Sort key: length, then id, as one integer (fast to compare; ids below 2**63)."""
    return item.segments * 2**64 + item.id


PoolFactory = Callable[[RotationRule, Sequence[PoolAsset], float], RotationPool]
"""Builds a pool from (rule, its assets, fresh-boost window in segments)."""


@dataclass(frozen=True, slots=True)
class _Weigher:
    """Weights of a rotation: category weight, boosted for fresh resident assets."""

    categories: dict[str, float]
    fresh_window: float
    boost: float

    def base(self, item: PoolAsset) -> float:
        """Return the category weight of ``item``."""
        return self.categories.get(item.category, 1.0)

    def at(self, item: PoolAsset, at: int) -> float:
        """Return the weight of ``item`` when starting at grid index ``at``."""
        fresh = item.resident and item.created > at - self.fresh_window
        return self.base(item) * (self.boost if fresh else 1.0)


def _weigher(rule: RotationRule, fresh_window: float) -> _Weigher:
    """Return the weigher of ``rule`` (no boost when the window is 0)."""
    boost = rule.fresh_boost if fresh_window > 0 else 1.0
    return _Weigher({name: max(w, 0.0) for name, w in rule.weights}, fresh_window, boost)


def choose_exact(
    items: Sequence[PoolAsset],
    *,
    room: int,
    at: int,
    gate: Gate,
    rng: random.Random,
    weigher: _Weigher,
) -> Pick | None:
    """Weighted choice among eligible items that fit, else the least recently played one.

    The fallback ignores ``no_repeat`` but not ``max_plays_per_day``; ties go to the lower id.
    """
    fitting = [item for item in items if item.segments <= room and weigher.base(item) > 0]
    eligible = [item for item in fitting if gate.allows(item.id)]
    if eligible:
        weights = [weigher.at(item, at) for item in eligible]
        chosen = rng.choices(eligible, weights=weights)[0]
        return chosen.id, chosen.segments, False
    capped = [item for item in fitting if gate.under_cap(item.id)]
    if not capped:
        return None
    oldest = min(capped, key=lambda item: (gate.last.get(item.id, -(2**62)), item.id))
    return oldest.id, oldest.segments, True


class ScanPool:
    """Naive reference pool: scans the whole pool at every pick (the benchmark's baseline)."""

    def __init__(self, rule: RotationRule, items: Sequence[PoolAsset], fresh_window: float):
        self.items, self.weigher = list(items), _weigher(rule, fresh_window)

    def pick(self, *, room: int, at: int, gate: Gate, rng: random.Random) -> Pick | None:
        """Pick exactly: weighted choice over a full scan of the pool."""
        return choose_exact(self.items, room=room, at=at, gate=gate, rng=rng, weigher=self.weigher)


class IndexedPool:
    """Pool indexed by length (prefix sums of weights) and by creation (for the fresh boost).

    A pick draws from the fitting prefix by bisection, plus the boost's extra weight over the
    fresh suffix, and rejects ineligible draws: exact rejection sampling, O(log n) a draw. After
    ``SAMPLING_TRIES`` rejections it runs ``choose_exact`` over the fitting prefix.
    """

    def __init__(self, rule: RotationRule, items: Sequence[PoolAsset], fresh_window: float):
        self.weigher = weigher = _weigher(rule, fresh_window)
        weights = weigher.categories
        excluded = {name for name, weight in weights.items() if weight <= 0}
        self.items = sorted((i for i in items if i.category not in excluded), key=length_order)
        self.lengths = [item.segments for item in self.items]
        self.cumulative = [0.0, *accumulate([weights.get(i.category, 1.0) for i in self.items])]
        fresh = [item for item in self.items if item.resident] if weigher.boost > 1 else []
        self.fresh = sorted(fresh, key=itemgetter(3, 1))  # (created, id)
        self.created = [item.created for item in self.fresh]
        base = [weights.get(item.category, 1.0) for item in self.fresh]
        self.fresh_cumulative = [0.0, *accumulate(base)]

    def pick(self, *, room: int, at: int, gate: Gate, rng: random.Random) -> Pick | None:
        """Pick by rejection sampling, falling back to an exact scan of the fitting prefix."""
        fit = bisect_right(self.lengths, room)
        if fit == 0:
            return None
        main = self.cumulative[fit]
        first_fresh = bisect_right(self.created, at - self.weigher.fresh_window)
        extra = self.fresh_cumulative[-1] - self.fresh_cumulative[first_fresh]
        extra *= self.weigher.boost - 1
        for _ in range(SAMPLING_TRIES):
            item = self._draw(rng.random() * (main + extra), main, fit, first_fresh)
            if item.segments <= room and gate.allows(item.id):
                return item.id, item.segments, False
        prefix = self.items[:fit]
        return choose_exact(prefix, room=room, at=at, gate=gate, rng=rng, weigher=self.weigher)

    def _draw(self, u: float, main: float, fit: int, first_fresh: int) -> PoolAsset:
        """Map ``u`` in [0, main + extra) to an item: base weights first, then the fresh extra."""
        if u < main:
            return self.items[min(bisect_right(self.cumulative, u) - 1, fit - 1)]
        target = self.fresh_cumulative[first_fresh] + (u - main) / (self.weigher.boost - 1)
        index = bisect_right(self.fresh_cumulative, target) - 1
        return self.fresh[min(max(index, first_fresh), len(self.fresh) - 1)]


@dataclass(frozen=True, slots=True)
class _Grid:
    """Conversions between aware instants and segment indices from the epoch."""

    epoch: datetime
    segment_us: int

    def ceil(self, instant: datetime) -> int:
        """Return the index of ``grid_ceil(instant)``."""
        return -(-grid_offset_us(instant, self.epoch) // self.segment_us)

    def floor(self, instant: datetime) -> int:
        """Return the index of ``grid_floor(instant)``."""
        return grid_offset_us(instant, self.epoch) // self.segment_us

    def instant(self, index: int) -> datetime:
        """Return the UTC instant of grid index ``index``."""
        return self.epoch + timedelta(microseconds=index * self.segment_us)

    def hours(self, hours: float) -> float:
        """Return ``hours`` in segments."""
        return hours * 3_600_000_000 / self.segment_us


@dataclass(frozen=True, slots=True)
class _FillPlan:
    """A ``FillerPolicy`` resolved against the library (missing assets dropped)."""

    idents: tuple[_Piece, ...]
    prerolls: tuple[_Piece, ...]
    postrolls: tuple[_Piece, ...]
    interstitials: tuple[_Piece, ...]
    cards: tuple[tuple[int, _Piece], ...]
    ident_every: int | None
    gap: tuple[_Piece, ...]  # remainder fillers, shortest first
    gap_lengths: tuple[int, ...]


@dataclass(slots=True)
class _Instance:
    """A block on one local date (or the default filling of a day), with its running state."""

    block: Block | None
    fillers: FillerPolicy
    rng: random.Random
    count: int = 0
    playlist_position: int = 0

    @property
    def block_id(self) -> int | None:
        """The block's id, None for the default filling."""
        return self.block.id if self.block else None


@dataclass(frozen=True, slots=True)
class _Occurrence:
    """One occurrence of an event: start index, hard or soft, items as pieces."""

    start: int
    hard: bool
    event: Event
    items: tuple[_Piece, ...]


@dataclass(slots=True)
class _Build:
    """What one build reads and the state it accumulates."""

    rules: ChannelRules
    grid: _Grid
    seed: int
    window: tuple[int, int]
    horizon: int
    lengths: dict[int, int]
    groups: dict[tuple[str, str, str], list[PoolAsset]]
    holidays: frozenset[date]
    pool_factory: PoolFactory
    out: list[_Raw] = field(default_factory=list)
    last: dict[int, int] = field(default_factory=dict)
    plays: dict[tuple[int, int], int] = field(default_factory=dict)
    midnights: list[int] = field(default_factory=list)
    ordinals: list[int] = field(default_factory=list)
    spans: list[tuple[int, int, _Instance]] = field(default_factory=list)
    pools: dict[RotationRule, RotationPool] = field(default_factory=dict)
    plans: dict[FillerPolicy, _FillPlan] = field(default_factory=dict)
    playlists: dict[PlaylistRule, list[tuple[int, int]]] = field(default_factory=dict)
    defaults: dict[int, _Instance] = field(default_factory=dict)

    def day_of(self, index: int) -> int:
        """Return the local date ordinal of grid index ``index``."""
        return self.ordinals[bisect_right(self.midnights, index * self.grid.segment_us) - 1]

    def span_at(self, index: int) -> tuple[int, _Instance]:
        """Return the end and the instance of the span containing ``index``."""
        _, end, instance = self.spans[bisect_right(self.spans, index, key=lambda s: s[0]) - 1]
        return end, instance

    def emit(
        self, start: int, length: int, piece: _Piece, origin: tuple[int | None, int | None]
    ) -> int:
        """Lay ``piece`` for ``length`` segments at ``start`` (origin: block id, event id)."""
        self.out.append(_Raw(start, start + length, piece, *origin, length < piece.segments, False))
        if piece.kind == "asset" and piece.asset_id is not None:
            self.last[piece.asset_id] = start
            key = (piece.asset_id, self.day_of(start))
            self.plays[key] = self.plays.get(key, 0) + 1
        return start + length


def build_timeline(
    *,
    rules: ChannelRules,
    library: Sequence[LibraryAsset],
    start: datetime,
    end: datetime,
    seed: int,
    history: Sequence[PlayRecord] = (),
    holidays: frozenset[date] | None = None,
    pool_factory: PoolFactory = IndexedPool,
) -> list[TimelineEntry]:
    """Build the timeline tiling ``[grid_ceil(start), grid_ceil(end))`` (see the module doc).

    ``library``: approved, transcoded assets (assets not lasting whole segments are ignored).
    ``history``: plays before the window, for no-repeat and plays per day. ``holidays``: None
    computes the French public holidays. ``pool_factory``: the rotation pick strategy
    (``IndexedPool``; ``ScanPool`` is the naive reference).
    """
    build = _prepare(rules, library, start, end, seed, holidays, pool_factory)
    first, last = build.window
    if first >= last:
        return []
    if not build.lengths:
        build.emit(first, last - first, _slate(rules, last - first), (None, None))
    else:
        _load_history(build, history)
        _run(build, _occurrences(build))
    return _finish(build)


def _prepare(
    rules: ChannelRules,
    library: Sequence[LibraryAsset],
    start: datetime,
    end: datetime,
    seed: int,
    holidays: frozenset[date] | None,
    pool_factory: PoolFactory,
) -> _Build:
    """Index the library and the calendar around the window."""
    grid = _Grid(rules.epoch.astimezone(UTC), rules.segment_ms * 1000)
    first, last = grid.ceil(start), grid.ceil(end)
    horizon = max(first, last) + int(grid.hours(48))
    usable = [a for a in library if a.duration_ms > 0 and a.duration_ms % rules.segment_ms == 0]
    lengths = {asset.id: asset.duration_ms // rules.segment_ms for asset in usable}
    days = _local_days(rules.tz, grid, first, horizon)
    if holidays is None:
        holidays = french_holidays_for(range(days[0].year, days[-1].year + 1))
    groups = _group(grid, usable, lengths)
    build = _Build(
        rules, grid, seed, (first, last), horizon, lengths, groups, holidays, pool_factory
    )
    build.midnights = [
        grid_offset_us(resolve_local(d, time(0), rules.tz), grid.epoch) for d in days
    ]
    build.ordinals = [d.toordinal() for d in days]
    build.spans = _spans(build, days)
    return build


def _group(
    grid: _Grid, usable: list[LibraryAsset], lengths: dict[int, int]
) -> dict[tuple[str, str, str], list[PoolAsset]]:
    """Group the usable assets by (kind, category, origin) for pool selection."""
    epoch, segment_s = grid.epoch.timestamp(), grid.segment_us / 1_000_000
    keyed = [
        (
            (a.kind, a.category, a.origin),
            PoolAsset(
                lengths[a.id], a.id, a.category, (a.created_at.timestamp() - epoch) / segment_s,
                a.origin == "resident",
            ),
        )
        for a in usable
    ]  # fmt: skip
    keyed.sort(key=lambda pair: length_order(pair[1]))  # each group comes out in length order
    groups: dict[tuple[str, str, str], list[PoolAsset]] = {}
    for key, item in keyed:
        groups.setdefault(key, []).append(item)
    return groups


def _local_days(tz: str, grid: _Grid, first: int, horizon: int) -> list[date]:
    """Return the local dates from a few days before ``first`` to two days after ``horizon``."""
    zone = zone_for(tz)
    lookback = timedelta(days=_LOOKBACK_DAYS + 1)
    low = grid.instant(first).astimezone(zone).date() - lookback
    high = grid.instant(horizon).astimezone(zone).date() + timedelta(days=2)
    return [low + timedelta(days=n) for n in range((high - low).days + 1)]


def _load_history(build: _Build, history: Sequence[PlayRecord]) -> None:
    """Record the plays before the window (latest start, plays per local day)."""
    first_instant = build.grid.instant(build.window[0])
    zone = zone_for(build.rules.tz)
    for record in history:
        if record.start >= first_instant:
            continue
        at = build.grid.floor(record.start)
        build.last[record.asset_id] = max(at, build.last.get(record.asset_id, at))
        key = (record.asset_id, record.start.astimezone(zone).date().toordinal())
        build.plays[key] = build.plays.get(key, 0) + 1


def _spans(build: _Build, days: list[date]) -> list[tuple[int, int, _Instance]]:
    """Resolve block instances by priority into spans tiling [window start, horizon)."""
    instances = _block_instances(build, days)
    first, horizon = build.window[0], build.horizon
    cuts = {min(max(x, first), horizon) for s, e, *_ in instances for x in (s, e)}
    points = sorted(cuts | {first, horizon})
    spans: list[tuple[int, int, _Instance]] = []
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


def _block_instances(build: _Build, days: list[date]) -> list[tuple[int, int, int, int, _Instance]]:
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
                instance = _Instance(block, block.fillers or rules.default_fillers, rng)
                found.append((start, end, block.priority, block.id, instance))
    return found


def _rng(build: _Build, key: str) -> random.Random:
    """Return the random stream of (seed, channel, ``key``): stable across runs and processes."""
    return random.Random(f"{build.seed}:{build.rules.channel_id}:{key}")  # noqa: S311 (not crypto)


def _default_instance(build: _Build, ordinal: int) -> _Instance:
    """Return the default filling of local day ``ordinal`` (one per day, shared by its spans)."""
    if ordinal not in build.defaults:
        day = date.fromordinal(ordinal)
        rng = _rng(build, f"default:{day}")
        build.defaults[ordinal] = _Instance(None, build.rules.default_fillers, rng)
    return build.defaults[ordinal]


def _occurrences(build: _Build) -> list[_Occurrence]:
    """Expand every event around the window, sorted by start then event id."""
    rules, grid = build.rules, build.grid
    zone = zone_for(rules.tz)
    low = grid.instant(build.window[0]) - timedelta(days=_LOOKBACK_DAYS)
    high = grid.instant(build.window[1])
    bounds = (low.astimezone(zone).replace(tzinfo=None), high.astimezone(zone).replace(tzinfo=None))
    found = []
    for event in rules.events:
        items = tuple(
            _Piece(build.lengths[i], "asset", i, "event")
            for i in event.asset_ids
            if i in build.lengths
        )
        for local in _expand(event, *bounds) if items else []:
            start = grid.ceil(resolve_local(local.date(), local.time(), rules.tz))
            occurrence = _trim(build, _Occurrence(start, event.hard, event, items))
            if occurrence is not None:
                found.append(occurrence)
    return sorted(found, key=lambda o: (o.start, o.event.id))


def _expand(event: Event, low: datetime, high: datetime) -> list[datetime]:
    """Return the naive local starts of ``event`` within [low, high] (one-off or RRULE)."""
    start = event.dtstart_local.replace(tzinfo=None)
    if not event.rrule:
        return [start] if low <= start <= high else []
    return list(rrulestr(event.rrule, dtstart=start).between(low, high, inc=True))


def _trim(build: _Build, occurrence: _Occurrence) -> _Occurrence | None:
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
    return _Occurrence(at, True, occurrence.event, tuple(kept))


def _next_hard(occurrences: list[_Occurrence], horizon: int) -> list[int]:
    """Return, for each index, the start of the first hard occurrence at or after it."""
    result = [horizon] * (len(occurrences) + 1)
    for index in range(len(occurrences) - 1, -1, -1):
        hard = occurrences[index].hard
        result[index] = occurrences[index].start if hard else result[index + 1]
    return result


def _run(build: _Build, occurrences: list[_Occurrence]) -> None:
    """Lay the whole window: events when due, otherwise the span's content up to a boundary."""
    first, last = build.window
    hard_after = _next_hard(occurrences, build.horizon)
    at, index = first, 0
    while at < last:
        if index < len(occurrences) and occurrences[index].start <= at:
            at = _play_event(build, occurrences[index], at, min(hard_after[index + 1], last))
            index += 1
            continue
        span_end, instance = build.span_at(at)
        boundary = min(span_end, hard_after[index])
        due = occurrences[index].start if index < len(occurrences) else boundary
        at = _fill(build, instance, at, boundary, min(boundary, due, last))


def _play_event(build: _Build, occurrence: _Occurrence, at: int, limit: int) -> int:
    """Play an occurrence's items from ``at``; the next hard event (``limit``) cuts it."""
    for piece in occurrence.items:
        if at >= limit:
            break
        at = build.emit(at, min(piece.segments, limit - at), piece, (None, occurrence.event.id))
    return at


def _fill(build: _Build, instance: _Instance, at: int, boundary: int, stop: int) -> int:
    """Lay programme items ending by ``boundary`` until ``stop`` is reached, then fill."""
    while at < stop:
        placed = _place_item(build, instance, at, boundary)
        if placed is None:
            return _fill_gap(build, instance, at, stop)
        at = placed
    return at


def _place_item(build: _Build, instance: _Instance, at: int, boundary: int) -> int | None:
    """Lay the next programme item with its break and rolls (dropped when they don't fit)."""
    (brk, pre), post = _surroundings(_plan(build, instance.fillers), instance.count)
    tried: list[tuple[list[_Piece], list[_Piece]]] = []
    for around in ((brk + pre, post), (pre, post), ([], [])):
        if around in tried:
            continue
        tried.append(around)
        lead, tail = (sum(piece.segments for piece in pieces) for pieces in around)
        room = boundary - at - lead - tail
        pending = frozenset(p.asset_id for pieces in around for p in pieces if p.asset_id)
        picked = _pick(build, instance, at + lead, room, pending) if room > 0 else None
        if picked is not None:
            return _lay_item(build, instance, at, around, picked)
    return None


def _lay_item(
    build: _Build,
    instance: _Instance,
    at: int,
    around: tuple[list[_Piece], list[_Piece]],
    picked: Pick,
) -> int:
    """Emit the break and pre-roll, the picked item, the post-roll; advance the instance."""
    origin = (instance.block_id, None)
    for piece in around[0]:
        at = build.emit(at, piece.segments, piece, origin)
    asset_id, segments, fallback = picked
    at = build.emit(at, segments, _Piece(segments, "asset", asset_id, "programme"), origin)
    build.out[-1].fallback = fallback
    for piece in around[1]:
        at = build.emit(at, piece.segments, piece, origin)
    instance.count += 1
    instance.playlist_position += 1
    return at


def _surroundings(
    plan: _FillPlan, n: int
) -> tuple[tuple[list[_Piece], list[_Piece]], list[_Piece]]:
    """Return ((break, pre-roll), post-roll) around programme item number ``n``."""
    brk: list[_Piece] = []
    if n > 0 and plan.interstitials:
        brk.append(plan.interstitials[(n - 1) % len(plan.interstitials)])
    brk.extend(piece for every, piece in plan.cards if n > 0 and n % every == 0)
    if plan.ident_every and plan.idents and n % plan.ident_every == 0:
        brk.append(plan.idents[(n // plan.ident_every) % len(plan.idents)])
    pre = [plan.prerolls[n % len(plan.prerolls)]] if plan.prerolls else []
    post = [plan.postrolls[n % len(plan.postrolls)]] if plan.postrolls else []
    return (brk, pre), post


def _pick(
    build: _Build, instance: _Instance, at: int, room: int, pending: frozenset[int]
) -> Pick | None:
    """Pick the instance's next item of at most ``room`` segments, starting at ``at``.

    ``pending``: the assets laid around it (see ``Gate``).
    """
    content = instance.block.content if instance.block else None
    if isinstance(content, PlaylistRule):
        items = _playlist(build, content)
        if not items:
            return None
        asset_id, segments = items[instance.playlist_position % len(items)]
        return (asset_id, segments, False) if segments <= room else None
    if isinstance(content, RotationRule):
        gate = Gate(
            last=build.last,
            plays=build.plays,
            at=at,
            day=build.day_of(at),
            gap=build.grid.hours(content.no_repeat_hours),
            cap=content.max_plays_per_day,
            pending=pending,
        )
        return _pool(build, content).pick(room=room, at=at, gate=gate, rng=instance.rng)
    return None


def _playlist(build: _Build, rule: PlaylistRule) -> list[tuple[int, int]]:
    """Return the (cached) available items of ``rule`` as (asset id, segments)."""
    if rule not in build.playlists:
        ids = rule.asset_ids
        build.playlists[rule] = [(i, build.lengths[i]) for i in ids if i in build.lengths]
    return build.playlists[rule]


def _pool(build: _Build, rule: RotationRule) -> RotationPool:
    """Return the (cached) pool of ``rule``."""
    if rule not in build.pools:
        items = [
            item
            for (kind, category, origin), group in build.groups.items()
            if kind in rule.kinds
            and (not rule.categories or category in rule.categories)
            and (not rule.origins or origin in rule.origins)
            for item in group
        ]
        window = build.grid.hours(rule.fresh_boost_days * 24)
        build.pools[rule] = build.pool_factory(rule, items, window)
    return build.pools[rule]


def _plan(build: _Build, policy: FillerPolicy) -> _FillPlan:
    """Return the (cached) plan of ``policy``."""
    if policy not in build.plans:
        build.plans[policy] = _make_plan(build, policy)
    return build.plans[policy]


def _make_plan(build: _Build, policy: FillerPolicy) -> _FillPlan:
    """Resolve ``policy`` against the library."""

    def pieces(ids: tuple[int, ...], role: str) -> tuple[_Piece, ...]:
        return tuple(_Piece(build.lengths[i], "asset", i, role) for i in ids if i in build.lengths)

    segment_ms = build.rules.segment_ms
    cards = tuple(
        (
            rule.every_n_items,
            _Piece(-(-rule.length_ms // segment_ms), "card_slot", None, "card", rule.category),
        )
        for rule in policy.card_slots
    )
    gap = pieces(policy.interstitial_ids, "filler") + pieces(policy.ident_ids, "ident")
    if not gap:
        fillers = (
            i for (kind, *_), group in build.groups.items() if kind == "filler" for i in group
        )
        gap = tuple(_Piece(item.segments, "asset", item.id, "filler") for item in fillers)
    gap = tuple(sorted(gap, key=lambda piece: (piece.segments, piece.asset_id or 0)))
    return _FillPlan(
        idents=pieces(policy.ident_ids, "ident"),
        prerolls=pieces(policy.preroll_ids, "preroll"),
        postrolls=pieces(policy.postroll_ids, "postroll"),
        interstitials=pieces(policy.interstitial_ids, "interstitial"),
        cards=cards,
        ident_every=policy.ident_every_n_items,
        gap=gap,
        gap_lengths=tuple(piece.segments for piece in gap),
    )


def _fill_gap(build: _Build, instance: _Instance, at: int, stop: int) -> int:
    """Fill [at, stop): fillers longest first (each once), card slots (each once), slate."""
    plan, origin = _plan(build, instance.fillers), (instance.block_id, None)
    bound = len(plan.gap)
    while at < stop and bound > 0:
        bound = min(bound, bisect_right(plan.gap_lengths, stop - at))
        if bound > 0:
            bound -= 1
            at = build.emit(at, plan.gap[bound].segments, plan.gap[bound], origin)
    for _, piece in plan.cards:
        if piece.segments <= stop - at:
            at = build.emit(at, piece.segments, piece, origin)
    if at < stop:
        at = build.emit(at, stop - at, _slate(build.rules, stop - at), origin)
    return at


def _slate(rules: ChannelRules, segments: int) -> _Piece:
    """Return a slate piece of ``segments``."""
    return _Piece(segments, "slate", rules.slate_id, "slate")


def _finish(build: _Build) -> list[TimelineEntry]:
    """Clip to the window, merge consecutive slates of the same origin, convert to entries."""
    last = build.window[1]
    merged: list[_Raw] = []
    for raw in build.out:
        if raw.start >= last or raw.end <= raw.start:
            continue
        if raw.end > last:
            raw.end, raw.cut = last, True
        if merged and _mergeable(merged[-1], raw):
            merged[-1].end = raw.end
        else:
            merged.append(raw)
    return [_entry(build.grid, raw) for raw in merged]


def _mergeable(previous: _Raw, raw: _Raw) -> bool:
    """Tell whether ``raw`` is a slate continuing the slate ``previous`` of the same origin."""
    same_origin = (previous.block_id, previous.event_id) == (raw.block_id, raw.event_id)
    return same_origin and raw.piece.kind == previous.piece.kind == "slate"


def _entry(grid: _Grid, raw: _Raw) -> TimelineEntry:
    """Convert ``raw`` to a ``TimelineEntry``."""
    return TimelineEntry(
        start=grid.instant(raw.start),
        end=grid.instant(raw.end),
        kind=raw.piece.kind,
        asset_id=raw.piece.asset_id,
        role=raw.piece.role,
        block_id=raw.block_id,
        event_id=raw.event_id,
        card_category=raw.piece.card_category,
        cut=raw.cut,
        repeat_fallback=raw.fallback,
    )


def timeline_problems(
    entries: Sequence[TimelineEntry],
    start: datetime,
    end: datetime,
    epoch: datetime,
    segment_ms: int,
) -> list[str]:
    """Return what is wrong with ``entries`` as a tiling of [grid_ceil(start), grid_ceil(end)).

    Gaps, overlaps, off-grid or empty entries, wrong window bounds, malformed entries.
    """
    first, last = grid_ceil(start, epoch, segment_ms), grid_ceil(end, epoch, segment_ms)
    if first >= last:
        return ["entries for an empty window"] if entries else []
    if not entries:
        return ["no entries"]
    problems = []
    if entries[0].start != first:
        problems.append(f"timeline starts at {entries[0].start}, not {first}")
    if entries[-1].end != last:
        problems.append(f"timeline ends at {entries[-1].end}, not {last}")
    for index, entry in enumerate(entries):
        problems.extend(f"entry {index}: {p}" for p in _entry_problems(entry, epoch, segment_ms))
        if index and entries[index - 1].end < entry.start:
            problems.append(f"gap before entry {index}: {entries[index - 1].end}..{entry.start}")
        if index and entries[index - 1].end > entry.start:
            problems.append(
                f"overlap before entry {index}: {entry.start} < {entries[index - 1].end}"
            )
    return problems


def _entry_problems(entry: TimelineEntry, epoch: datetime, segment_ms: int) -> list[str]:
    """Return what is wrong with one entry on its own."""
    problems = []
    for label, instant in (("start", entry.start), ("end", entry.end)):
        if not is_on_grid(instant, epoch, segment_ms):
            problems.append(f"{label} {instant} is off the grid")
    if entry.end <= entry.start:
        problems.append("empty or reversed")
    if entry.kind not in ENTRY_KINDS:
        problems.append(f"unknown kind {entry.kind!r}")
    if entry.kind == "asset" and entry.asset_id is None:
        problems.append("asset entry without asset_id")
    if entry.kind == "card_slot" and not entry.card_category:
        problems.append("card slot without category")
    return problems
