"""The tus uploads: create one (size limit, quota, the submission it carries), append a chunk,
terminate it, hand the finished file to the media pipeline, expire what was left unfinished.

The bytes are assembled in ``CARILLON_UPLOAD_DIR/<id>.part`` (a folder every web process and
the worker that hands uploads over must share): the name comes from the upload's random id,
never from the client. Two guards keep concurrent requests apart: an exclusive ``flock`` on the
file while a PATCH writes it (a second PATCH meanwhile is told the upload is busy), and the
offset advanced by a conditional update from the offset the writer started at (SQLite ignores
row locks), so a request that lost a race never moves the offset. Bytes are on disk (fsync)
before the offset counts them.
"""

import datetime as dt
import fcntl
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from broadcasting.media.intake import UploadRejected
from broadcasting.media.permissions import user_is_editor
from broadcasting.media.selectors import category_slugs
from broadcasting.media.services import asset_approve, asset_create_from_file
from broadcasting.models import Asset, AssetKind, AssetOrigin
from cms.models import SubmissionState, Upload, UploadState, VideoSubmission
from cms.services.moderation import video_submission_review_start

logger = logging.getLogger(__name__)
HAND_OVER_TASK = "cms.tasks.upload_hand_over"
# A submission takes a file while it waits for one, or to replace it when changes were asked.
OPEN_STATES = (SubmissionState.AWAITING_UPLOAD, SubmissionState.CHANGES_REQUESTED)
EDITOR_KINDS = (AssetKind.PROGRAMME, AssetKind.FILLER, AssetKind.IDENT)
# A complete upload still not handed over after this long lost its message: sent again.
HAND_OVER_RESEND_AFTER = dt.timedelta(minutes=10)


class UploadRefused(Exception):
    """A creation or a chunk that is not accepted: the HTTP status and a message for the
    resident (lazy, translated when shown)."""

    def __init__(self, status: int, message: object) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")


# --- Files ---------------------------------------------------------------------------------------


def upload_path(*, upload_id: UUID) -> Path:
    """Where an upload's bytes are assembled: named by its id only."""
    return Path(settings.CARILLON_UPLOAD_DIR) / f"{UUID(str(upload_id)).hex}.part"


@contextmanager
def _locked(path: Path, *, wait: bool) -> Iterator[BinaryIO | None]:
    """The upload's file opened for writing under an exclusive lock; ``None`` when another
    request holds it and ``wait`` is false."""
    with path.open("r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_file(upload_id: UUID) -> None:
    upload_path(upload_id=upload_id).unlink(missing_ok=True)


# --- Creation ------------------------------------------------------------------------------------


def uploads_used_bytes(*, owner: User, now: dt.datetime) -> int:
    """What counts against a resident's quota: their unfinished uploads, and those finished
    in the last day."""
    recent = Q(state__in=[UploadState.COMPLETE, UploadState.HANDED_OVER]) & Q(
        created_at__gte=now - dt.timedelta(hours=settings.CARILLON_UPLOAD_EXPIRY_HOURS)
    )
    unfinished = Q(state=UploadState.RECEIVING)
    used = Upload.objects.filter(unfinished | recent, owner=owner).aggregate(total=Sum("length"))
    return int(used["total"] or 0)


def _check_size(*, owner: User, length: int, now: dt.datetime) -> None:
    if length > settings.CARILLON_UPLOAD_MAX_BYTES:
        raise UploadRefused(413, _("The file is larger than the maximum size allowed."))
    if user_is_editor(owner):
        return
    if uploads_used_bytes(owner=owner, now=now) + length > settings.CARILLON_UPLOAD_QUOTA_BYTES:
        raise UploadRefused(
            413,
            _(
                "You have sent too much video today: wait until tomorrow, or let your "
                "unfinished uploads expire, before sending this file."
            ),
        )


def _submission_for(*, owner: User, metadata: dict[str, str]) -> VideoSubmission | None:
    """The submission named by the metadata: the owner's own, waiting for a file. Editors may
    upload the city's own videos without one."""
    raw = metadata.get("submission", "").strip()
    if not raw:
        if user_is_editor(owner):
            return None
        raise UploadRefused(400, _("The upload does not say which submission it belongs to."))
    if not raw.isdigit():
        raise UploadRefused(400, _("The submission of this upload is not valid."))
    submission = VideoSubmission.objects.filter(pk=int(raw), submitter=owner).first()
    if submission is None:
        raise UploadRefused(403, _("This submission is not one of yours."))
    if submission.state not in OPEN_STATES:
        raise UploadRefused(403, _("This submission is not waiting for a video file."))
    return submission


def upload_create(
    *, owner: User, length: int, metadata: dict[str, str], now: dt.datetime | None = None
) -> Upload:
    """A new, empty upload of ``length`` bytes (tus creation), checked against the size limit,
    the resident's quota and the submission it carries."""
    now = now or timezone.now()
    filename = Path(metadata.get("filename") or metadata.get("name") or "").name[:255]
    if not filename:
        raise UploadRefused(400, _("The upload does not give the file's name."))
    submission = _submission_for(owner=owner, metadata=metadata)
    with transaction.atomic():
        # One creation at a time per resident, so two of them cannot share the same quota.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        _check_size(owner=owner, length=length, now=now)
        upload = Upload.objects.create(
            owner=owner,
            submission=submission,
            length=length,
            filename=filename,
            metadata=metadata,
            expires_at=now + dt.timedelta(hours=settings.CARILLON_UPLOAD_EXPIRY_HOURS),
        )
        path = upload_path(upload_id=upload.pk)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=False)
    logger.info("upload created upload=%s owner=%s length=%s", upload.pk, owner.pk, length)
    return upload


