"""The playout: publishes every channel's live window to public storage, segment by segment.

For each channel segment ``n`` (airing from ``epoch + n * 4.8 s``) and each rung, the playout
resolves what airs from the plan it holds (``broadcasting.live.plan``: the overrides, the item
covering that instant and the segment inside its asset), substitutes the slate when nothing is
scheduled or the asset, its rendition or the segment is missing or unreadable, rewrites the
segment onto the channel grid (PTS/DTS/PCR offset, continuity counters continued from the
segment published for ``n - 1``: see ``tsrewrite``) and publishes it under a content-addressed
name. It writes the media playlists and the master playlist, and deletes segments that have
left the window. Publishing reads no database: everything comes from the plan.

It runs in two phases (``publish_window`` runs both): ``publish_air``, the time-critical one,
makes what is missing up to the segment on air (normally nothing: it was made ahead), writes the
playlists (the master only when it changed) and tells what aired; ``publish_ahead`` deletes the
segments that have left the window and makes the next few. The loop runs the first phase for
every channel due at a boundary before the second, which it runs one offset at a time across
its channels (every channel's next segment, then the one after) and interrupts when a channel
falls due: no channel's playlist waits for another's segments.

State lives in storage only (each rung's index in ``broadcasting.live.store``: for each published
sequence, its name and the source it was made from), so the process is stateless across
restarts: a segment already published from the same source is kept; one whose plan changed is
made again, and so are all after it (their counters follow from it). A segment a playlist has
listed is never remade; the one a round is about to list (made ahead in the round before) is,
when its plan changed meanwhile: an override started until the round (an emergency alert) airs
at its boundary (issue 12). An asset's segment is read only when a segment is made from it; the counters
after a segment this process made are remembered (``_AFTER``) instead of being read back.

A segment is written under a temporary name and renamed into place (``store.write_file``), so a
kill mid-write never leaves a truncated file under its content-addressed name (which a CDN would
cache for a day); one found there with the wrong size (left by an older playout) is replaced,
and on S3 (no rename) the stored size is checked before a playlist names the segment.

The slate is the channel's own when it is usable, else the channel's built-in slate
(``broadcasting.live.slate``): the playout command makes it once, before publishing, for every
channel without a usable slate, so ``publish_window`` never runs ffmpeg. Only when even that
could not be made are such segments left out (``PublishReport.unfilled``).

Card slots air the freshest card of their category (``ChannelPlan.card_for``), else the
channel's ident. The highest override airing at a
segment's start airs its clip instead (``broadcasting.live.overrides``); when it stops the next
override or the plan resumes at wall clock. The as-run log is made from what was published
(``broadcasting.live.as_run``): ``gap`` for a slate entry of the timeline, ``missing_asset`` for
an item that aired the slate instead of its video; nothing where no timeline was built at all.
"""

import datetime as dt
import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from django.core.files.storage import Storage

from broadcasting.live.as_run import AsRunRecord, as_run_records, as_run_write
from broadcasting.live.plan import ChannelPlan, Slot, Source, plan_resolve, resolve_slot
from broadcasting.live.playlist import master_playlist, media_playlist
from broadcasting.live.store import (
    INDEX_NAME,
    PLAYLIST_NAME,
    Index,
    IndexEntry,
    index_storage,
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
    check_packets,
    first_pts,
    last_counters,
    offset_for,
    rewrite_segment,
)
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import private_storage, public_storage
from broadcasting.models import Asset, Override, Rendition
from playlists.models import Channel

logger = logging.getLogger(__name__)
# The counters after each segment this process made ("<rung folder>/<name>": content-addressed,
# so the same name always has the same counters), instead of reading the segment back.
_AFTER: OrderedDict[str, ContinuityState] = OrderedDict()
_AFTER_SIZE = 8192  # 50 channels x 4 rungs x 40 segments
_MASTERS: dict[str, str] = {}  # the master playlists written (by name)
# The first PTS of each asset segment read (by storage name and size): a segment airs on several
# channels (the slate, idents, a shared library), and finding it scans the whole segment.
_FIRST_PTS: OrderedDict[tuple[str, int], int] = OrderedDict()


class SegmentNotStored(OSError):
    """Storage holds another size than was written under a segment's name (S3, no rename)."""


