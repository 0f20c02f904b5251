"""The playout: publishes every channel's live window to public storage, segment by segment.

For each channel segment ``n`` (airing from ``epoch + n * 4.8 s``) and each rung, the playout
resolves what airs (the scheduled item covering that instant and the segment inside its asset),
substitutes the slate when nothing is scheduled or the asset, its rendition or the segment is
missing or unreadable, rewrites the segment onto the channel grid (PTS/DTS/PCR offset,
continuity counters continued from the segment published for ``n - 1``: see ``tsrewrite``) and
publishes it under a content-addressed name. Then it writes the media playlists and the master
playlist, records the as-run log and deletes segments that have left the window.

State lives in storage only (each rung's index in ``broadcasting.live.store``: for each published
sequence, its name and the source it was made from), so the process is stateless across
restarts: a segment already published from the same source is kept; one whose plan changed is
made again, and so are all after it (their counters follow from it). Segments already on air
are never remade.

The slate is the channel's own when it is usable, else the channel's built-in slate
(``broadcasting.live.slate``): the playout command makes it once, before publishing, for every
channel without a usable slate, so ``publish_window`` never runs ffmpeg. Only when even that
could not be made are such segments left out (``PublishReport.unfilled``).

Card slots air the channel's ident until city-feed cards exist.
An override active at a segment's start airs its clip instead (``broadcasting.live.overrides``);
when it stops the plan resumes at wall clock. The as-run log (written through
``playlists.services``) records each item that started airing: ``gap`` for a slate entry of the
timeline, ``missing_asset`` for an item that aired the slate instead of its video. Nothing is
logged where no timeline was built at all.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from broadcasting.live.overrides import override_at, override_index, window_of
from broadcasting.live.playlist import master_playlist, media_playlist
from broadcasting.live.slate import slate_for_air
from broadcasting.live.store import (
    INDEX_NAME,
    PLAYLIST_NAME,
    Index,
    IndexEntry,
    master_name,
    read_file,
    read_index,
    rung_prefix,
    segment_name,
    write_file,
    write_index,
)
from broadcasting.live.tsrewrite import (
    TICKS_PER_MS,
    ContinuityState,
    TsError,
    channel_pts,
    first_pts,
    last_counters,
    offset_for,
    rewrite_segment,
)
from broadcasting.media.grid import segment_index, segment_start, sequence_at
from broadcasting.media.storage import public_storage
from broadcasting.models import Asset, Override, Rendition
from playlists.models import AsRunReason, Channel, ItemKind, ScheduledItem
from playlists.selectors import item_at
from playlists.services import as_run_record_item, as_run_record_override

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where the bytes of one channel segment come from."""

    name: str  # the storage name of the asset's segment
    asset_id: int
    slate: bool  # substituted for what was planned


@dataclass(frozen=True)
class Slot:
    """What airs during channel segment ``sequence``, resolved once for every rung."""

    sequence: int
    item: ScheduledItem | None
    index: int  # the segment inside the item's asset
    override: Override | None = None  # airing instead of the plan, at segment ``override_index``
    override_index: int = 0


@dataclass
class PublishReport:
    """What one call of ``publish_window`` did, per channel."""

    channel: str
    sequence: int  # the segment airing at ``now``
    published: list[str] = field(default_factory=list)
    kept: int = 0
    slated: list[int] = field(default_factory=list)  # sequences that aired the slate
    unfilled: list[int] = field(default_factory=list)  # no slate either: left out
    deleted: list[str] = field(default_factory=list)
    as_run: int = 0


def resolve_slot(*, channel: Channel, sequence: int, segment_ms: int) -> Slot:
    """The item airing at the start of segment ``sequence`` and the segment index inside it."""
    at = segment_start(sequence, epoch=channel.epoch, segment_ms=segment_ms)
    item = item_at(channel=channel, at=at)
    index = 0
    if item is not None:
        index = segment_index(at, start=item.start, segment_ms=segment_ms)
    override = override_at(channel=channel, at=at)
    if override is not None:
        window = window_of(override, segment_ms=segment_ms, epoch=channel.epoch)
        clip_index = override_index(sequence, window)
        if clip_index is not None:
            return Slot(sequence, item, index, override=override, override_index=clip_index)
    return Slot(sequence=sequence, item=item, index=index)


