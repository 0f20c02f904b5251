"""Running one transcode job: fetch the original, check and probe it, encode the whole ladder
in one ffmpeg process, store the outputs in private storage, record everything on the asset,
and publish them (a copy under the public key) if the asset is already approved.

Failures are sorted by kind: bad content fails the asset with a reason the resident can read
(no retry); infrastructure errors give the job back to the queue and raise ``TranscodeRetry``
so the task retries with backoff. Each attempt works in its own directory, removed at the end.
"""

import logging
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from broadcasting.media import storage as media_store
from broadcasting.media.encoding import EncodeResult, encode_asset
from broadcasting.media.ffmpeg import FailureKind, FFmpegError, Limits
from broadcasting.media.intake import UploadRejected, check_upload
from broadcasting.media.jobs import (
    Heartbeat,
    asset_set_state,
    job_claim,
    job_finish,
    job_release,
    work_dir_for,
)
from broadcasting.media.probe import ProbeFacts, ProbeLimits, probe
from broadcasting.media.services import asset_fail, asset_publish, library_changed_notify
from broadcasting.models import Asset, AssetKind, ProcessingState, Rendition, TranscodeJob

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 2.0


class TranscodeRetry(Exception):
    """An infrastructure failure: the job went back to the queue and should be retried."""


def transcode_job_run(*, job_id: int, worker: str) -> str:
    """Run the job if it can be claimed; return what happened ("skipped", "ready", "failed")."""
    job = job_claim(job_id=job_id, worker=worker)
    if job is None:
        return "skipped"
    if job.attempts > settings.CARILLON_TRANSCODE_MAX_ATTEMPTS:
        job_finish(job=job, succeeded=False, error="too many attempts")
        asset_fail(asset_id=job.asset_id, code="worker_lost", detail=job.last_error)
        return "failed"
    work_dir = work_dir_for(job=job)
    try:
        with Heartbeat(job.pk):
            return _run_in(job=job, work_dir=work_dir)
    except TranscodeRetry:
        raise
    except Exception as err:  # noqa: BLE001 - a bug must fail the asset, not loop; re-raised
        logger.exception("transcode crashed asset=%s job=%s", job.asset_id, job.pk)
        job_finish(job=job, succeeded=False, error=repr(err))
        asset_fail(asset_id=job.asset_id, code="internal_error", detail=repr(err))
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _run_in(*, job: TranscodeJob, work_dir: Path) -> str:
    asset = job.asset
    try:
        facts, demuxer, source = _check_and_probe(asset=asset, work_dir=work_dir)
        asset_set_state(asset_id=asset.pk, state=ProcessingState.TRANSCODING)
        result = _encode(asset=asset, job=job, facts=facts, demuxer=demuxer, source=source)
        _store(asset=asset, result=result)
    except UploadRejected as err:
        job_finish(job=job, succeeded=False, error=f"{err.code}: {err}")
        asset_fail(asset_id=asset.pk, code=err.code, detail=str(err))
        return "failed"
    except FFmpegError as err:
        if err.kind == FailureKind.INFRASTRUCTURE:
            job_release(job=job, error=str(err))
            raise TranscodeRetry(str(err)) from err
        job_finish(job=job, succeeded=False, error=str(err))
        code = "too_slow" if err.kind == FailureKind.TIMEOUT else "transcode_failed"
        asset_fail(asset_id=asset.pk, code=code, detail=err.stderr_tail[-2000:])
        return "failed"
    except (OSError, DatabaseError) as err:
        job_release(job=job, error=repr(err))
        raise TranscodeRetry(repr(err)) from err
    job_finish(job=job, succeeded=True)
    published = asset_publish(asset_id=asset.pk)  # approved before its transcode ended
    if published is not None and asset.kind != AssetKind.CARD:  # cards fill slots at air time
        library_changed_notify(asset_id=asset.pk)
    logger.info("transcode done asset=%s job=%s attempt=%s", asset.pk, job.pk, job.attempts)
    return "ready"


def _check_and_probe(*, asset: Asset, work_dir: Path) -> tuple[ProbeFacts, str, Path]:
    asset_set_state(asset_id=asset.pk, state=ProcessingState.PROBING)
    suffix = Path(asset.source).suffix
    source = media_store.fetch_original(name=asset.source, destination=work_dir / f"source{suffix}")
    demuxer = check_upload(
        source, original_name=asset.original_filename or source.name,
        max_bytes=settings.CARILLON_UPLOAD_MAX_BYTES,
    )  # fmt: skip
    facts = probe(source, demuxer=demuxer, limits=_probe_limits())
    asset_record_probe(asset_id=asset.pk, facts=facts)
    return facts, demuxer, source


