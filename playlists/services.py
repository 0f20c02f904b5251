"""Writes of the programming app: building and publishing a channel's timeline, and the as-run
log (what really aired, written by the playout and the overrides through ``as_run_*``).

A build never touches the past or the item on air: it starts at the end of the item airing
now (or at the current segment when nothing is planned) and replaces everything after it.
Each build is a ``ScheduleVersion``; the timeline is checked gap-free before it is published.
"""

import datetime as dt
import logging
import time
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from broadcasting.media.grid import grid_floor, next_boundary
from broadcasting.models import Asset, Override, OverrideReason
from playlists import rules
from playlists.models import (
    AsRunEntry,
    AsRunReason,
    Channel,
    ItemKind,
    ScheduledItem,
    ScheduleVersion,
)
from playlists.rulebook import channel_rules, library_for
from playlists.scheduling import build_timeline, timeline_problems

logger = logging.getLogger(__name__)
DEFAULT_HOURS = 48
HISTORY = dt.timedelta(hours=24)


class ScheduleError(Exception):
    """The builder produced a timeline that is not a gap-free tiling (a bug: nothing published)."""


def schedule_rebuild(
    *,
    channel: Channel,
    user: User | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
    hours: float = DEFAULT_HOURS,
) -> ScheduleVersion:
    """Rebuild the channel's timeline from the end of the item on air to ``now + hours``."""
    now = now or timezone.now()
    start = rebuild_start(channel=channel, at=now)
    end = now + dt.timedelta(hours=hours)
    return _build_and_publish(channel=channel, start=start, end=end, user=user, reason=reason)