# --- Chunks --------------------------------------------------------------------------------------


def _write(handle: BinaryIO, *, offset: int, pieces: Iterable[bytes]) -> int:
    """Write ``pieces`` at ``offset`` (what lies beyond, from an interrupted request that never
    counted, is cut first), durably; the bytes written."""
    handle.truncate(offset)
    handle.seek(offset)
    written = 0
    for piece in pieces:
        handle.write(piece)
        written += len(piece)
    handle.flush()
    os.fsync(handle.fileno())
    return written


def upload_append(
    *, upload: Upload, offset: int, pieces: Iterable[bytes], now: dt.datetime | None = None
) -> Upload:
    """Append a PATCH's body (``pieces``, already checked against the chunk cap and the
    upload's length) at ``offset``. Raises ``UploadRefused``: 423 while another request
    writes, 409 when ``offset`` is not the upload's, 410 when its bytes are gone. What arrived before a dropped connection
    is kept and counted. A complete upload is queued for its hand-over."""
    now = now or timezone.now()
    path = upload_path(upload_id=upload.pk)
    if not path.exists():  # expired, or failed: its bytes are gone
        raise UploadRefused(410, _("This upload has expired: send the file again."))
    with _locked(path, wait=False) as handle:
        if handle is None:
            raise UploadRefused(423, _("Another request is writing this upload; try again."))
        current = Upload.objects.filter(pk=upload.pk, state=UploadState.RECEIVING)
        if not current.filter(offset=offset).exists():
            raise UploadRefused(409, _("The upload is not at this offset."))
        written = _write(handle, offset=offset, pieces=pieces)
        _advance(upload=upload, offset=offset, written=written, now=now)
    upload.refresh_from_db()
    if upload.state == UploadState.COMPLETE:
        logger.info("upload complete upload=%s length=%s", upload.pk, upload.length)
        transaction.on_commit(lambda: upload_hand_over_enqueue(upload_id=upload.pk))
    return upload


def _advance(*, upload: Upload, offset: int, written: int, now: dt.datetime) -> None:
    """Count ``written`` bytes, only if the upload is still where this request found it."""
    new = offset + written
    changes: dict[str, object] = {
        "offset": new,
        "expires_at": now + dt.timedelta(hours=settings.CARILLON_UPLOAD_EXPIRY_HOURS),
    }
    if new == upload.length:
        changes.update(state=UploadState.COMPLETE, completed_at=now)
    moved = Upload.objects.filter(pk=upload.pk, offset=offset, state=UploadState.RECEIVING).update(
        **changes
    )
    if not moved:
        raise UploadRefused(409, _("The upload changed while this chunk was written."))


def upload_terminate(*, upload: Upload) -> None:
    """tus termination: the resident gives up an upload; its row and bytes are deleted. One
    already handed to the media pipeline is not an upload any more."""
    if upload.state in (UploadState.COMPLETE, UploadState.HANDED_OVER):
        raise UploadRefused(409, _("This upload is finished and cannot be cancelled any more."))
    deleted, _rows = Upload.objects.filter(
        pk=upload.pk, state__in=[UploadState.RECEIVING, UploadState.FAILED, UploadState.EXPIRED]
    ).delete()
    if deleted:
        _remove_file(upload.pk)
        logger.info("upload terminated upload=%s", upload.pk)


# --- Hand-over -----------------------------------------------------------------------------------


def upload_hand_over_enqueue(*, upload_id: UUID) -> bool:
    """Send the hand-over task; a broker that is down is logged, and the sweep sends it later."""
    try:
        current_app.send_task(HAND_OVER_TASK, args=[str(upload_id)], retry=False)
    except (BrokerError, RedisError, OSError) as err:
        logger.warning(
            "hand-over of upload=%s not enqueued (broker unavailable): %s", upload_id, err
        )
        return False
    return True