def _probe_limits() -> ProbeLimits:
    return ProbeLimits(
        max_duration_s=settings.CARILLON_MAX_DURATION_SECONDS,
        max_width=settings.CARILLON_MAX_FRAME_SIZE,
        max_height=settings.CARILLON_MAX_FRAME_SIZE,
        max_streams=settings.CARILLON_MAX_STREAMS,
    )


def _ffmpeg_limits(duration: float) -> Limits:
    seconds = max(
        settings.CARILLON_FFMPEG_MIN_SECONDS, duration * settings.CARILLON_FFMPEG_TIME_FACTOR
    )
    return Limits(
        wall_seconds=seconds,
        cpu_seconds=int(seconds * 2),
        memory_bytes=settings.CARILLON_FFMPEG_MEMORY_BYTES,
    )


def _encode(
    *, asset: Asset, job: TranscodeJob, facts: ProbeFacts, demuxer: str, source: Path
) -> EncodeResult:
    recorder = ProgressRecorder(asset_id=asset.pk, job_id=job.pk)
    return encode_asset(
        source=source,
        demuxer=demuxer,
        facts=facts,
        spec=asset.channel_format.to_spec(),
        work_dir=source.parent,
        limits=_ffmpeg_limits(facts.duration),
        on_progress=recorder,
    )


class ProgressRecorder:
    """Store the encode's progress on the asset at most every 2 s (and beat the heartbeat)."""

    def __init__(self, *, asset_id: int, job_id: int) -> None:
        self.asset_id = asset_id
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, percent: float, eta_seconds: float | None) -> None:
        if time.monotonic() - self.last < PROGRESS_EVERY_SECONDS and percent < 100:
            return
        self.last = time.monotonic()
        now = timezone.now()
        Asset.objects.filter(pk=self.asset_id).update(
            progress_percent=round(min(percent, 100.0), 1),
            eta_seconds=eta_seconds,
            progress_updated_at=now,
        )
        TranscodeJob.objects.filter(pk=self.job_id).update(heartbeat_at=now)


def asset_record_probe(*, asset_id: int, facts: ProbeFacts) -> None:
    colour = "/".join(
        filter(None, (facts.color_space, facts.color_transfer, facts.color_primaries))
    )
    Asset.objects.filter(pk=asset_id).update(
        container=facts.container,
        video_codec=facts.video_codec,
        audio_codec=facts.audio_codec,
        audio_layout=facts.audio_layout or ("" if facts.has_audio else "none"),
        duration=facts.duration,
        width=facts.display_width,
        height=facts.display_height,
        rotation=facts.rotation,
        frame_rate=facts.frame_rate,
        color=f"{colour or 'unknown'} {facts.bit_depth}-bit"[:80],
        probe=asdict(facts),
    )


def _store(*, asset: Asset, result: EncodeResult) -> None:
    """Move the outputs into private storage, then record them: one set, whatever the attempt."""
    prefix = media_store.asset_prefix(asset.pk)
    media_store.store_renditions(directory=result.out_dir, prefix=prefix)
    for name, facts in result.renditions.items():
        Rendition.objects.update_or_create(
            asset=asset,
            name=name,
            defaults={
                "width": facts.width,
                "height": facts.height,
                "bandwidth": facts.peak_bandwidth,
                "average_bandwidth": facts.average_bandwidth,
                "codecs": facts.codecs,
                "playlist": f"{prefix}/{name}/index.m3u8",
                "segment_prefix": f"{prefix}/{name}/",
                "segment_count": facts.segment_count,
            },
        )
    Rendition.objects.filter(asset=asset).exclude(name__in=list(result.renditions)).delete()
    poster = f"{prefix}/{result.poster.relative_to(result.out_dir).as_posix()}"
    Asset.objects.filter(pk=asset.pk).update(
        state=ProcessingState.READY,
        failure_code="",
        failure_detail="",
        progress_percent=100.0,
        eta_seconds=0,
        loudness_before=result.loudness_before,
        loudness_after=result.loudness_after,
        segment_count=result.segment_count,
        padded_duration=float(result.padded_duration),
        master_playlist=f"{prefix}/master.m3u8",
        poster=poster,
        ready_at=timezone.now(),
    )
