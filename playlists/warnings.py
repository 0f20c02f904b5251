"""Programming problems an editor should see before they reach the air.

``programming_warnings(channel=...)`` inspects a channel's rules against the library of
schedulable assets (ready and approved) and returns one ``ProgrammingWarning`` per problem:
overlapping event occurrences in the next 14 days, rotations whose pool is empty, playlists with
nothing to play, blocks shorter than their shortest video, blocks without content, events with
nothing to play and a channel without a usable slate. The event arithmetic (RRULE expansion in
local time, overlaps) is pure and tested without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from django.db.models import ExpressionWrapper, F, FloatField, Min, Model, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from broadcasting.media.selectors import assets_schedulable
from broadcasting.models import Asset, AssetKind
from playlists.calendar import resolve_local, zone_for
from playlists.models import Block, Channel, Event, Playlist, Rotation

EVENT_HORIZON = dt.timedelta(days=14)
_LOOKBACK = dt.timedelta(days=1)


class Level(StrEnum):
    ERROR = "error"  # something will not air as programmed
    WARNING = "warning"  # something airs, but probably not as the editor meant


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammingWarning:
    """One problem: ``code`` is stable (for tests and filtering), ``message`` lazy-translated,
    ``subject`` the object to fix (its admin edit page is linked when there is one)."""

    level: Level
    code: str
    message: Promise | str
    subject: Model | None = None


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One airing of an event: ``start``..``end`` aware UTC."""

    event_id: int
    title: str
    start: dt.datetime
    end: dt.datetime


def programming_warnings(
    *, channel: Channel, now: dt.datetime | None = None
) -> list[ProgrammingWarning]:
    """Return every programming problem of ``channel``, errors first."""
    now = now or timezone.now()
    blocks = list(channel.blocks.select_related("rotation", "playlist").order_by("start", "pk"))
    library = channel_library(channel)
    found = [
        *_slate_warnings(channel),
        *_block_warnings(blocks, library),
        *_event_warnings(channel, library, now),
    ]
    return sorted(found, key=lambda w: w.level != Level.ERROR)


# Slate ----------------------------------------------------------------------------------------


def _slate_warnings(channel: Channel) -> list[ProgrammingWarning]:
    message: Promise | str
    if channel.slate is None:
        message = _("The channel has no slate: the playout's built-in slate will air instead.")
    elif not channel.slate.is_schedulable:
        message = format_lazy(
            _("The slate “{title}” is not ready and approved: it cannot air."),
            title=channel.slate.title,
        )
    else:
        return []
    return [
        ProgrammingWarning(level=Level.WARNING, code="no_slate", message=message, subject=channel)
    ]


# Blocks, rotations and playlists --------------------------------------------------------------


def channel_library(channel: Channel) -> QuerySet[Asset]:
    """What the builder may air on ``channel`` (as ``rulebook.library_for`` sees it): schedulable
    assets of its format with segments, annotated with ``length_s``, their padded length."""
    seconds = channel.channel_format.segment_ms / 1000
    length = ExpressionWrapper(F("segment_count") * seconds, output_field=FloatField())
    return (
        assets_schedulable()
        .filter(channel_format_id=channel.channel_format_id, segment_count__gt=0)
        .annotate(length_s=length)
    )


def rotation_pool(rotation: Rotation, library: QuerySet[Asset]) -> QuerySet[Asset]:
    """Assets a rotation may pick (empty kinds mean programmes, like the builder)."""
    pool = library.filter(kind__in=rotation.kinds or [AssetKind.PROGRAMME])
    if rotation.categories:
        pool = pool.filter(category__in=rotation.categories)
    if rotation.origins:
        pool = pool.filter(origin__in=rotation.origins)
    excluded = [name for name, weight in (rotation.weights or {}).items() if weight <= 0]
    return pool.exclude(category__in=excluded)


def playlist_pool(playlist: Playlist, library: QuerySet[Asset]) -> QuerySet[Asset]:
    """Assets of a playlist that may air."""
    return library.filter(pk__in=playlist.items.values_list("asset_id", flat=True))


def _block_warnings(blocks: Sequence[Block], library: QuerySet[Asset]) -> list[ProgrammingWarning]:
    found: list[ProgrammingWarning] = []
    shortest: dict[tuple[str, int], float | None] = {}
    for block in blocks:
        content = _content_key(block)
        if content is None:
            found.append(_no_content(block))
            continue
        if content not in shortest:
            shortest[content] = _shortest(block, library)
            if shortest[content] is None:
                found.append(_empty_pool(block))
        length = shortest[content]
        if length is not None and block_length(block).total_seconds() < length:
            found.append(_too_short(block, length))
    return found


def _content_key(block: Block) -> tuple[str, int] | None:
    if block.rotation_id:
        return ("rotation", block.rotation_id)
    if block.playlist_id:
        return ("playlist", block.playlist_id)
    return None


def _shortest(block: Block, library: QuerySet[Asset]) -> float | None:
    """Padded length (s) of the block's shortest schedulable video; None when there is none."""
    if block.rotation is not None:
        pool = rotation_pool(block.rotation, library)
    else:
        assert block.playlist is not None  # noqa: S101 - blocks without content are skipped
        pool = playlist_pool(block.playlist, library)
    return pool.aggregate(shortest=Min("length_s"))["shortest"]  # type: ignore[arg-type]


def block_length(block: Block) -> dt.timedelta:
    """Nominal length of a block (an end at or before the start crosses midnight)."""
    start = dt.timedelta(hours=block.start.hour, minutes=block.start.minute)
    end = dt.timedelta(hours=block.end.hour, minutes=block.end.minute)
    start += dt.timedelta(seconds=block.start.second)
    end += dt.timedelta(seconds=block.end.second)
    return (end - start) if end > start else (end - start + dt.timedelta(days=1))


