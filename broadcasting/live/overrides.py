"""Overrides: clips that take a channel over from a segment boundary (issues 5 and 10).

``override_start`` accepts only a clip that can air on the channel (ready, approved, in the
channel's format, with segments: ``clip_refusal`` says why not), snaps the start to the
boundary after ``now`` and gives the override a priority (by default by its reason: alerts
above manual take-overs); ``override_end`` snaps the end the same way.

Several overrides may be active on a channel at once (an emergency alert over a manual
take-over). What airs at segment ``n`` is a pure function of them (``override_choice``): among
those whose clip airs at ``n`` (``override_index``: inside its window, and looped or not yet
finished), the highest priority; among equals the latest start, then the latest created. When it
ends, the next one airs again, joined at its wall clock (the segment of its clip it would be on
had it never been covered), like the timeline, which airs at wall clock once none is left.
The as-run entries are the programming app's (``playlists.services.as_run_*``): the playout logs
each run it actually published. Starting or ending an override announces it to the playout once
committed (``broadcasting.live.notices``), which reads the channel's plan at once.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasting.live.notices import overrides_changed_announce
from broadcasting.media.grid import grid_ceil, next_boundary, sequence_at
from broadcasting.models import ApprovalState, Asset, Override, OverrideReason, ProcessingState
from playlists.models import Channel
from playlists.services import as_run_close_override

# Who starts or ends an override: an editor's account (``User`` is ``settings.AUTH_USER_MODEL``
# here), or nobody (code, an alert, an anonymous request).
Actor = User | AnonymousUser | None

# The priority an override gets when none is given: alerts above manual take-overs, with room
# for editors to rank between and above them.
DEFAULT_PRIORITY: dict[str, int] = {OverrideReason.MANUAL: 100, OverrideReason.ALERT: 200}


class OverrideRefused(ValueError):
    """The clip cannot take the channel over: ``code`` for code, ``message`` for editors."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OverrideWindow:
    """An override in channel segments: ``[first, stop)`` (``stop`` None: open-ended)."""

    first: int
    stop: int | None
    length: int  # segments in the clip
    repeat: bool
    priority: int = 0
    key: int = 0  # the override's id: the later created wins a tie


def override_index(sequence: int, window: OverrideWindow | None) -> int | None:
    """The clip's segment airing at ``sequence``, or ``None`` when the override does not air
    then (before or after its window, or its clip is over and not looped)."""
    if window is None or window.length <= 0 or sequence < window.first:
        return None
    if window.stop is not None and sequence >= window.stop:
        return None
    k = sequence - window.first
    if window.repeat:
        return k % window.length
    return k if k < window.length else None


def override_choice(
    sequence: int, windows: Sequence[OverrideWindow]
) -> tuple[OverrideWindow, int] | None:
    """The override airing at ``sequence`` and its clip's segment then: the highest priority
    among those whose clip airs then, the latest start and then the latest created among
    equals; ``None`` when none does (the plan airs)."""
    airing = [(w, i) for w in windows if (i := override_index(sequence, w)) is not None]
    if not airing:
        return None
    return max(airing, key=lambda found: (found[0].priority, found[0].first, found[0].key))


def window_of(override: Override, *, segment_ms: int, epoch: dt.datetime) -> OverrideWindow:
    stop = None
    if override.end is not None:
        stop = sequence_at(override.end, epoch=epoch, segment_ms=segment_ms)
    return OverrideWindow(
        first=sequence_at(override.start, epoch=epoch, segment_ms=segment_ms),
        stop=stop,
        length=override.asset.segment_count,
        repeat=override.repeat,
        priority=override.priority,
        key=override.pk or 0,
    )


def clip_refusal(*, channel: Channel, asset: Asset) -> OverrideRefused | None:
    """Why ``asset`` cannot take ``channel`` over, or ``None`` when it can."""
    if asset.approval != ApprovalState.APPROVED:
        return OverrideRefused("not_approved", _("This clip is not approved: it cannot air."))
    if asset.state != ProcessingState.READY:
        return OverrideRefused("not_ready", _("This clip is not transcoded yet: it cannot air."))
    if asset.channel_format_id != channel.channel_format_id:
        message = _("This clip is not in the format of the channel: it cannot air on it.")
        return OverrideRefused("other_format", message)
    if asset.segment_count <= 0:
        return OverrideRefused("no_segments", _("This clip has no segment to air."))
    return None


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
    priority: int | None = None,
) -> Override:
    """Take the channel over with ``asset`` from the next segment boundary after ``now`` (until
    the first boundary at or after ``end``, if given), at ``priority`` (default: by ``reason``).
    Raises ``OverrideRefused`` when the clip cannot air on the channel."""
    refusal = clip_refusal(channel=channel, asset=asset)
    if refusal is not None:
        raise refusal
    epoch, segment_ms = channel.epoch, channel.channel_format.segment_ms
    start = next_boundary(now or timezone.now(), epoch=epoch, segment_ms=segment_ms)
    if end is not None:
        end = max(start, grid_ceil(end, epoch=epoch, segment_ms=segment_ms))
    if priority is None:
        priority = DEFAULT_PRIORITY.get(reason, DEFAULT_PRIORITY[OverrideReason.MANUAL])
    override = Override.objects.create(
        channel=channel, asset=asset, start=start, end=end, repeat=repeat, reason=reason,
        note=note, alert_ref=alert_ref, created_by=_editor(user), priority=priority,
    )  # fmt: skip
    transaction.on_commit(partial(overrides_changed_announce, channel.pk), robust=True)
    return override


def override_end(*, override: Override, user: Actor = None, now: dt.datetime | None = None) -> None:
    """Stop the override at the next segment boundary (never before its start, nor after a
    sooner planned end); its as-run entries still open get the actual end."""
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
    transaction.on_commit(partial(overrides_changed_announce, channel.pk), robust=True)


def overrides_between(
    *, channel: Channel, start: dt.datetime, end: dt.datetime
) -> QuerySet[Override]:
    """The channel's overrides active at some instant of ``[start, end)``, with their clips and
    the clips' renditions."""
    return (
        Override.objects.select_related("asset")
        .prefetch_related("asset__renditions")
        .filter(channel=channel, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .order_by("start", "pk")
    )


def override_at(*, channel: Channel, at: dt.datetime) -> Override | None:
    """The override airing at ``at`` on ``channel`` (``override_choice``), if any."""
    segment_ms = channel.channel_format.segment_ms
    found = {
        o.pk: o
        for o in overrides_between(channel=channel, start=at, end=at + dt.timedelta(microseconds=1))
    }
    windows = [window_of(o, segment_ms=segment_ms, epoch=channel.epoch) for o in found.values()]
    chosen = override_choice(sequence_at(at, epoch=channel.epoch, segment_ms=segment_ms), windows)
    return found[chosen[0].key] if chosen is not None else None
