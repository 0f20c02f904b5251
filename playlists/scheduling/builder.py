"""The build loop: prepare the grid and the library, lay the window, convert to entries.

Events are played when due; otherwise a span's programme items (with their break and rolls) are
laid while they end before the span's end and the next hard event, and the rest is filled.
Consecutive slates of the same origin are merged and the entry crossing the window's end is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from broadcasting.media.grid import offset_us
from playlists.calendar import french_holidays_for, resolve_local, zone_for
from playlists.rules import (
    ChannelRules,
    LibraryAsset,
    PlaylistRule,
    PlayRecord,
    RotationRule,
    TimelineEntry,
)
from playlists.scheduling.blocks import block_spans, local_days
from playlists.scheduling.events import expand_occurrences, next_hard
from playlists.scheduling.fillers import fill_gap, fill_plan, slate, surroundings
from playlists.scheduling.pools import (
    Gate,
    IndexedPool,
    Pick,
    PoolAsset,
    PoolFactory,
    RotationPool,
    length_order,
)
from playlists.scheduling.state import Build, Grid, Instance, Occurrence, Piece, Raw


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
    """Build the timeline tiling ``[grid_ceil(start), grid_ceil(end))`` (see the package doc).

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
        build.emit(first, last - first, slate(rules, last - first), (None, None))
    else:
        _load_history(build, history)
        _run(build, expand_occurrences(build))
    return _finish(build)


def _prepare(
    rules: ChannelRules,
    library: Sequence[LibraryAsset],
    start: datetime,
    end: datetime,
    seed: int,
    holidays: frozenset[date] | None,
    pool_factory: PoolFactory,
) -> Build:
    """Index the library and the calendar around the window."""
    grid = Grid(rules.epoch.astimezone(UTC), rules.segment_ms)
    first, last = grid.ceil(start), grid.ceil(end)
    horizon = max(first, last) + int(grid.hours(48))
    usable = [a for a in library if a.duration_ms > 0 and a.duration_ms % rules.segment_ms == 0]
    lengths = {asset.id: asset.duration_ms // rules.segment_ms for asset in usable}
    days = local_days(rules.tz, grid, first, horizon)
    if holidays is None:
        holidays = french_holidays_for(range(days[0].year, days[-1].year + 1))
    groups = _group(grid, usable, lengths)
    build = Build(
        rules, grid, seed, (first, last), horizon, lengths, groups, holidays, pool_factory
    )
    build.midnights = [
        offset_us(resolve_local(d, time(0), rules.tz), epoch=grid.epoch) for d in days
    ]
    build.ordinals = [d.toordinal() for d in days]
    build.spans = block_spans(build, days)
    return build


def _group(
    grid: Grid, usable: list[LibraryAsset], lengths: dict[int, int]
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


def _load_history(build: Build, history: Sequence[PlayRecord]) -> None:
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


def _run(build: Build, occurrences: list[Occurrence]) -> None:
    """Lay the whole window: events when due, otherwise the span's content up to a boundary."""
    first, last = build.window
    hard_after = next_hard(occurrences, build.horizon)
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


def _play_event(build: Build, occurrence: Occurrence, at: int, limit: int) -> int:
    """Play an occurrence's items from ``at``; the next hard event (``limit``) cuts it."""
    for piece in occurrence.items:
        if at >= limit:
            break
        at = build.emit(at, min(piece.segments, limit - at), piece, (None, occurrence.event.id))
    return at


def _fill(build: Build, instance: Instance, at: int, boundary: int, stop: int) -> int:
    """Lay programme items ending by ``boundary`` until ``stop`` is reached, then fill."""
    while at < stop:
        placed = _place_item(build, instance, at, boundary)
        if placed is None:
            return fill_gap(build, instance, at, stop)
        at = placed
    return at


def _place_item(build: Build, instance: Instance, at: int, boundary: int) -> int | None:
    """Lay the next programme item with its break and rolls (dropped when they don't fit)."""
    (brk, pre), post = surroundings(fill_plan(build, instance.fillers), instance.count)
    tried: list[tuple[list[Piece], list[Piece]]] = []
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
    build: Build,
    instance: Instance,
    at: int,
    around: tuple[list[Piece], list[Piece]],
    picked: Pick,
) -> int:
    """Emit the break and pre-roll, the picked item, the post-roll; advance the instance."""
    origin = (instance.block_id, None)
    for piece in around[0]:
        at = build.emit(at, piece.segments, piece, origin)
    asset_id, segments, fallback = picked
    at = build.emit(at, segments, Piece(segments, "asset", asset_id, "programme"), origin)
    build.out[-1].fallback = fallback
    for piece in around[1]:
        at = build.emit(at, piece.segments, piece, origin)
    instance.count += 1
    instance.playlist_position += 1
    return at


def _pick(
    build: Build, instance: Instance, at: int, room: int, pending: frozenset[int]
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


def _playlist(build: Build, rule: PlaylistRule) -> list[tuple[int, int]]:
    """Return the (cached) available items of ``rule`` as (asset id, segments)."""
    if rule not in build.playlists:
        ids = rule.asset_ids
        build.playlists[rule] = [(i, build.lengths[i]) for i in ids if i in build.lengths]
    return build.playlists[rule]


def _pool(build: Build, rule: RotationRule) -> RotationPool:
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


def _finish(build: Build) -> list[TimelineEntry]:
    """Clip to the window, merge consecutive slates of the same origin, convert to entries."""
    last = build.window[1]
    merged: list[Raw] = []
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


def _mergeable(previous: Raw, raw: Raw) -> bool:
    """Tell whether ``raw`` is a slate continuing the slate ``previous`` of the same origin."""
    same_origin = (previous.block_id, previous.event_id) == (raw.block_id, raw.event_id)
    return same_origin and raw.piece.kind == previous.piece.kind == "slate"


def _entry(grid: Grid, raw: Raw) -> TimelineEntry:
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
