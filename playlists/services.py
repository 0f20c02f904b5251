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
from functools import partial

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

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
HISTORY = dt.timedelta(hours=24)
REBUILD_TASK = "playlists.tasks.rebuild_channel_schedule"


class ScheduleError(Exception):
    """The builder produced a timeline that is not a gap-free tiling (a bug: nothing published)."""


def schedule_rebuild(
    *,
    channel: Channel,
    user: User | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
    hours: float | None = None,
) -> ScheduleVersion:
    """Rebuild the channel's timeline from the end of the item on air to ``now + hours``
    (default: the horizon, ``schedule_horizon``)."""
    now = now or timezone.now()
    start = rebuild_start(channel=channel, at=now)
    end = now + (schedule_horizon() if hours is None else dt.timedelta(hours=hours))
    return _build_and_publish(channel=channel, start=start, end=end, user=user, reason=reason)


def schedule_rebuild_request(*, channel: Channel, user: User | None, reason: str) -> None:
    """Have a worker rebuild the channel's timeline (``schedule_rebuild``), sent once the
    caller's transaction commits: building the horizon takes seconds, too long for a request."""
    transaction.on_commit(
        partial(
            schedule_rebuild_enqueue,
            channel_id=channel.pk,
            reason=reason,
            user_id=user.pk if user is not None else None,
        )
    )


def schedule_rebuild_enqueue(*, channel_id: int, reason: str, user_id: int | None = None) -> bool:
    """Send the rebuild task once, without the broker's own retries. A broker that is down is
    logged and ``False`` returned, never raised: the timeline stays as it is (beat keeps its
    horizon built) until the next change or request."""
    try:
        current_app.send_task(
            REBUILD_TASK, args=[channel_id, reason], kwargs={"user_id": user_id}, retry=False
        )
    except (BrokerError, RedisError, OSError) as err:
        logger.warning("schedule rebuild not enqueued channel=%s: %s", channel_id, err)
        return False
    return True


def schedule_horizon() -> dt.timedelta:
    """How far ahead the timeline is kept built: ``CARILLON_SCHEDULE_HORIZON_DAYS`` (8 by
    default, so that XMLTV always has the coming week)."""
    return dt.timedelta(days=settings.CARILLON_SCHEDULE_HORIZON_DAYS)


def schedule_extend(*, channel: Channel, now: dt.datetime | None = None) -> ScheduleVersion | None:
    """Keep the horizon built: append after the last item (beat, every few minutes)."""
    now = now or timezone.now()
    horizon = now + schedule_horizon()
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
#
# The playout logs what it published, run by run: an entry when something starts airing, its
# actual end when something else follows. One entry per start on a channel (a database
# constraint, and ``get_or_create`` on it): a playout re-running a boundary, or a second playout,
# finds the entry already there. An item interrupted by an override and resumed at wall clock
# starts twice: two entries.


def as_run_record_item(
    *,
    channel: Channel,
    item: ScheduledItem,
    asset: Asset | None,
    actual_start: dt.datetime,
    reason: AsRunReason,
    joined: bool = False,
) -> bool:
    """Log that ``item`` started airing at ``actual_start``, ``asset`` being what really aired
    (none: the item's role names the entry). ``joined``: the item was already airing when the
    playout began publishing (its start is unknown), logged only if it has no entry yet.
    Whether an entry was created."""
    if joined and AsRunEntry.objects.filter(channel=channel, scheduled_item=item).exists():
        return False
    # A rebuild may have deleted the row of an item the playout aired from its plan, and an
    # information card may be deleted once it stopped airing: what aired is logged all the
    # same, without the link to what is gone.
    still_scheduled = ScheduledItem.objects.filter(pk=item.pk).exists()
    still_there = asset is not None and Asset.objects.filter(pk=asset.pk).exists()
    return _as_run_start(
        channel=channel,
        actual_start=actual_start,
        scheduled_item=item if still_scheduled else None,
        asset=asset if still_there else None,
        title=asset.title if asset is not None else item.role,
        role=item.role,
        planned_start=item.start,
        planned_end=item.end,
        actual_end=item.end,
        reason=reason,
    )


def as_run_record_override(
    *,
    channel: Channel,
    override: Override,
    actual_start: dt.datetime | None = None,
    joined: bool = False,
) -> bool:
    """Log that the override's clip started airing at ``actual_start`` (default: its start; a
    stacked override resumed after a higher one starts again, later). Its end, until known, is
    its planned end or, open-ended, its start. ``joined``: already airing when the playout began
    publishing, logged only if the override has no entry yet. Whether an entry was created."""
    if joined and _override_entries(override).exists():
        return False
    start = actual_start or override.start
    alert = override.reason == OverrideReason.ALERT
    return _as_run_start(
        channel=channel,
        actual_start=start,
        asset=override.asset,
        title=override.asset.title,
        role="interstitial",
        planned_start=override.start,
        planned_end=override.end,
        actual_end=override.end or start,
        reason=AsRunReason.ALERT if alert else AsRunReason.OVERRIDE,
        note=override.note[:200],
    )


def _as_run_start(*, channel: Channel, actual_start: dt.datetime, **fields: object) -> bool:
    _, created = AsRunEntry.objects.get_or_create(
        channel=channel, actual_start=actual_start, defaults=fields
    )
    return created


def _override_entries(override: Override) -> QuerySet[AsRunEntry]:
    """The entries of the override's runs (its clip, as an override or alert, from its start)."""
    return AsRunEntry.objects.filter(
        channel_id=override.channel_id,
        asset_id=override.asset_id,
        reason__in=[AsRunReason.OVERRIDE, AsRunReason.ALERT],
        actual_start__gte=override.start,
    )


def as_run_record_end(
    *,
    channel: Channel,
    end: dt.datetime,
    item: ScheduledItem | None = None,
    override: Override | None = None,
) -> int:
    """Something else began airing at ``end``: the last run of ``item`` (or of ``override``)
    before it ended there. Rows updated (0: already recorded, or no such run)."""
    if override is not None:
        runs = _override_entries(override)
    else:
        runs = AsRunEntry.objects.filter(channel=channel, scheduled_item=item)
    last = runs.filter(actual_start__lt=end).order_by("-actual_start").first()
    if last is None or last.actual_end == end:
        return 0
    return AsRunEntry.objects.filter(pk=last.pk).update(actual_end=end)


def as_run_close_override(*, override: Override, end: dt.datetime) -> int:
    """The override ends at ``end`` (an editor ended it): its runs still open then end there
    (those that already ended, under a higher override, keep their end). Rows updated."""
    return (
        _override_entries(override)
        .filter(actual_start__lt=end)
        .filter(Q(actual_end__gt=end) | Q(actual_end=F("actual_start")))
        .update(actual_end=end)
    )
