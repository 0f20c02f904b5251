"""The working state of one build: grid, pieces, raw entries, block instances, occurrences.

``Build`` holds what one build reads and what it accumulates (plays, spans, cached pools and
plans). Everything here counts in integer segment indices from the channel's epoch.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from broadcasting.media.grid import segment_start, sequence_at, sequence_ceil
from playlists.rules import (
    Block,
    ChannelRules,
    Event,
    FillerPolicy,
    PlaylistRule,
    RotationRule,
)
from playlists.scheduling.pools import PoolAsset, PoolFactory, RotationPool


class Piece(NamedTuple):
    """Something to lay on the timeline (its natural length in segments)."""

    segments: int
    kind: str
    asset_id: int | None
    role: str
    card_category: str = ""


@dataclass(slots=True)
class Raw:
    """A timeline entry in grid indices, before conversion to ``TimelineEntry``."""

    start: int
    end: int
    piece: Piece
    block_id: int | None
    event_id: int | None
    cut: bool
    fallback: bool


@dataclass(frozen=True, slots=True)
class Grid:
    """The channel's grid for one build: instants to segment indices from the epoch and back
    (the arithmetic is ``broadcasting.media.grid``'s)."""

    epoch: datetime
    segment_ms: int

    @property
    def segment_us(self) -> int:
        return self.segment_ms * 1000

    def ceil(self, instant: datetime) -> int:
        """Return the index of ``grid_ceil(instant)``."""
        return sequence_ceil(instant, epoch=self.epoch, segment_ms=self.segment_ms)

    def floor(self, instant: datetime) -> int:
        """Return the index of ``grid_floor(instant)``."""
        return sequence_at(instant, epoch=self.epoch, segment_ms=self.segment_ms)

    def instant(self, index: int) -> datetime:
        """Return the UTC instant of grid index ``index``."""
        return segment_start(index, epoch=self.epoch, segment_ms=self.segment_ms)

    def hours(self, hours: float) -> float:
        """Return ``hours`` in segments."""
        return hours * 3_600_000_000 / self.segment_us


@dataclass(frozen=True, slots=True)
class FillPlan:
    """A ``FillerPolicy`` resolved against the library (missing assets dropped)."""

    idents: tuple[Piece, ...]
    prerolls: tuple[Piece, ...]
    postrolls: tuple[Piece, ...]
    interstitials: tuple[Piece, ...]
    cards: tuple[tuple[int, Piece], ...]
    ident_every: int | None
    gap: tuple[Piece, ...]  # remainder fillers, shortest first
    gap_lengths: tuple[int, ...]


@dataclass(slots=True)
class Instance:
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
class Occurrence:
    """One occurrence of an event: start index, hard or soft, items as pieces."""

    start: int
    hard: bool
    event: Event
    items: tuple[Piece, ...]


@dataclass(slots=True)
class Build:
    """What one build reads and the state it accumulates."""

    rules: ChannelRules
    grid: Grid
    seed: int
    window: tuple[int, int]
    horizon: int
    lengths: dict[int, int]
    groups: dict[tuple[str, str, str], list[PoolAsset]]
    holidays: frozenset[date]
    pool_factory: PoolFactory
    out: list[Raw] = field(default_factory=list)
    last: dict[int, int] = field(default_factory=dict)
    plays: dict[tuple[int, int], int] = field(default_factory=dict)
    midnights: list[int] = field(default_factory=list)
    ordinals: list[int] = field(default_factory=list)
    spans: list[tuple[int, int, Instance]] = field(default_factory=list)
    pools: dict[RotationRule, RotationPool] = field(default_factory=dict)
    plans: dict[FillerPolicy, FillPlan] = field(default_factory=dict)
    playlists: dict[PlaylistRule, list[tuple[int, int]]] = field(default_factory=dict)
    defaults: dict[int, Instance] = field(default_factory=dict)

    def day_of(self, index: int) -> int:
        """Return the local date ordinal of grid index ``index``."""
        return self.ordinals[bisect_right(self.midnights, index * self.grid.segment_us) - 1]

    def span_at(self, index: int) -> tuple[int, Instance]:
        """Return the end and the instance of the span containing ``index``."""
        _, end, instance = self.spans[bisect_right(self.spans, index, key=lambda s: s[0]) - 1]
        return end, instance

    def emit(
        self, start: int, length: int, piece: Piece, origin: tuple[int | None, int | None]
    ) -> int:
        """Lay ``piece`` for ``length`` segments at ``start`` (origin: block id, event id)."""
        self.out.append(Raw(start, start + length, piece, *origin, length < piece.segments, False))
        if piece.kind == "asset" and piece.asset_id is not None:
            self.last[piece.asset_id] = start
            key = (piece.asset_id, self.day_of(start))
            self.plays[key] = self.plays.get(key, 0) + 1
        return start + length
