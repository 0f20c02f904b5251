"""Checks of a built timeline: it must tile ``[grid_ceil(start), grid_ceil(end))`` on the grid."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from broadcasting.media.grid import grid_ceil, is_on_grid
from playlists.rules import ENTRY_KINDS, TimelineEntry


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
    first = grid_ceil(start, epoch=epoch, segment_ms=segment_ms)
    last = grid_ceil(end, epoch=epoch, segment_ms=segment_ms)
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
        if not is_on_grid(instant, epoch=epoch, segment_ms=segment_ms):
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