@dataclass
class PublishReport:
    """What one publishing of a channel did (both phases)."""

    channel: str
    sequence: int  # the segment airing at ``now``
    first: int  # the first segment of the window
    published: list[str] = field(default_factory=list)
    kept: int = 0
    slated: list[int] = field(default_factory=list)  # sequences that aired the slate
    unfilled: list[int] = field(default_factory=list)  # no slate either: left out
    deleted: list[str] = field(default_factory=list)
    as_run: int = 0  # changes to the as-run log (``publish_window`` only)
    as_run_records: list[AsRunRecord] = field(default_factory=list)  # what aired, to log
    changed_rungs: set[str] = field(default_factory=set)  # the last segment was made anew


def _rendition(asset: Asset | None, rung: str) -> Rendition | None:
    if asset is None or not asset.is_schedulable:
        return None
    return next((r for r in asset.renditions.all() if r.name == rung), None)


def _segment_of(asset: Asset | None, rung: str, index: int) -> tuple[str, bytes] | None:
    """The name and bytes of segment ``index`` of the asset's rung, if present and readable."""
    name = _segment_name(asset, rung, index)
    if name is None:
        return None
    data = read_file(private_storage(), name)  # the renditions' one copy (media/storage.py)
    if not data:
        return None
    try:
        check_packets(data)  # the whole segment: ``first_pts`` reads only its first packets
        first_pts(data)
    except TsError:
        logger.warning("unreadable segment %s", name)
        return None
    return name, data


@dataclass(frozen=True)
class _Candidate:
    """A segment that could air in a slot, before it is read."""

    asset: Asset
    index: int
    slate: bool = False
    override: Override | None = None


def _planned(plan: ChannelPlan, slot: Slot, rung: str) -> tuple[Asset | None, int]:
    """The asset planned for the slot and the segment index inside it."""
    if slot.item is None:
        return None, slot.index
    if slot.item.kind == "card_slot":
        at = segment_start(slot.sequence, epoch=plan.channel.epoch, segment_ms=plan.segment_ms)
        card = plan.card_for(slot.item, at=at)
        rendition = _rendition(card, rung)
        if rendition is None or not rendition.segment_count:
            return None, slot.index
        return card, slot.index % rendition.segment_count
    return slot.item.asset, slot.index


def _candidates(plan: ChannelPlan, slot: Slot, rung: str) -> list[tuple[_Candidate, str]]:
    """In order of preference, what the slot may air and the name of its segment: the
    override's clip, the plan (a card slot: its card or the channel's ident), the slate (index modulo its
    length). Only those whose rendition has the segment; none is read here."""
    found: list[_Candidate] = []
    if slot.override is not None:
        found.append(_Candidate(slot.override.asset, slot.override_index, override=slot.override))
    asset, index = _planned(plan, slot, rung)
    if asset is not None:
        found.append(_Candidate(asset, index))
    slate = _rendition(plan.slate, rung)
    if plan.slate is not None and slate is not None and slate.segment_count:
        found.append(_Candidate(plan.slate, slot.sequence % slate.segment_count, slate=True))
    named = ((candidate, _source_name(candidate, rung)) for candidate in found)
    return [(candidate, name) for candidate, name in named if name is not None]


def _source_name(candidate: _Candidate, rung: str) -> str | None:
    """The storage name of the candidate's segment."""
    return _segment_name(candidate.asset, rung, candidate.index)


def _segment_name(asset: Asset | None, rung: str, index: int) -> str | None:
    """The storage name of segment ``index`` of the asset's rung (``None``: it has none)."""
    rendition = _rendition(asset, rung)
    if rendition is None or not 0 <= index < rendition.segment_count:
        return None
    return f"{rendition.segment_prefix}seg_{index:05d}.ts"


def _source(candidate: _Candidate, name: str) -> Source:
    return Source(
        name=name, asset_id=candidate.asset.pk, slate=candidate.slate, override=candidate.override
    )


