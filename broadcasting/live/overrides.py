"""Overrides: a clip that takes a channel over from the next segment boundary (issue 5).

``override_start`` snaps the start to the boundary after ``now``, ``override_end`` snaps the end
the same way; the playout asks ``override_at`` what, if anything, overrides segment ``n`` and
``override_index`` (pure) which segment of the clip airs. When the override stops, the plan airs
again at wall clock: the item in progress is joined at its segment of that instant.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from broadcasting.live.playlist import media_sequence, segment_start
from broadcasting.models import Asset, Override, OverrideReason
from playlists.models import AsRunEntry, AsRunReason, Channel


@dataclass(frozen=True)
class OverrideWindow:
    """An override in channel segments: ``[first, stop)`` (``stop`` None: open-ended)."""

    first: int
    stop: int | None
    length: int  # segments in the clip
    repeat: bool


def override_index(sequence: int, window: OverrideWindow | None) -> int | None:
    """The clip's segment airing at ``sequence``, or ``None`` when the plan airs."""
    if window is None or window.length <= 0 or sequence < window.first:
        return None
    if window.stop is not None and sequence >= window.stop:
        return None
    k = sequence - window.first
    if window.repeat:
        return k % window.length
    return k if k < window.length else None


def choose_source(n: int, plan_index: int, window: OverrideWindow | None) -> tuple[str, int]:
    """``("override", clip segment)`` while the override airs, else ``("plan", plan_index)``."""
    index = override_index(n, window)
    return ("plan", plan_index) if index is None else ("override", index)


def next_boundary(channel: Channel, now: dt.datetime) -> dt.datetime:
    """The start of the segment after the one airing at ``now``."""
    segment_ms = channel.channel_format.segment_ms
    sequence = media_sequence(now, epoch=channel.epoch, segment_ms=segment_ms) + 1
    return segment_start(sequence, epoch=channel.epoch, segment_ms=segment_ms)


def window_of(override: Override, *, segment_ms: int, epoch: dt.datetime) -> OverrideWindow:
    stop = None
    if override.end is not None:
        stop = media_sequence(override.end, epoch=epoch, segment_ms=segment_ms)
    return OverrideWindow(
        first=media_sequence(override.start, epoch=epoch, segment_ms=segment_ms),
        stop=stop,
        length=override.asset.segment_count,
        repeat=override.repeat,
    )


def override_start(
    *,
    channel: Channel,
    asset: Asset,
    user: Any = None,
    reason: str = OverrideReason.MANUAL,
    note: str = "",
    end: dt.datetime | None = None,
    repeat: bool = True,
    now: dt.datetime | None = None,
    alert_ref: str = "",
) -> Override:
    """Take the channel over with ``asset`` from the next segment boundary after ``now``."""
    start = next_boundary(channel, now or timezone.now())
    if end is not None:
        end = max(start, next_boundary(channel, end - dt.timedelta(microseconds=1)))
    return Override.objects.create(
        channel=channel, asset=asset, start=start, end=end, repeat=repeat, reason=reason,
        note=note, alert_ref=alert_ref, created_by=user if getattr(user, "pk", None) else None,
    )  # fmt: skip


def override_end(*, override: Override, user: Any = None, now: dt.datetime | None = None) -> None:
    """Stop the override at the next segment boundary (never before its start, nor after a
    sooner planned end); the as-run entry, if written, gets the actual end."""
    now = now or timezone.now()
    end = max(override.start, next_boundary(override.channel, now))
    if override.end is not None:
        end = min(end, override.end)
    override.end = end
    override.ended_at = now
    override.ended_by = user if getattr(user, "pk", None) else None
    override.save(update_fields=["end", "ended_at", "ended_by"])
    AsRunEntry.objects.filter(
        channel_id=override.channel_id, asset_id=override.asset_id, actual_start=override.start,
        reason__in=[AsRunReason.OVERRIDE, AsRunReason.ALERT],
    ).update(actual_end=end)  # fmt: skip


def override_at(*, channel: Channel, at: dt.datetime) -> Override | None:
    """The latest override active at ``at`` on ``channel``."""
    return (
        Override.objects.select_related("asset")
        .filter(channel=channel, start__lte=at)
        .filter(Q(end__isnull=True) | Q(end__gt=at))
        .order_by("-start", "-pk")
        .first()
    )
