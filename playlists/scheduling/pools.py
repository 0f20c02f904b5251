"""Rotation pools: the weighted random pick of one asset under the rotation constraints.

A pick is weighted by category (boosted for fresh resident assets) among the assets that fit the
room left and pass the ``Gate`` (no-repeat, max plays per day). When nothing qualifies it falls
back to the least recently played fitting asset (flagged ``repeat_fallback``); max plays per day
never falls back. ``IndexedPool`` draws by bisection with rejection sampling; ``ScanPool`` is the
naive reference that scans the whole pool at every pick.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter
from typing import NamedTuple, Protocol

from playlists.rules import RotationRule

SAMPLING_TRIES = 24
"""Rejection-sampling draws before a rotation pick falls back to an exact scan."""


class PoolAsset(NamedTuple):
    """A library asset as pools see it: length in segments, creation as a grid position.

    Pools keep them in ``length_order`` (length, then id).
    """

    segments: int
    id: int
    category: str
    created: float
    resident: bool


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
