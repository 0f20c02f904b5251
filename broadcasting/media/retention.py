"""Retention of the media wing: the originals of failed and rejected videos (``originals_prune``).

An original is kept so that the ladder can be rebuilt when the format changes. A video that
failed, or that an editor rejected, will not be rebuilt: its original is deleted
``CARILLON_ORIGINALS_RETENTION_DAYS`` (30 by default) after the failure (its last job's end) or
the rejection. The row stays, so residents and editors still see what happened: ``source`` is
emptied and a note is added to ``failure_detail``. A video with a job queued or running keeps
its original. Empty work folders are the transcode worker's own sweep (``jobs.work_dirs_sweep``).
"""

import contextlib
import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.core.files.storage import Storage
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from broadcasting.media.storage import private_storage
from broadcasting.models import ApprovalState, Asset, JobState, ProcessingState, TranscodeJob

logger = logging.getLogger(__name__)


def originals_prune(*, now: dt.datetime | None = None) -> list[int]:
    """Delete the expired originals of failed and rejected videos: the ids of those videos."""
    now = now or timezone.now()
    days = settings.CARILLON_ORIGINALS_RETENTION_DAYS
    pruned = [
        asset.pk
        for asset in _expired(before=now - dt.timedelta(days=days))
        if _delete_original(
            asset, note=f"Original deleted on {now:%Y-%m-%d} ({days}-day retention)."
        )
    ]
    if pruned:
        logger.info("originals deleted assets=%s", pruned)
    return pruned


def _expired(*, before: dt.datetime) -> QuerySet[Asset]:
    jobs = TranscodeJob.objects.filter(asset=OuterRef("pk"))
    last_end = jobs.filter(finished_at__isnull=False).order_by("-finished_at").values("finished_at")
    busy = jobs.filter(state__in=[JobState.QUEUED, JobState.RUNNING])
    return (
        Asset.objects.exclude(source="")
        .annotate(failed_at=Coalesce(Subquery(last_end[:1]), F("updated_at")))
        .filter(
            Q(state=ProcessingState.FAILED, failed_at__lt=before)
            | Q(approval=ApprovalState.REJECTED, reviewed_at__lt=before)
        )
        .exclude(Exists(busy))
    )


def _delete_original(asset: Asset, *, note: str) -> bool:
    storage = private_storage()
    try:
        storage.delete(asset.source)
    except Exception as err:  # noqa: BLE001 - any storage error: tried again at the next run
        logger.warning("original not deleted asset=%s: %s", asset.pk, err)
        return False
    _remove_empty_folder(storage, asset.source)
    detail = f"{asset.failure_detail}\n{note}".strip()
    Asset.objects.filter(pk=asset.pk, source=asset.source).update(source="", failure_detail=detail)
    return True


def _remove_empty_folder(storage: Storage, name: str) -> None:
    """The local storage's ``originals/<id>/`` once empty (object storage has no folders)."""
    try:
        folder = Path(storage.path(name)).parent
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):
        folder.rmdir()
