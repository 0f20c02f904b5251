"""Celery entry points of the programming app: thin, they take ids and call a service."""

import logging

from celery import shared_task
from django.contrib.auth.models import User

from playlists.models import Channel
from playlists.retention import retention_apply
from playlists.services import schedule_extend, schedule_rebuild

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def keep_schedules_built() -> None:
    """Beat: keep the horizon (8 days by default) of every channel on air built."""
    for channel in Channel.objects.filter(is_active=True).select_related("channel_format"):
        schedule_extend(channel=channel)


@shared_task(ignore_result=True)
def rebuild_channel_schedule(channel_id: int, reason: str = "", user_id: int | None = None) -> None:
    """Rebuild a channel's future after a change of its rules (channels on air only), or for
    an editor ("rebuild now", ``user_id``: built in their name, on air or not yet)."""
    channel = Channel.objects.select_related("channel_format").filter(pk=channel_id).first()
    if channel is None or (not channel.is_active and user_id is None):
        return
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    schedule_rebuild(channel=channel, user=user, reason=reason)


@shared_task(ignore_result=True)
def apply_retention() -> None:
    """Beat, hourly: delete old as-run entries, past scheduled items and unused versions."""
    retention_apply()