def _aired(
    options: list[tuple[_Candidate, str]], source_name: str, before: Source | None
) -> Source | None:
    """What an already published segment aired, from the name of its source (``None``: made
    from a plan that has changed since). When an override's clip and the plan name the same
    segment, the one that aired just ``before`` it goes on (else the plan): the same bytes do
    not start an override (it was made before the override existed, or airs what was planned)."""
    found = [_source(c, name) for c, name in options if name == source_name]
    previous = before.override if before is not None else None
    found.sort(key=lambda source: (source.override != previous, source.override is not None))
    return found[0] if found else None


def source_for(*, plan: ChannelPlan, slot: Slot, rung: str) -> tuple[Source, bytes] | None:
    """The first candidate whose segment is present and readable, and its bytes."""
    for candidate, _ in _candidates(plan, slot, rung):
        found = _segment_of(candidate.asset, rung, candidate.index)
        if found is not None:
            return _source(candidate, found[0]), found[1]
    return None


def _continuity_before(
    storage: Storage, prefix: str, index: Index, sequence: int
) -> ContinuityState:
    """The counters after the segment published for ``sequence - 1`` (fresh if there is none)."""
    previous = index.get(sequence - 1)
    if previous is None:
        return ContinuityState()
    remembered = _AFTER.get(f"{prefix}/{previous.name}")
    if remembered is not None:
        return ContinuityState(counters=dict(remembered.counters))
    data = read_file(storage, f"{prefix}/{previous.name}")
    return last_counters(data) if data else ContinuityState()


def _first_pts(name: str, data: bytes) -> int:
    key = (name, len(data))
    if key not in _FIRST_PTS:
        _FIRST_PTS[key] = first_pts(data)
        while len(_FIRST_PTS) > _AFTER_SIZE:
            _FIRST_PTS.popitem(last=False)
    return _FIRST_PTS[key]


def _remember(name: str, state: ContinuityState) -> None:
    _AFTER[name] = ContinuityState(counters=dict(state.counters))
    _AFTER.move_to_end(name)
    while len(_AFTER) > _AFTER_SIZE:
        _AFTER.popitem(last=False)


def _store_segment(storage: Storage, name: str, data: bytes) -> None:
    """Write a content-addressed segment unless it is there whole: through a temporary name
    renamed into place locally (``write_file``); a file of another size under the name (an
    older playout killed mid-write) is replaced. On S3 a PUT has no rename: the stored size is
    checked before any playlist names the segment."""
    if storage.exists(name) and storage.size(name) == len(data):
        return
    write_file(storage, name, data)
    if storage.size(name) != len(data):
        raise SegmentNotStored(f"{name}: {storage.size(name)} bytes stored, {len(data)} written")


def _make(
    *, plan: ChannelPlan, storage: Storage, prefix: str, index: Index, slot: Slot, rung: str
) -> tuple[Source, str] | None:
    """Make the slot's segment from its first readable candidate: what aired and the name it
    was published under; ``None`` when nothing can air (no slate either)."""
    found = source_for(plan=plan, slot=slot, rung=rung)
    if found is None:
        return None
    source, data = found
    state = _continuity_before(storage, prefix, index, slot.sequence)
    target = channel_pts(slot.sequence, segment_ticks=plan.segment_ms * TICKS_PER_MS)
    offset = offset_for(segment_first_pts=_first_pts(source.name, data), channel_pts=target)
    out = rewrite_segment(data, offset_ticks=offset, continuity=state)
    name = segment_name(sequence=slot.sequence, data=out)
    _store_segment(storage, f"{prefix}/{name}", out)
    _remember(f"{prefix}/{name}", state)
    return source, name


