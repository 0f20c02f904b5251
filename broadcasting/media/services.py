"""Writes of the broadcasting app: creating assets from uploads, approving and rejecting them,
and creating/enqueueing their transcode jobs. The transcode itself is in ``transcoding.py``."""

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

from broadcasting.media.intake import check_upload
from broadcasting.media.selectors import channel_format_default
from broadcasting.media.storage import source_name, store_original
from broadcasting.models import (
    ApprovalState,
    Asset,
    AssetCategory,
    AssetKind,
    AssetOrigin,
    JobState,
    ProcessingState,
    TranscodeJob,
)
from broadcasting.signals import library_changed

logger = logging.getLogger(__name__)
TRANSCODE_TASK = "broadcasting.tasks.transcode_asset"


class ReviewError(Exception):
    """An approval or rejection that is not allowed."""


def asset_create_from_file(
    *,
    path: Path,
    original_name: str,
    title: str,
    kind: str = AssetKind.PROGRAMME,
    origin: str = AssetOrigin.CITY,
    category: str = AssetCategory.OTHER,
    description: str = "",
    owner: "User | None" = None,
) -> Asset:
    """Check an uploaded file, keep it in private storage, and queue its transcode.

    Raises ``UploadRejected`` (before anything is stored) for a file that is not a video.
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
            category=category,
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


def transcode_job_enqueue(*, job_id: int) -> bool:
    """Send the job's Celery message. A broker that is down is logged, not raised: the
    sweeper sends it later."""
    try:
        current_app.send_task(
            TRANSCODE_TASK,
            args=[job_id],
            queue="transcode",
            retry=False,
            time_limit=settings.CELERY_TRANSCODE_TIME_LIMIT,
            soft_time_limit=settings.CELERY_TRANSCODE_TIME_LIMIT - 60,
        )
    except (BrokerError, RedisError, OSError) as err:
        logger.warning("transcode job %s not enqueued (broker unavailable): %s", job_id, err)
        return False
    TranscodeJob.objects.filter(pk=job_id).update(
        enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1
    )
    return True


def asset_approve(*, asset: Asset, editor: User) -> Asset:
    """An editor lets the asset air (once it is ready)."""
    _check_reviewer(editor)
    asset.approval = ApprovalState.APPROVED
    asset.rejection_reason = ""
    return _record_review(asset=asset, editor=editor)


def asset_reject(*, asset: Asset, editor: User, reason: str) -> Asset:
    """An editor refuses the asset, with a reason the resident will read."""
    _check_reviewer(editor)
    if not reason.strip():
        raise ReviewError("A rejection needs a reason for the resident.")
    asset.approval = ApprovalState.REJECTED
    asset.rejection_reason = reason.strip()
    return _record_review(asset=asset, editor=editor)


def _check_reviewer(editor: User) -> None:
    if not editor.has_perm("broadcasting.change_asset"):
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