def schedule_extend(*, channel: Channel, now: dt.datetime | None = None) -> ScheduleVersion | None:
    """Keep ``DEFAULT_HOURS`` built ahead: append after the last item (beat, every few minutes)."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=DEFAULT_HOURS)
    last_end = ScheduledItem.objects.filter(channel=channel).aggregate(Max("end"))["end__max"]
    if last_end is None or last_end <= now:
        return schedule_rebuild(channel=channel, now=now, reason="nothing planned ahead")
    if last_end >= horizon - dt.timedelta(hours=1):
        return None
    return _build_and_publish(channel=channel, start=last_end, end=horizon, reason="extend")


def rebuild_start(*, channel: Channel, at: dt.datetime) -> dt.datetime:
    """Where a rebuild at ``at`` may start: after the item on air, never before it.

    The slate protects nothing: when it is on air the rebuild starts at the next segment
    boundary (the slate entry is shortened to end there), so new content airs within 4.8 s.
    """
    segment_ms = channel.channel_format.segment_ms
    on_air = ScheduledItem.objects.filter(channel=channel, start__lte=at, end__gt=at).first()
    if on_air is None:
        return grid_floor(at, epoch=channel.epoch, segment_ms=segment_ms)
    if on_air.kind == ItemKind.SLATE:
        return min(on_air.end, next_boundary(at, epoch=channel.epoch, segment_ms=segment_ms))
    return on_air.end


def _build_and_publish(
    *,
    channel: Channel,
    start: dt.datetime,
    end: dt.datetime,
    user: User | None = None,
    reason: str = "",
) -> ScheduleVersion:
    started = time.perf_counter()
    entries = _build(channel=channel, start=start, end=end)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return _publish(
        channel=channel, entries=entries, start=start, user=user, reason=reason, build_ms=elapsed_ms
    )


def _build(*, channel: Channel, start: dt.datetime, end: dt.datetime) -> list[rules.TimelineEntry]:
    segment_ms = channel.channel_format.segment_ms
    entries = build_timeline(
        rules=channel_rules(channel=channel),
        library=library_for(channel=channel),
        start=start,
        end=end,
        seed=channel.seed,
        history=_history(channel=channel, before=start),
    )
    problems = timeline_problems(entries, start, end, channel.epoch, segment_ms)
    if problems:
        raise ScheduleError("; ".join(problems[:5]))
    return entries


def _history(*, channel: Channel, before: dt.datetime) -> list[rules.PlayRecord]:
    rows = ScheduledItem.objects.filter(
        channel=channel, asset__isnull=False, start__gte=before - HISTORY, start__lt=before
    ).values_list("asset_id", "start")
    return [rules.PlayRecord(asset_id=asset_id, start=start) for asset_id, start in rows]


@transaction.atomic
def _publish(
    *,
    channel: Channel,
    entries: Sequence[rules.TimelineEntry],
    start: dt.datetime,
    user: User | None,
    reason: str,
    build_ms: float,
) -> ScheduleVersion:
    Channel.objects.select_for_update().get(pk=channel.pk)
    number = (channel.versions.aggregate(Max("number"))["number__max"] or 0) + 1
    version = ScheduleVersion.objects.create(
        channel=channel,
        number=number,
        window_start=entries[0].start if entries else start,
        window_end=entries[-1].end if entries else start,
        reason=reason[:200],
        built_by=user,
        build_ms=build_ms,
    )
    ScheduledItem.objects.filter(channel=channel, start__gte=start).delete()
    # A slate entry on air may be cut at the rebuild's start (see ``rebuild_start``).
    ScheduledItem.objects.filter(
        channel=channel, kind=ItemKind.SLATE, start__lt=start, end__gt=start
    ).update(end=start)
    ScheduledItem.objects.bulk_create(_item(channel, version, entry) for entry in entries)
    logger.info(
        "schedule published channel=%s version=%s items=%s", channel.slug, number, len(entries)
    )
    return version


def _item(channel: Channel, version: ScheduleVersion, entry: rules.TimelineEntry) -> ScheduledItem:
    return ScheduledItem(
        channel=channel,
        version=version,
        start=entry.start,
        end=entry.end,
        kind=entry.kind,
        role=entry.role,
        asset_id=entry.asset_id,
        block_id=entry.block_id,
        event_id=entry.event_id,
        card_category=entry.card_category,
        cut=entry.cut,
    )


# The as-run log -------------------------------------------------------------------------------


def as_run_record_item(
    *,
    channel: Channel,
    item: ScheduledItem,
    asset: Asset | None,
    actual_start: dt.datetime,
    reason: AsRunReason,
) -> bool:
    """Log that ``item`` started airing at ``actual_start``, ``asset`` being what really aired
    (none: the item's role names the entry). Once per scheduled item: whether it was created."""
    _, created = AsRunEntry.objects.get_or_create(
        channel=channel,
        scheduled_item=item,
        defaults={
            "asset": asset,
            "title": asset.title if asset is not None else item.role,
            "role": item.role,
            "planned_start": item.start,
            "planned_end": item.end,
            "actual_start": actual_start,
            "actual_end": item.end,
            "reason": reason,
        },
    )
    return created


def as_run_record_override(*, channel: Channel, override: Override) -> bool:
    """Log the override once its first segment airs (once per clip, start and kind; its end is
    set by ``as_run_close_override``). Whether the entry was created."""
    alert = override.reason == OverrideReason.ALERT
    _, created = AsRunEntry.objects.get_or_create(
        channel=channel,
        asset=override.asset,
        actual_start=override.start,
        reason=AsRunReason.ALERT if alert else AsRunReason.OVERRIDE,
        defaults={
            "title": override.asset.title,
            "role": "interstitial",
            "planned_start": override.start,
            "planned_end": override.end,
            "actual_end": override.end or override.start,
            "note": override.note[:200],
        },
    )
    return created


def as_run_close_override(*, override: Override, end: dt.datetime) -> int:
    """Give the override's as-run entry, if written yet, its actual ``end``: rows updated."""
    return AsRunEntry.objects.filter(
        channel_id=override.channel_id,
        asset_id=override.asset_id,
        actual_start=override.start,
        reason__in=[AsRunReason.OVERRIDE, AsRunReason.ALERT],
    ).update(actual_end=end)
