"""The as-run log from what the playout actually published (issue 10).

What aired is read from the published segments' sources (``Source``), never from the plan: an
override whose clip could not be read aired the plan, and the plan is what gets logged. The
window's segments up to the one on air are cut into runs of the same thing (an item of the
timeline, or an override's clip); a run starts where what aired differs from the segment before,
and the run before it ends there. The segment just before the window (kept in the index for the
continuity counters) says whether the window's first run started there; when it is unknown (the
playout has just started) that run is ``joined``: logged only if it has no entry yet.

``as_run_records`` is pure; ``as_run_write`` writes through ``playlists.services`` (one entry
per start on a channel, so writing a record twice, or from two playouts, changes nothing).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from broadcasting.live.plan import ChannelPlan, Slot, Source
from broadcasting.media.grid import segment_start
from broadcasting.models import Asset, Override
from playlists.models import AsRunReason, Channel, ItemKind, ScheduledItem
from playlists.services import as_run_record_end, as_run_record_item, as_run_record_override


@dataclass(frozen=True)
class AsRunRecord:
    """Something started airing at ``at`` (or, ``ended``, stopped airing then)."""

    channel: Channel
    at: dt.datetime
    item: ScheduledItem | None = None
    override: Override | None = None
    asset: Asset | None = None  # what aired, for an item
    reason: AsRunReason = AsRunReason.AS_PLANNED
    joined: bool = False  # already airing when the window began: its start is unknown
    ended: bool = False

    @property
    def key(self) -> tuple[int, dt.datetime, bool]:
        """The same record, whoever computes it again, has the same key."""
        return self.channel.pk, self.at, self.ended


RunKey = tuple[str, int] | None


def _run_key(slot: Slot, source: Source) -> RunKey:
    """What a segment aired, as a run: an override's clip, an item, or nothing to log."""
    if source.override is not None:
        return "override", source.override.pk
    if slot.item is not None:
        return "item", slot.item.pk
    return None


def as_run_records(
    *, plan: ChannelPlan, slots: Iterable[Slot], aired: dict[int, Source], first: int, current: int
) -> list[AsRunRecord]:
    """The runs that started, and ended, in the published window ``[first, current]``; slots
    before ``first`` only tell what aired before it. Segments whose source is unknown (not
    published, or made from a plan since changed) neither start nor end a run."""
    records: list[AsRunRecord] = []
    before: tuple[Slot, Source] | None = None
    for slot in sorted(slots, key=lambda s: s.sequence):
        source = aired.get(slot.sequence)
        if slot.sequence > current or source is None:
            continue
        if slot.sequence < first:
            before = (slot, source)
            continue
        key = _run_key(slot, source)
        if before is not None and _run_key(*before) == key:
            before = (slot, source)
            continue
        at = segment_start(slot.sequence, epoch=plan.channel.epoch, segment_ms=plan.segment_ms)
        if before is not None:
            records += _ended(plan, before, at)
        if key is not None:
            records.append(_started(plan, slot, source, at, joined=before is None))
        before = (slot, source)
    return records


def _started(
    plan: ChannelPlan, slot: Slot, source: Source, at: dt.datetime, *, joined: bool
) -> AsRunRecord:
    if source.override is not None:
        joined = joined and source.override.start != at
        return AsRunRecord(plan.channel, at, override=source.override, joined=joined)
    item = slot.item
    assert item is not None  # noqa: S101 - a run without override is an item's
    return AsRunRecord(
        plan.channel,
        at,
        item=item,
        asset=_aired_asset(item, source, plan.slate),
        reason=_reason(item, source),
        joined=joined and item.start != at,
    )


def _ended(plan: ChannelPlan, before: tuple[Slot, Source], at: dt.datetime) -> list[AsRunRecord]:
    """The run of ``before`` ended at ``at`` (nothing to record when it is an item reaching its
    planned end, the end its entry already has)."""
    slot, source = before
    if source.override is not None:
        return [AsRunRecord(plan.channel, at, override=source.override, ended=True)]
    if slot.item is not None and slot.item.end != at:
        return [AsRunRecord(plan.channel, at, item=slot.item, ended=True)]
    return []


def _aired_asset(item: ScheduledItem, source: Source, slate: Asset | None) -> Asset | None:
    """The item's asset; for a slate entry of the timeline, the slate that really aired (the
    timeline may name none)."""
    if item.kind == ItemKind.SLATE and source.slate and slate is not None:
        return slate
    return item.asset


def _reason(item: ScheduledItem, source: Source) -> AsRunReason:
    if item.kind == ItemKind.SLATE:
        return AsRunReason.GAP
    return AsRunReason.MISSING_ASSET if source.slate else AsRunReason.AS_PLANNED


def as_run_write(record: AsRunRecord) -> bool:
    """Write one record through ``playlists.services``: whether it changed the log."""
    if record.ended:
        return bool(
            as_run_record_end(
                channel=record.channel, end=record.at, item=record.item, override=record.override
            )
        )
    if record.override is not None:
        return as_run_record_override(
            channel=record.channel,
            override=record.override,
            actual_start=record.at,
            joined=record.joined,
        )
    assert record.item is not None  # noqa: S101 - a start is an item's or an override's
    return as_run_record_item(
        channel=record.channel,
        item=record.item,
        asset=record.asset,
        actual_start=record.at,
        reason=record.reason,
        joined=record.joined,
    )