def _rendition(asset: Asset | None, rung: str) -> Rendition | None:
    if asset is None or not asset.is_schedulable:
        return None
    return next((r for r in asset.renditions.all() if r.name == rung), None)


def _segment_of(asset: Asset | None, rung: str, index: int) -> tuple[str, bytes] | None:
    """The name and bytes of segment ``index`` of the asset's rung, if present and readable."""
    rendition = _rendition(asset, rung)
    if rendition is None or not 0 <= index < rendition.segment_count:
        return None
    name = f"{rendition.segment_prefix}seg_{index:05d}.ts"
    data = read_file(public_storage(), name)
    if not data:
        return None
    try:
        first_pts(data)
    except TsError:
        logger.warning("unreadable segment %s", name)
        return None
    return name, data


def card_stand_in(channel: Channel) -> Asset | None:
    """What a card slot airs until city-feed cards exist: the channel's first ready ident."""
    fillers = channel.default_fillers
    if fillers is None:
        return None
    return next((a for a in fillers.idents.order_by("pk") if a.is_schedulable), None)


def _planned(channel: Channel, slot: Slot, rung: str) -> tuple[Asset | None, int]:
    """The asset planned for the slot and the segment index inside it."""
    if slot.item is None:
        return None, slot.index
    if slot.item.kind == "card_slot":
        ident = card_stand_in(channel)
        rendition = _rendition(ident, rung)
        if rendition is None or not rendition.segment_count:
            return None, slot.index
        return ident, slot.index % rendition.segment_count
    return slot.item.asset, slot.index


def source_for(
    *, channel: Channel, slot: Slot, rung: str, slate: Asset | None
) -> tuple[Source, bytes] | None:
    """The planned segment (a card slot: the channel's ident), else ``slate``'s (index modulo
    its length), else ``None``. An override's clip replaces the plan (if its segment is readable).
    ``slate`` is what ``slate_for_air`` chose for the channel."""
    if slot.override is not None:
        clip = _segment_of(slot.override.asset, rung, slot.override_index)
        if clip is not None:
            return Source(name=clip[0], asset_id=slot.override.asset_id, slate=False), clip[1]
    asset, index = _planned(channel, slot, rung)
    found = _segment_of(asset, rung, index)
    if found is not None and asset is not None:
        return Source(name=found[0], asset_id=asset.pk, slate=False), found[1]
    rendition = _rendition(slate, rung)
    if slate is None or rendition is None or not rendition.segment_count:
        return None
    found = _segment_of(slate, rung, slot.sequence % rendition.segment_count)
    if found is None:
        return None
    return Source(name=found[0], asset_id=slate.pk, slate=True), found[1]


def _continuity_before(
    storage: Storage, prefix: str, index: Index, sequence: int
) -> ContinuityState:
    """The counters after the segment published for ``sequence - 1`` (fresh if there is none)."""
    previous = index.get(sequence - 1)
    data = read_file(storage, f"{prefix}/{previous.name}") if previous else None
    return last_counters(data) if data else ContinuityState()


def publish_rung(
    *,
    channel: Channel,
    rung: str,
    slots: list[Slot],
    current: int,
    window: int,
    report: PublishReport,
    slate: Asset | None,
) -> dict[int, Source]:
    """Publish the rung's segments of ``slots``, its media playlist, and prune its old segments.
    ``slate`` airs where nothing else can."""
    storage = public_storage()
    spec = channel.channel_format.to_spec()
    prefix = rung_prefix(channel.slug, rung)
    index = read_index(storage, prefix)
    aired: dict[int, Source] = {}
    remake = False
    for slot in slots:
        n = slot.sequence
        found = source_for(channel=channel, slot=slot, rung=rung, slate=slate)
        if found is None:
            report.unfilled.append(n)
            remake = True
            continue
        source, data = found
        aired[n] = source
        known = index.get(n)
        on_air = known is not None and n <= current and storage.exists(f"{prefix}/{known.name}")
        if known is not None and (on_air or (not remake and known.source == source.name)):
            report.kept += 1
            continue
        remake = True
        state = _continuity_before(storage, prefix, index, n)
        target = channel_pts(n, segment_ticks=spec.segment_ms * TICKS_PER_MS)
        offset = offset_for(segment_first_pts=first_pts(data), channel_pts=target)
        out = rewrite_segment(data, offset_ticks=offset, continuity=state)
        name = segment_name(sequence=n, data=out)
        if not storage.exists(f"{prefix}/{name}"):
            storage.save(f"{prefix}/{name}", ContentFile(out))
        index[n] = IndexEntry(name=name, source=source.name)
        report.published.append(f"{prefix}/{name}")
    first = current - window + 1
    listed = [index[n].name for n in range(first, current + 1) if n in index]
    start = next((n for n in range(first, current + 1) if n in index), first)
    text = media_playlist(
        first_sequence=start, segment_uris=listed, epoch=channel.epoch, segment_ms=spec.segment_ms
    )
    _prune(storage=storage, prefix=prefix, index=index, first=first, report=report)
    write_index(storage, prefix, index)
    write_file(storage, f"{prefix}/{PLAYLIST_NAME}", text.encode())
    return aired


