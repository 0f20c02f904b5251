"""Rebuild the future of the channels concerned when their programming rules change; forget the
cached guides when a video's public copy is taken down."""

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from broadcasting.signals import library_changed as library_signal
from broadcasting.signals import publication_withdrawn
from playlists.models import (
    Block,
    CardSlot,
    Channel,
    Event,
    EventItem,
    FillerSet,
    Playlist,
    PlaylistItem,
    Rotation,
)
from playlists.selectors import guide_cache_forget
from playlists.tasks import rebuild_channel_schedule

logger = logging.getLogger(__name__)


def _channel_ids(instance: object) -> list[int]:
    """Channels whose timeline depends on ``instance``."""
    channel_id = getattr(instance, "channel_id", None)
    if channel_id is not None:
        return [channel_id]
    if isinstance(instance, EventItem):
        return [instance.event.channel_id]
    return list(Channel.objects.filter(is_active=True).values_list("pk", flat=True))


def _enqueue(channel_id: int, reason: str) -> None:
    try:
        rebuild_channel_schedule.delay(channel_id, reason)
    except Exception as err:  # noqa: BLE001 - best effort: the beat extension catches up
        logger.warning("schedule rebuild not enqueued channel=%s: %s", channel_id, err)


def rules_changed(sender: type, instance: object, **kwargs: object) -> None:
    if kwargs.get("raw") or str(kwargs.get("action", "post_")).startswith("pre_"):
        return
    reason = f"{sender.__name__} changed"
    for channel_id in set(_channel_ids(instance)):
        transaction.on_commit(partial(_enqueue, channel_id, reason))


def library_changed(sender: type, asset_id: int, **kwargs: object) -> None:
    """An asset became schedulable (or stopped being): rebuild the future of every channel."""
    for channel_id in Channel.objects.filter(is_active=True).values_list("pk", flat=True):
        _enqueue(channel_id, f"library changed (asset {asset_id})")


def guides_forget(sender: type, asset_id: int, **kwargs: object) -> None:
    """A video's public copy was taken down: the cached guides (schedule, XMLTV) may name its
    public key until the timeline is rebuilt, so they are forgotten now."""
    guide_cache_forget()
    logger.info("cached guides forgotten (asset %s taken down)", asset_id)


def connect() -> None:
    """Called from ``PlaylistsConfig.ready()``."""
    library_signal.connect(library_changed, dispatch_uid="rebuild-on-library-change")
    publication_withdrawn.connect(guides_forget, dispatch_uid="forget-guides-on-take-down")
    for model in (Block, Event, EventItem, Rotation, Playlist, PlaylistItem, FillerSet, CardSlot):
        post_save.connect(rules_changed, sender=model, dispatch_uid=f"rebuild-{model.__name__}")
        post_delete.connect(
            rules_changed, sender=model, dispatch_uid=f"rebuild-del-{model.__name__}"
        )
    for field in ("idents", "prerolls", "postrolls", "interstitials"):
        through = getattr(FillerSet, field).through
        m2m_changed.connect(rules_changed, sender=through, dispatch_uid=f"rebuild-m2m-{field}")
