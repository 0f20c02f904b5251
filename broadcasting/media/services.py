"""Writes of the broadcasting app: creating assets from uploads, approving and rejecting them,
publishing and taking down their public copy, and creating/enqueueing their transcode jobs.
The transcode itself is in ``transcoding.py``.

Nothing unapproved is public: renditions stay in private storage (``storage.py``); a ready,
approved asset gets a random public key and a task copies its renditions under it (after
commit; beat sends again what a broker outage lost: ``assets_publish_missing``); a rejection, a
deletion or any other take-down removes the public copy at once (an error aborts it) and again
after commit, in case a publication was still copying, and tells the guides to forget the key.
"""

import logging
from functools import partial
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from broadcasting.media import storage as media_store
from broadcasting.media.intake import check_upload
from broadcasting.media.permissions import user_is_editor
from broadcasting.media.selectors import channel_format_default
from broadcasting.media.storage import source_name, store_original
from broadcasting.models import (
    DEFAULT_CATEGORY,
    ApprovalState,
    Asset,
    AssetKind,
    AssetOrigin,
    Category,
    JobState,
    ProcessingState,
    TranscodeJob,
)
from broadcasting.signals import library_changed, publication_withdrawn

logger = logging.getLogger(__name__)
TRANSCODE_TASK = "broadcasting.tasks.transcode_asset"
PUBLISH_TASK = "broadcasting.tasks.publish_asset"
CARDS_QUEUE = "cards"


class ReviewError(Exception):
    """An approval or rejection that is not allowed."""


def asset_create_from_file(
    *,
    path: Path,
    original_name: str,
    title: str,
    kind: str = AssetKind.PROGRAMME,
    origin: str = AssetOrigin.CITY,
    category: str = DEFAULT_CATEGORY,
    description: str = "",
    owner: "User | None" = None,
) -> Asset:
    """Check an uploaded file, keep it in private storage, and queue its transcode.

    ``category`` is a ``Category`` slug. Raises ``UploadRejected`` (before anything is stored)
    for a file that is not a video, ``Category.DoesNotExist`` for an unknown category.
    """
    demuxer = check_upload(
        path, original_name=original_name, max_bytes=settings.CARILLON_UPLOAD_MAX_BYTES
    )
    with transaction.atomic():
        asset = Asset.objects.create(
            title=title,
            description=description,
            kind=kind,
            origin=origin,
            category=Category.objects.get(slug=category),
            owner=owner,
            channel_format=channel_format_default(),
            original_filename=Path(original_name).name[:255],
            source_size=path.stat().st_size,
            demuxer=demuxer,
        )
        asset.source = store_original(
            path=path, name=source_name(asset_id=asset.pk, original_name=original_name)
        )
        asset.save(update_fields=["source"])
        transcode_job_create(asset=asset)
    logger.info("asset created asset=%s kind=%s demuxer=%s", asset.pk, kind, demuxer)
    return asset


def transcode_job_create(*, asset: Asset) -> TranscodeJob:
    """A job row first; its message is sent once the row is committed (best effort)."""
    job = TranscodeJob.objects.create(asset=asset, state=JobState.QUEUED)
    transaction.on_commit(partial(transcode_job_enqueue, job_id=job.pk))
    return job


def _send(task: str, *, argument: int, queue: str) -> bool:
    """Send a media task (one id, the transcode's time limits) once, without the broker's own
    retries. A broker that is down is logged and ``False`` returned, never raised: the job row
    (or the asset's state) stays, and the sweeper or ``secure_renditions`` sends it later."""
    try:
        current_app.send_task(
            task,
            args=[argument],
            queue=queue,
            retry=False,
            time_limit=settings.CELERY_TRANSCODE_TIME_LIMIT,
            soft_time_limit=settings.CELERY_TRANSCODE_TIME_LIMIT - 60,
        )
    except (BrokerError, RedisError, OSError) as err:
        logger.warning("%s(%s) not enqueued (broker unavailable): %s", task, argument, err)
        return False
    return True


def transcode_queue_of(*, job_id: int) -> str:
    """Where a job's message goes: information cards to the ``cards`` queue (its own worker:
    a card is ready in seconds, never behind a long transcode), everything else to
    ``transcode``."""
    is_card = TranscodeJob.objects.filter(pk=job_id, asset__kind=AssetKind.CARD).exists()
    return CARDS_QUEUE if is_card else "transcode"


def transcode_job_enqueue(*, job_id: int) -> bool:
    """Send the job's Celery message (the sweeper sends it later if the broker is down)."""
    if not _send(TRANSCODE_TASK, argument=job_id, queue=transcode_queue_of(job_id=job_id)):
        return False
    TranscodeJob.objects.filter(pk=job_id).update(
        enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1
    )
    return True


def asset_approve(*, asset: Asset, editor: User) -> Asset:
    """An editor lets the asset air and be public (once it is ready)."""
    _check_reviewer(editor)
    asset.approval = ApprovalState.APPROVED
    asset.rejection_reason = ""
    with transaction.atomic():
        _record_review(asset=asset, editor=editor)
        asset.public_key = asset_publish(asset_id=asset.pk)
    return asset


def asset_reject(*, asset: Asset, editor: User, reason: str) -> Asset:
    """An editor refuses the asset, with a reason the resident will read; it stops being public."""
    _check_reviewer(editor)
    if not reason.strip():
        raise ReviewError("A rejection needs a reason for the resident.")
    asset.approval = ApprovalState.REJECTED
    asset.rejection_reason = reason.strip()
    with transaction.atomic():
        _record_review(asset=asset, editor=editor)
        asset_take_down(asset=asset)
    return asset