def _prune(
    *,
    storage: Storage,
    prefix: str,
    index: Index,
    first: int,
    report: PublishReport,
) -> None:
    """Forget sequences before the window (keeping ``first - 1`` for the counters) and delete
    every segment file of the prefix that the index no longer names."""
    for n in [n for n in index if n < first - 1]:
        del index[n]
    keep = {entry.name for entry in index.values()} | {INDEX_NAME, PLAYLIST_NAME}
    try:
        _, files = storage.listdir(prefix)
    except FileNotFoundError:  # nothing was ever published on this rung
        files = []
    for name in files:
        if name not in keep:
            storage.delete(f"{prefix}/{name}")
            report.deleted.append(f"{prefix}/{name}")


def record_as_run(
    *,
    channel: Channel,
    slots: list[Slot],
    aired: dict[int, Source],
    current: int,
    slate: Asset | None = None,
) -> int:
    """One as-run entry per item that started airing (at or before ``current``); returns how many
    were created. A slate entry of the timeline is logged ``gap`` (with the slate that aired);
    any other item whose first aired segment is the slate is logged ``missing_asset``."""
    created = 0
    for slot in slots:
        if slot.override is not None and slot.sequence <= current and slot.sequence in aired:
            created += as_run_record_override(channel=channel, override=slot.override)
            continue
        if slot.item is None or slot.sequence > current or slot.sequence not in aired:
            continue
        source = aired[slot.sequence]
        segment_ms = channel.channel_format.segment_ms
        created += as_run_record_item(
            channel=channel,
            item=slot.item,
            asset=_aired_asset(slot.item, source, slate),
            actual_start=segment_start(slot.sequence, epoch=channel.epoch, segment_ms=segment_ms),
            reason=_reason(slot.item, source),
        )
    return created


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


def publish_window(
    *,
    channel: Channel,
    now: dt.datetime,
    ahead: int = 3,
    window: int = 6,
    rungs: list[str] | None = None,
) -> PublishReport:
    """Publish segments ``[seq(now) - window + 1, seq(now) + ahead]`` of every rung, the media
    playlists (the ``window`` segments up to the one airing at ``now``) and the master playlist.
    ``rungs`` restricts the ladder (default: every rung of the channel's format)."""
    spec = channel.channel_format.to_spec()
    current = sequence_at(now, epoch=channel.epoch, segment_ms=spec.segment_ms)
    report = PublishReport(channel=channel.slug, sequence=current)
    slots = [
        resolve_slot(channel=channel, sequence=n, segment_ms=spec.segment_ms)
        for n in range(current - window + 1, current + ahead + 1)
    ]
    names = rungs if rungs is not None else [rung.name for rung in spec.rungs]
    aired: dict[int, Source] = {}
    slate = slate_for_air(channel=channel)
    for rung in names:
        aired_rung = publish_rung(
            channel=channel,
            rung=rung,
            slots=slots,
            current=current,
            window=window,
            report=report,
            slate=slate,
        )
        aired = aired or aired_rung  # the first rung speaks for the as-run log
        report.slated.extend(n for n, s in aired_rung.items() if s.slate and n not in report.slated)
    kept = [rung for rung in spec.rungs if rung.name in names]
    master = master_playlist(spec=replace(spec, rungs=tuple(kept)))
    write_file(public_storage(), master_name(channel.slug), master.encode())
    report.as_run = record_as_run(
        channel=channel, slots=slots, aired=aired, current=current, slate=slate
    )
    return report
