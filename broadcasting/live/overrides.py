"""Overrides: a clip that takes a channel over from the next segment boundary (issue 5).

``override_start`` snaps the start to the boundary after ``now``, ``override_end`` snaps the end
the same way; the playout asks ``override_at`` what, if anything, overrides segment ``n`` and
``override_index`` (pure) which segment of the clip airs. When the override stops, the plan airs
again at wall clock: the item in progress is joined at its segment of that instant. The
override's as-run entry is the programming app's (``playlists.services.as_run_*``).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q
from django.utils import timezone

from broadcasting.media.grid import grid_ceil, next_boundary, sequence_at
from broadcasting.models import Asset, Override, OverrideReason
from playlists.models import Channel
from playlists.services import as_run_close_override

# Who starts or ends an override: an editor's account (``User`` is ``settings.AUTH_USER_MODEL``
# here), or nobody (code, an alert, an anonymous request).
Actor = User | AnonymousUser | None


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


def window_of(override: Override, *, segment_ms: int, epoch: dt.datetime) -> OverrideWindow:
    stop = None
    if override.end is not None:
        stop = sequence_at(override.end, epoch=epoch, segment_ms=segment_ms)
    return OverrideWindow(
        first=sequence_at(override.start, epoch=epoch, segment_ms=segment_ms),
        stop=stop,
        length=override.asset.segment_count,
        repeat=override.repeat,
    )


def _editor(user: Actor) -> User | None:
    """The user to record: a saved account, else nobody."""
    return user if isinstance(user, get_user_model()) and user.pk is not None else None


def override_start(
    *,
    channel: Channel,
    asset: Asset,
    user: Actor = None,
    reason: str = OverrideReason.MANUAL,
    note: str = "",
    end: dt.datetime | None = None,
    repeat: bool = True,
    now: dt.datetime | None = None,
    alert_ref: str = "",
) -> Override:
    """Take the channel over with ``asset`` from the next segment boundary after ``now`` (until
    the first boundary at or after ``end``, if given)."""
    epoch, segment_ms = channel.epoch, channel.channel_format.segment_ms
    start = next_boundary(now or timezone.now(), epoch=epoch, segment_ms=segment_ms)
    if end is not None:
        end = max(start, grid_ceil(end, epoch=epoch, segment_ms=segment_ms))
    return Override.objects.create(
        channel=channel, asset=asset, start=start, end=end, repeat=repeat, reason=reason,
        note=note, alert_ref=alert_ref, created_by=_editor(user),
    )  # fmt: skip


def override_end(*, override: Override, user: Actor = None, now: dt.datetime | None = None) -> None:
    """Stop the override at the next segment boundary (never before its start, nor after a
    sooner planned end); the as-run entry, if written, gets the actual end."""
    now = now or timezone.now()
    channel = override.channel
    boundary = next_boundary(now, epoch=channel.epoch, segment_ms=channel.channel_format.segment_ms)
    end = max(override.start, boundary)
    if override.end is not None:
        end = min(end, override.end)
    override.end = end
    override.ended_at = now
    override.ended_by = _editor(user)
    override.save(update_fields=["end", "ended_at", "ended_by"])
    as_run_close_override(override=override, end=end)


def override_at(*, channel: Channel, at: dt.datetime) -> Override | None:
    """The latest override active at ``at`` on ``channel``."""
    return (
        Override.objects.select_related("asset")
        .filter(channel=channel, start__lte=at)
        .filter(Q(end__isnull=True) | Q(end__gt=at))
        .order_by("-start", "-pk")
        .first()
    )
