"""The timeline builder: channel rules + library + window + seed -> gap-free entries on the grid.

Pure (no Django, no clock). All arithmetic runs on integer segment indices counted from the
channel's epoch (``broadcasting.media.grid``), so every instant is on the grid and entries are
laid end to end:

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

Modules: ``pools`` (rotation pools, weighted picks), ``state`` (grid and build state),
``events`` (event occurrences), ``blocks`` (block instances and spans), ``fillers`` (breaks,
rolls, gap filling), ``builder`` (the build loop), ``checks`` (``timeline_problems``).
"""

from playlists.rules import TimelineEntry
from playlists.scheduling.builder import build_timeline
from playlists.scheduling.checks import timeline_problems
from playlists.scheduling.pools import (
    SAMPLING_TRIES,
    Gate,
    IndexedPool,
    Pick,
    PoolAsset,
    PoolFactory,
    RotationPool,
    ScanPool,
    choose_exact,
    length_order,
)

__all__ = [
    "SAMPLING_TRIES",
    "Gate",
    "IndexedPool",
    "Pick",
    "PoolAsset",
    "PoolFactory",
    "RotationPool",
    "ScanPool",
    "TimelineEntry",
    "build_timeline",
    "choose_exact",
    "length_order",
    "timeline_problems",
]