def _create_asset(*, upload: Upload, path: Path, submission: VideoSubmission | None) -> Asset:
    if submission is not None:
        return asset_create_from_file(
            path=path,
            original_name=upload.filename,
            title=submission.title,
            description=submission.description,
            kind=AssetKind.PROGRAMME,
            origin=AssetOrigin.RESIDENT,
            category=submission.category.slug,
            owner=submission.submitter,
        )
    kind = upload.metadata.get("kind", "")
    asset = asset_create_from_file(
        path=path,
        original_name=upload.filename,
        title=(upload.metadata.get("title") or Path(upload.filename).stem)[:200],
        description=upload.metadata.get("description", ""),
        kind=kind if kind in EDITOR_KINDS else AssetKind.PROGRAMME,
        origin=AssetOrigin.CITY,
        category=_category_of(upload.metadata.get("category", "")),
        owner=upload.owner,
    )
    # The city's own video needs no moderation: the editor who sent it approves it now (it
    # airs and is published once its transcode ends). One who is no editor any more leaves
    # it awaiting another editor's review.
    if user_is_editor(upload.owner):
        asset_approve(asset=asset, editor=upload.owner)
    return asset


def _category_of(slug: str) -> str:
    """An editor's upload names its category: an unknown one is "other"."""
    return slug if slug in category_slugs() else "other"


def _open_submission(upload: Upload) -> VideoSubmission | None:
    """The upload's submission, locked, if it still takes a file; ``UploadRefused`` when it
    does not (another upload of the same submission was handed over first)."""
    if upload.submission_id is None:
        return None
    submission = VideoSubmission.objects.select_for_update().get(pk=upload.submission_id)
    if submission.state not in OPEN_STATES:
        raise UploadRefused(409, _("This submission is not waiting for a video file any more."))
    return submission


def _link(*, upload: Upload, submission: VideoSubmission | None, asset: Asset) -> None:
    Upload.objects.filter(pk=upload.pk).update(state=UploadState.HANDED_OVER, failure="")
    if submission is None:
        return
    submission.asset = asset
    submission.save(update_fields=["asset", "updated_at"])
    video_submission_review_start(submission=submission)


def upload_hand_over(*, upload: Upload) -> Upload:
    """Give a complete upload's file to the media pipeline (intake checks, private storage,
    transcode), link the asset to the submission and start its review; the local file is
    deleted after commit. A file the intake refuses fails the upload with the reason and
    leaves the submission waiting for another file. Running it again is harmless."""
    path = upload_path(upload_id=upload.pk)
    if not path.exists():
        return _refresh(upload)
    with _locked(path, wait=True):
        if _refresh(upload).state != UploadState.COMPLETE:
            return upload
        try:
            with transaction.atomic():
                submission = _open_submission(upload)
                asset = _create_asset(upload=upload, path=path, submission=submission)
                _link(upload=upload, submission=submission, asset=asset)
        except UploadRejected as err:
            _fail(upload=upload, reason=err.message, detail=err.detail)
        except UploadRefused as err:
            _fail(upload=upload, reason=err.message, detail="")
        else:
            logger.info("upload handed over upload=%s asset=%s", upload.pk, asset.pk)
    transaction.on_commit(lambda: _remove_file(upload.pk))
    return _refresh(upload)


def _fail(*, upload: Upload, reason: object, detail: str) -> None:
    """The upload fails with ``reason`` kept as its English text: it is a message id, shown
    translated with ``gettext(upload.failure)`` / ``{% translate upload.failure %}``."""
    with translation.override("en"):
        text = str(reason)
    Upload.objects.filter(pk=upload.pk).update(state=UploadState.FAILED, failure=text)
    logger.warning("upload failed upload=%s reason=%r detail=%s", upload.pk, text, detail[-500:])


def _refresh(upload: Upload) -> Upload:
    upload.refresh_from_db()
    return upload


# --- Expiry --------------------------------------------------------------------------------------


def uploads_expire(*, now: dt.datetime | None = None) -> int:
    """Unfinished uploads past their expiry lose their bytes (state ``EXPIRED``); complete
    uploads whose hand-over message was lost are sent again. Returns the number expired."""
    now = now or timezone.now()
    expired = 0
    due = Upload.objects.filter(state=UploadState.RECEIVING, expires_at__lt=now)
    for upload_id in due.values_list("pk", flat=True):
        if Upload.objects.filter(
            pk=upload_id, state=UploadState.RECEIVING, expires_at__lt=now
        ).update(state=UploadState.EXPIRED):
            _remove_file(upload_id)
            expired += 1
    stuck = Upload.objects.filter(
        state=UploadState.COMPLETE, completed_at__lt=now - HAND_OVER_RESEND_AFTER
    )
    for upload_id in stuck.values_list("pk", flat=True):
        upload_hand_over_enqueue(upload_id=upload_id)
    if expired:
        logger.info("uploads expired count=%s", expired)
    return expired
