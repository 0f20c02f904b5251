"""Celery entry points of the broadcasting app: thin, they take ids and call a service."""

from celery import shared_task

from broadcasting.media.jobs import jobs_sweep, work_dirs_sweep
from broadcasting.media.retention import originals_prune
from broadcasting.media.services import asset_publish_files, assets_publish_missing
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


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
    ignore_result=True,
)
def publish_asset(asset_id: int) -> bool:
    """Copy an approved asset's renditions to public storage under its public key (idempotent)."""
    return asset_publish_files(asset_id=asset_id)


@shared_task(ignore_result=True)
def publish_missing_copies() -> None:
    """Beat: send again the publications that a broker outage lost (approved, ready videos
    without their public copy)."""
    assets_publish_missing()


@shared_task(ignore_result=True)
def sweep_transcode_jobs() -> None:
    """Beat: re-queue jobs of dead workers, send lost messages, fail hopeless assets."""
    jobs_sweep()


@shared_task(ignore_result=True)
def transcode_sweep_work_dirs() -> None:
    """Beat, on the ``transcode`` queue (its worker owns the work folder): remove dead
    attempts' work dirs and empty asset folders."""
    work_dirs_sweep()


@shared_task(ignore_result=True)
def apply_retention() -> None:
    """Beat, hourly: delete the expired originals of failed and rejected videos."""
    originals_prune()