def publish_rung(
    *,
    plan: ChannelPlan,
    rung: str,
    slots: list[Slot],
    first: int,
    current: int,
    report: PublishReport,
    window: int | None = None,
    remake: bool = False,
    make_from: int | None = None,
    prune: bool = False,
) -> tuple[dict[int, Source], bool]:
    """Publish the rung's segments of ``slots`` from ``first`` on (those before only say what
    aired, from the index; missing ones before ``make_from`` are not made; one already listed
    is never made again) and, given a ``window``, its media playlist (the index marks what it
    lists); with ``prune``, delete the files of segments older than
    the window. The index is written when a segment was made, without the sequences older
    than the window (but the one before it, for the counters). What each segment aired, and
    whether the last one was made anew (``remake``: later ones must be made again, their
    counters follow from it)."""
    storage = public_storage()
    prefix = rung_prefix(plan.channel.slug, rung)
    index = read_index(index_storage(), prefix)
    aired: dict[int, Source] = {}
    changed = False
    for slot in slots:
        n, known = slot.sequence, index.get(slot.sequence)
        options = _candidates(plan, slot, rung)
        if known is not None and (
            n < first
            or (n <= current and known.listed and storage.exists(f"{prefix}/{known.name}"))
        ):  # what aired before the window, or a playlist lists: never remade
            if (found := _aired(options, known.source, aired.get(n - 1))) is not None:
                aired[n] = found
            report.kept += n >= first
            continue
        if n < first:  # nothing known before the window
            continue
        if known is not None and not remake and options and known.source == options[0][1]:
            # unchanged: kept, and airing what went on before it when several name it
            aired[n] = _aired(options, known.source, aired.get(n - 1)) or _source(*options[0])
            report.kept += 1
            continue
        if make_from is not None and n < make_from:  # aired already: too late to make
            continue
        made = _make(plan=plan, storage=storage, prefix=prefix, index=index, slot=slot, rung=rung)
        if made is None:
            report.unfilled.append(n)
            remake = True
            continue
        aired[n], name = made
        remake = remake or known is None or known.name != name
        index[n] = IndexEntry(name=name, source=aired[n].name, listed=False)
        changed = True
        report.published.append(f"{prefix}/{name}")
    for n in [n for n in index if n < report.first - 1]:
        del index[n]
    if window is not None:
        changed |= _mark_listed(index, first=current - window + 1, last=current)
    if changed:  # else the next segment made writes it (without the sequences forgotten)
        write_index(index_storage(), prefix, index)  # before the playlist: never remade after
    if window is not None:
        _publish_playlist(plan=plan, storage=storage, prefix=prefix, index=index, window=window,
                          current=current)  # fmt: skip
    if prune:
        _prune(storage=storage, prefix=prefix, index=index, report=report)
    return aired, remake


def _mark_listed(index: Index, *, first: int, last: int) -> bool:
    """Mark the index's segments ``first``..``last`` as listed; whether any was not."""
    marked = False
    for n in range(first, last + 1):
        entry = index.get(n)
        if entry is not None and not entry.listed:
            index[n] = replace(entry, listed=True)
            marked = True
    return marked


def _publish_playlist(
    *,
    plan: ChannelPlan,
    storage: Storage,
    prefix: str,
    index: Index,
    window: int,
    current: int,
) -> None:
    """The rung's media playlist: the ``window`` segments up to ``current`` (those published:
    the unbroken run that ends with the last one, so that each is listed at its sequence)."""
    first = current - window + 1
    end = next((n for n in range(current, first - 1, -1) if n in index), first - 1)
    start = end + 1
    while start > first and start - 1 in index:
        start -= 1
    listed = [index[n].name for n in range(start, end + 1)]
    text = media_playlist(
        first_sequence=start,
        segment_uris=listed,
        epoch=plan.channel.epoch,
        segment_ms=plan.segment_ms,
    )
    write_file(storage, f"{prefix}/{PLAYLIST_NAME}", text.encode())


def _prune(*, storage: Storage, prefix: str, index: Index, report: PublishReport) -> None:
    """Delete every segment file of the prefix that the index no longer names."""
    keep = {entry.name for entry in index.values()} | {INDEX_NAME, PLAYLIST_NAME}
    try:
        _, files = storage.listdir(prefix)
    except FileNotFoundError:  # nothing was ever published on this rung
        files = []
    for name in files:
        if name not in keep:  # a temporary file left by a killed write too
            storage.delete(f"{prefix}/{name}")
            report.deleted.append(f"{prefix}/{name}")


def _rungs(plan: ChannelPlan, rungs: list[str] | None) -> list[str]:
    return (
        rungs
        if rungs is not None
        else [r.name for r in plan.channel.channel_format.to_spec().rungs]
    )