def _check_reviewer(editor: User) -> None:
    if not user_is_editor(editor):
        raise ReviewError("Only editors may approve or reject videos.")


def library_changed_notify(*, asset_id: int) -> None:
    """Tell the programming app, after commit, that the schedulable library changed."""
    transaction.on_commit(partial(library_changed.send, sender=Asset, asset_id=asset_id))


def _record_review(*, asset: Asset, editor: User) -> Asset:
    asset.reviewed_by = editor
    asset.reviewed_at = timezone.now()
    asset.save(update_fields=["approval", "rejection_reason", "reviewed_by", "reviewed_at"])
    logger.info("asset reviewed asset=%s approval=%s", asset.pk, asset.approval)
    if asset.state == ProcessingState.READY:
        library_changed_notify(asset_id=asset.pk)
    return asset


def asset_fail(*, asset_id: int, code: str, detail: str = "") -> None:
    """Fail the asset with a reason code (rendered for the resident) and a technical detail."""
    Asset.objects.filter(pk=asset_id).update(
        state=ProcessingState.FAILED,
        failure_code=code,
        failure_detail=detail[-4000:],
        eta_seconds=None,
    )
    logger.warning("asset failed asset=%s code=%s", asset_id, code)


def _public_key_of(asset_id: int) -> str | None:
    """The public key of a ready, approved asset (given here the first time); ``None`` for an
    asset that may not be public."""
    publishable = Asset.objects.filter(
        pk=asset_id, state=ProcessingState.READY, approval=ApprovalState.APPROVED
    )
    publishable.filter(public_key__isnull=True).update(public_key=media_store.new_public_key())
    return publishable.values_list("public_key", flat=True).first()


def asset_publish(*, asset_id: int) -> str | None:
    """Publish a ready, approved asset: its public key now, the copy of its renditions by a
    task after commit. Returns the key, or ``None`` (not ready or not approved: nothing done;
    a transcode that ends for an approved asset calls this again)."""
    key = _public_key_of(asset_id)
    if key is not None:
        transaction.on_commit(partial(asset_publish_enqueue, asset_id=asset_id))
    return key


def asset_publish_enqueue(*, asset_id: int) -> bool:
    """Send the publication task (if the broker is down, ``assets_publish_missing`` sends it
    again later)."""
    return _send(PUBLISH_TASK, argument=asset_id, queue="default")


def assets_publish_missing() -> list[int]:
    """Publish again every ready, approved asset whose public copy is missing (no key yet, or
    no master playlist under its key): an approval or a transcode whose publication message
    was lost with the broker. Beat runs it; a published asset is left alone, and a copy sent
    twice writes the same files again. Returns the ids whose publication was sent."""
    publishable = Asset.objects.filter(
        state=ProcessingState.READY, approval=ApprovalState.APPROVED
    ).order_by("pk")
    missing = [
        asset_id
        for asset_id, key in publishable.values_list("pk", "public_key")
        if not key or not media_store.is_published(public_key=key)
    ]
    for asset_id in missing:
        asset_publish(asset_id=asset_id)
    if missing:
        logger.warning("public copies missing, publications sent again assets=%s", missing)
    return missing


def asset_publish_files(*, asset_id: int) -> bool:
    """Copy a ready, approved asset's renditions under its public key (the task's work).
    A take-down that happened meanwhile wins: the copy is removed again. Returns whether the
    asset is published."""
    key = _public_key_of(asset_id)
    if key is None:
        return False
    media_store.publish_renditions(asset_id=asset_id, public_key=key)
    still = Asset.objects.filter(
        pk=asset_id, public_key=key, state=ProcessingState.READY, approval=ApprovalState.APPROVED
    )
    if not still.exists():
        media_store.unpublish(asset_id=asset_id, public_key=key)
        logger.info("publication overtaken by a take-down asset=%s", asset_id)
        return False
    logger.info("asset published asset=%s", asset_id)
    return True


def asset_take_down(*, asset: Asset) -> None:
    """Remove the asset's public copy and forget its public key: the files at once (an error
    aborts the caller's transaction), and again after commit (a copy still being written);
    then what names the key is told (``publication_withdrawn``)."""
    key = Asset.objects.filter(pk=asset.pk).values_list("public_key", flat=True).first()
    media_store.unpublish(asset_id=asset.pk, public_key=key)
    Asset.objects.filter(pk=asset.pk).update(public_key=None)
    asset.public_key = None
    again = partial(media_store.unpublish, asset_id=asset.pk, public_key=key)
    transaction.on_commit(again, robust=True)
    if key:
        publication_withdrawn_notify(asset_id=asset.pk)


def publication_withdrawn_notify(*, asset_id: int) -> None:
    """Tell what may name the asset's public key (the programming app's cached guides) that it
    is gone: after commit, so that no guide rendered in between reads the key again."""
    send = partial(publication_withdrawn.send, sender=Asset, asset_id=asset_id)
    transaction.on_commit(send, robust=True)


def asset_files_delete(*, asset_id: int, source: str, public_key: str | None) -> None:
    """The files of a deleted asset: its public copy at once (an error aborts the deletion);
    after commit the public copy again, its original, its renditions and its work directory."""
    media_store.unpublish(asset_id=asset_id, public_key=public_key)

    def after_commit() -> None:
        media_store.unpublish(asset_id=asset_id, public_key=public_key)
        media_store.delete_private_files(asset_id=asset_id, source=source)
        logger.info("files of deleted asset removed asset=%s", asset_id)

    transaction.on_commit(after_commit, robust=True)
    if public_key:
        publication_withdrawn_notify(asset_id=asset_id)