def _no_content(block: Block) -> ProgrammingWarning:
    message = format_lazy(
        _("Block “{block}” has neither a rotation nor a playlist: it airs only fillers."),
        block=block,
    )
    return ProgrammingWarning(
        level=Level.ERROR, code="block_no_content", message=message, subject=block
    )


def _empty_pool(block: Block) -> ProgrammingWarning:
    if block.rotation:
        message = format_lazy(
            _(
                "Rotation “{rotation}” (block “{block}”) has no ready and approved video of its "
                "kinds, categories and origins: the block airs only fillers."
            ),
            rotation=block.rotation,
            block=block,
        )
        return ProgrammingWarning(
            level=Level.ERROR, code="empty_rotation", message=message, subject=block.rotation
        )
    message = format_lazy(
        _("Playlist “{playlist}” (block “{block}”) has no ready and approved video."),
        playlist=block.playlist,
        block=block,
    )
    return ProgrammingWarning(
        level=Level.ERROR, code="empty_playlist", message=message, subject=block.playlist
    )


def _too_short(block: Block, shortest: float) -> ProgrammingWarning:
    message = format_lazy(
        _(
            "Block “{block}” lasts {block_minutes} min but its shortest video lasts "
            "{video_minutes} min: it airs only fillers."
        ),
        block=block,
        block_minutes=round(block_length(block).total_seconds() / 60, 1),
        video_minutes=round(shortest / 60, 1),
    )
    return ProgrammingWarning(
        level=Level.WARNING, code="block_too_short", message=message, subject=block
    )


# Events ---------------------------------------------------------------------------------------


def _event_warnings(
    channel: Channel, library: QuerySet[Asset], now: dt.datetime
) -> list[ProgrammingWarning]:
    events = list(channel.events.prefetch_related("items"))
    segment = dt.timedelta(milliseconds=channel.channel_format.segment_ms)
    lengths = event_lengths(events, library, segment)
    found = [_empty_event(event) for event in events if not lengths[event.pk]]
    occurrences = [
        occurrence
        for event in events
        if lengths[event.pk]
        for occurrence in event_occurrences(
            event,
            length=lengths[event.pk],
            tz=channel.time_zone,
            low=now - _LOOKBACK,
            high=now + EVENT_HORIZON,
        )
        if occurrence.end > now
    ]
    pairs = overlapping_pairs(occurrences)
    by_pk = {event.pk: event for event in events}
    return found + [_overlap(first, second, by_pk, channel.time_zone) for first, second in pairs]


def event_lengths(
    events: Iterable[Event], library: QuerySet[Asset], segment: dt.timedelta
) -> dict[int, dt.timedelta]:
    """Length of each event: the sum of its schedulable videos' padded durations."""
    items = {event.pk: [item.asset_id for item in event.items.all()] for event in events}
    wanted = {asset_id for ids in items.values() for asset_id in ids}
    counts = dict(library.filter(pk__in=wanted).values_list("pk", "segment_count"))
    return {
        pk: sum((segment * counts.get(asset_id, 0) for asset_id in ids), dt.timedelta())
        for pk, ids in items.items()
    }


def event_occurrences(
    event: Event, *, length: dt.timedelta, tz: str, low: dt.datetime, high: dt.datetime
) -> list[Occurrence]:
    """Occurrences of ``event`` starting in [low, high] (aware), expanded in local time."""
    starts = local_starts(
        dt.datetime.combine(event.start_date, event.start_time),
        event.rrule,
        low=_naive_local(low, tz),
        high=_naive_local(high, tz),
    )
    return [
        Occurrence(event.pk, event.title, start, start + length)
        for start in (resolve_local(local.date(), local.time(), tz) for local in starts)
    ]


def _naive_local(instant: dt.datetime, tz: str) -> dt.datetime:
    return instant.astimezone(zone_for(tz)).replace(tzinfo=None)


def local_starts(
    dtstart: dt.datetime, rrule: str, *, low: dt.datetime, high: dt.datetime
) -> list[dt.datetime]:
    """Naive local starts of a one-off (empty ``rrule``) or recurring event within [low, high]."""
    if not rrule:
        return [dtstart] if low <= dtstart <= high else []
    return list(rrulestr(rrule, dtstart=dtstart).between(low, high, inc=True))


def overlapping_pairs(occurrences: Sequence[Occurrence]) -> list[tuple[Occurrence, Occurrence]]:
    """The first overlap of each pair of events (or of an event with itself), by start."""
    ordered = sorted(occurrences, key=lambda o: (o.start, o.event_id))
    seen: set[tuple[int, int]] = set()
    pairs = []
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if second.start >= first.end:
                break
            key = (min(first.event_id, second.event_id), max(first.event_id, second.event_id))
            if key not in seen:
                seen.add(key)
                pairs.append((first, second))
    return pairs


def _empty_event(event: Event) -> ProgrammingWarning:
    message = format_lazy(
        _("Event “{title}” has no ready and approved video: it will not air."), title=event.title
    )
    return ProgrammingWarning(level=Level.ERROR, code="empty_event", message=message, subject=event)


def _overlap(
    first: Occurrence, second: Occurrence, events: dict[int, Event], tz: str
) -> ProgrammingWarning:
    local = second.start.astimezone(zone_for(tz))
    message = format_lazy(
        _("Events “{first}” and “{second}” overlap on {when}: the later one cuts the earlier."),
        first=first.title,
        second=second.title,
        when=date_format(local, "SHORT_DATETIME_FORMAT"),
    )
    return ProgrammingWarning(
        level=Level.WARNING, code="events_overlap", message=message, subject=events[second.event_id]
    )
