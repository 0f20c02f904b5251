"""Celery entry points of the broadcasting app: thin, they take ids and call a service."""

from celery import shared_task

from broadcasting.media.jobs import jobs_sweep
from broadcasting.media.transcoding import TranscodeRetry, transcode_job_run


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TranscodeRetry,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
    ignore_result=True,
)
def transcode_asset(self, job_id: int) -> str:  # type: ignore[no-untyped-def]
    """Transcode the asset of a job row (routed to the ``transcode`` queue)."""
    return transcode_job_run(job_id=job_id, worker=f"{self.request.hostname}:{self.request.id}")


@shared_task(ignore_result=True)
def sweep_transcode_jobs() -> None:
    """Beat: re-queue jobs of dead workers, send lost messages, remove orphan work dirs."""
    jobs_sweep()