def publish_air(
    *,
    plan: ChannelPlan,
    now: dt.datetime,
    window: int = 6,
    rungs: list[str] | None = None,
    backfill: bool = True,
) -> PublishReport:
    """The time-critical phase: segments ``[seq(now) - window + 1, seq(now)]`` of every rung
    (normally made ahead already), the media playlists listing them and the master playlist;
    what aired, for the as-run log (``report.as_run_records``). ``rungs`` restricts the ladder
    (default: every rung of the channel's format). Without ``backfill`` (the loop), a segment
    of the window that is missing and has aired already is not made: only the one on air."""
    channel = plan.channel
    spec = channel.channel_format.to_spec()
    current = sequence_at(now, epoch=channel.epoch, segment_ms=spec.segment_ms)
    first = current - window + 1
    report = PublishReport(channel=channel.slug, sequence=current, first=first)
    slots = [resolve_slot(plan=plan, sequence=n) for n in range(first - 1, current + 1)]
    aired: dict[int, Source] = {}
    names = _rungs(plan, rungs)
    for rung in names:
        aired_rung, changed = publish_rung(
            plan=plan, rung=rung, slots=slots, first=first, current=current, report=report,
            window=window, make_from=None if backfill else current,
        )  # fmt: skip
        if changed:
            report.changed_rungs.add(rung)
        aired = aired or aired_rung  # the first rung speaks for the as-run log
        _count_slated(report, aired_rung, first)
    kept = [rung for rung in spec.rungs if rung.name in names]
    _publish_master(channel.slug, master_playlist(spec=replace(spec, rungs=tuple(kept))))
    report.as_run_records = as_run_records(
        plan=plan, slots=slots, aired=aired, first=first, current=current
    )
    return report


def publish_ahead(
    *,
    plan: ChannelPlan,
    now: dt.datetime,
    report: PublishReport,
    ahead: int = 3,
    rungs: list[str] | None = None,
    start: int = 1,
) -> None:
    """The second phase: segments ``seq(now) + start`` to ``seq(now) + ahead`` of every rung,
    made before they air (no playlist names them yet); from ``start`` 1, the files of segments
    that have left the window are deleted first. (The loop makes them one offset at a time
    across its channels, the soonest first: ``start = ahead = k``.)"""
    current = report.sequence
    first = current + start
    slots = [resolve_slot(plan=plan, sequence=n) for n in range(first, current + ahead + 1)]
    for rung in _rungs(plan, rungs):
        aired_rung, remade = publish_rung(
            plan=plan, rung=rung, slots=slots, first=first, current=current, report=report,
            remake=rung in report.changed_rungs, prune=start == 1,
        )  # fmt: skip
        if remade:  # the next offset must follow from it
            report.changed_rungs.add(rung)
        else:
            report.changed_rungs.discard(rung)
        _count_slated(report, aired_rung, first)


def _publish_master(slug: str, text: str) -> None:
    """The master playlist, written when it differs from the one this process last wrote."""
    storage, name = public_storage(), master_name(slug)
    if _MASTERS.get(name) == text and storage.exists(name):
        return
    write_file(storage, name, text.encode())
    _MASTERS[name] = text


def _count_slated(report: PublishReport, aired: dict[int, Source], first: int) -> None:
    report.slated.extend(
        n for n, s in sorted(aired.items()) if n >= first and s.slate and n not in report.slated
    )


def publish_window(
    *,
    channel: Channel,
    now: dt.datetime,
    ahead: int = 3,
    window: int = 6,
    rungs: list[str] | None = None,
    plan: ChannelPlan | None = None,
) -> PublishReport:
    """Publish segments ``[seq(now) - window + 1, seq(now) + ahead]`` of every rung, the media
    playlists (the ``window`` segments up to the one airing at ``now``) and the master playlist,
    then write the as-run log. Without a ``plan``, one is read for the window (the loop passes
    the plan it holds)."""
    if plan is None:
        segment_ms = channel.channel_format.segment_ms
        current = sequence_at(now, epoch=channel.epoch, segment_ms=segment_ms)
        plan = plan_resolve(
            channel=channel,
            start=segment_start(current - window, epoch=channel.epoch, segment_ms=segment_ms),
            end=segment_start(current + ahead + 1, epoch=channel.epoch, segment_ms=segment_ms),
        )
    report = publish_air(plan=plan, now=now, window=window, rungs=rungs)
    publish_ahead(plan=plan, now=now, report=report, ahead=ahead, rungs=rungs)
    report.as_run = sum(as_run_write(record) for record in report.as_run_records)
    return report
