"""The life of a transcode job row: claim, heartbeat, release, finish, and the sweeper.

A job is claimed by a conditional update, so two deliveries of the same message (a retry, a
sweeper re-enqueue, a broker redelivery) never run it twice. A running job proves it is alive
with a heartbeat; the sweeper re-queues jobs whose heartbeat stopped (a worker killed with
SIGKILL) and sends again the messages of queued jobs that the broker never got. The work
folder has its own sweep (``work_dirs_sweep``), run by the transcode worker, the one process
that sees the folder (in Docker Compose the others do not).
"""

import logging
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from broadcasting.media.services import asset_fail, transcode_job_enqueue
from broadcasting.media.storage import asset_work_dir
from broadcasting.models import Asset, JobState, ProcessingState, TranscodeJob

logger = logging.getLogger(__name__)
HEARTBEAT_EVERY_SECONDS = 10.0
MAX_REQUEUE_DELAY = timedelta(hours=4)


def job_claim(*, job_id: int, worker: str, now: datetime | None = None) -> TranscodeJob | None:
    """Take the job if it is queued (or running with a dead heartbeat); ``None`` otherwise."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT)
    claimable = Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, heartbeat_at__lt=stale)
    taken = TranscodeJob.objects.filter(claimable, pk=job_id).update(
        state=JobState.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker[:200],
        started_at=now,
        heartbeat_at=now,
    )
    if not taken:
        logger.info("transcode job %s not claimable by %s", job_id, worker)
        return None
    return TranscodeJob.objects.select_related("asset", "asset__channel_format").get(pk=job_id)


def job_heartbeat(*, job_id: int) -> None:
    TranscodeJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        heartbeat_at=timezone.now()
    )


def job_release(*, job: TranscodeJob, error: str) -> None:
    """Give a job back to the queue after an infrastructure failure (it will be retried)."""
    TranscodeJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=JobState.QUEUED, last_error=error[-2000:], heartbeat_at=None, enqueued_at=None
    )


def job_finish(*, job: TranscodeJob, succeeded: bool, error: str = "") -> None:
    TranscodeJob.objects.filter(pk=job.pk).update(
        state=JobState.SUCCEEDED if succeeded else JobState.FAILED,
        finished_at=timezone.now(),
        heartbeat_at=None,
        last_error=error[-2000:],
    )


def work_dir_for(*, job: TranscodeJob) -> Path:
    """One work directory per attempt, so a re-run never sees a dead attempt's files."""
    return asset_work_dir(job.asset_id) / f"attempt-{job.attempts}"


class Heartbeat:
    """Beat a job's heartbeat from a thread while a long step runs without progress output."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            every = min(HEARTBEAT_EVERY_SECONDS, settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT / 3)
            while not self._stop.wait(every):
                job_heartbeat(job_id=self.job_id)
        finally:
            connection.close()


@dataclass
class SweepReport:
    requeued_stale: list[int] = field(default_factory=list)
    failed_exhausted: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)


def jobs_sweep(*, now: datetime | None = None) -> SweepReport:
    """Recover what was lost: dead workers' jobs, messages the broker never got."""
    now = now or timezone.now()
    report = SweepReport()
    _recover_stale_running(now=now, report=report, fail=asset_fail)
    for job in _queued_needing_message(now=now):
        if transcode_job_enqueue(job_id=job.pk):
            report.enqueued.append(job.pk)
    if report.requeued_stale or report.failed_exhausted or report.enqueued:
        logger.info("transcode sweep %s", report)
    return report


def _recover_stale_running(*, now: datetime, report: SweepReport, fail: object) -> None:
    stale = now - timedelta(seconds=settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT)
    for job in TranscodeJob.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=stale):
        if job.attempts >= settings.CARILLON_TRANSCODE_MAX_ATTEMPTS:
            job_finish(job=job, succeeded=False, error="worker lost on every attempt")
            fail(asset_id=job.asset_id, code="worker_lost", detail=job.last_error)  # type: ignore[operator]
            report.failed_exhausted.append(job.pk)
            continue
        moved = TranscodeJob.objects.filter(
            pk=job.pk, state=JobState.RUNNING, heartbeat_at__lt=stale
        ).update(state=JobState.QUEUED, enqueued_at=None, heartbeat_at=None)
        if moved:
            report.requeued_stale.append(job.pk)


def _queued_needing_message(*, now: datetime) -> list[TranscodeJob]:
    """Queued jobs never enqueued, or enqueued long ago (the wait doubles each time)."""
    base = settings.CARILLON_TRANSCODE_REQUEUE_AFTER
    due = []
    for job in TranscodeJob.objects.filter(state=JobState.QUEUED):
        if job.enqueued_at is None:
            due.append(job)
            continue
        wait = min(timedelta(seconds=base * 2 ** max(0, job.enqueue_count - 1)), MAX_REQUEUE_DELAY)
        if now - job.enqueued_at >= wait:
            due.append(job)
    return due


def work_dirs_sweep() -> list[str]:
    """Delete the attempt directories that no running job owns (left by killed workers), then
    the asset folders left empty (a finished transcode removes its attempt's directory only).

    The folders are listed before the running jobs are read: a job is running before its
    directory exists, so a directory being made is never taken for a dead one.
    """
    root = Path(settings.CARILLON_WORK_DIR)
    if not root.is_dir():
        return []
    attempts = sorted(root.glob("asset-*/attempt-*"))
    folders = sorted(path for path in root.glob("asset-*") if path.is_dir())
    running = list(TranscodeJob.objects.filter(state=JobState.RUNNING))
    owned = {work_dir_for(job=job) for job in running}
    removed = [str(path) for path in attempts if path not in owned]
    for name in removed:
        shutil.rmtree(name, ignore_errors=True)
    busy = {asset_work_dir(job.asset_id) for job in running}
    for folder in folders:
        if folder not in busy and _remove_if_empty(folder):
            removed.append(str(folder))
    if removed:
        logger.info("work dirs removed %s", removed)
    return removed


def _remove_if_empty(folder: Path) -> bool:
    try:
        folder.rmdir()
    except OSError:  # not empty (or already gone)
        return False
    return True


def asset_set_state(*, asset_id: int, state: ProcessingState) -> None:
    Asset.objects.filter(pk=asset_id).update(state=state)
