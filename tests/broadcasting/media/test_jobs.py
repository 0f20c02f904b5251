"""Job rows: conditional claims, heartbeats, and the sweeper's recovery rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from broadcasting.media.jobs import job_claim, jobs_sweep, work_dir_for
from broadcasting.models import JobState, ProcessingState, TranscodeJob
from tests.factories import TranscodeJobFactory

pytestmark = pytest.mark.django_db


def test_a_job_is_claimed_once_even_if_delivered_twice() -> None:
    job = TranscodeJobFactory()
    first = job_claim(job_id=job.pk, worker="w1")
    second = job_claim(job_id=job.pk, worker="w2")
    assert first is not None and first.attempts == 1 and first.worker == "w1"
    assert second is None


def test_a_running_job_with_a_dead_heartbeat_can_be_claimed_again(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT = 60
    old = timezone.now() - timedelta(seconds=120)
    job = TranscodeJobFactory(state=JobState.RUNNING, attempts=1, heartbeat_at=old)
    claimed = job_claim(job_id=job.pk, worker="w2")
    assert claimed is not None and claimed.attempts == 2


def test_sweeper_requeues_jobs_whose_worker_died(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT = 60
    dead = TranscodeJobFactory(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    alive = TranscodeJobFactory(state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now())
    report = jobs_sweep()
    assert report.requeued_stale == [dead.pk]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.state == JobState.QUEUED
    assert alive.state == JobState.RUNNING


def test_sweeper_fails_an_asset_that_killed_every_worker(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT = 60
    settings.CARILLON_TRANSCODE_MAX_ATTEMPTS = 3
    job = TranscodeJobFactory(
        state=JobState.RUNNING, attempts=3, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    report = jobs_sweep()
    assert report.failed_exhausted == [job.pk]
    job.refresh_from_db()
    job.asset.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.asset.state == ProcessingState.FAILED
    assert job.asset.failure_code == "worker_lost"


def test_sweeper_sends_again_only_messages_that_are_due(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_TRANSCODE_REQUEUE_AFTER = 60
    now = timezone.now()
    never_sent = TranscodeJobFactory(enqueued_at=None)
    sent_long_ago = TranscodeJobFactory(enqueued_at=now - timedelta(seconds=90), enqueue_count=1)
    sent_recently = TranscodeJobFactory(enqueued_at=now - timedelta(seconds=10), enqueue_count=1)
    # After 3 sends the wait has doubled twice: 240 s.
    backing_off = TranscodeJobFactory(enqueued_at=now - timedelta(seconds=200), enqueue_count=3)
    report = jobs_sweep(now=now)
    assert sorted(report.enqueued) == sorted([never_sent.pk, sent_long_ago.pk])
    assert TranscodeJob.objects.get(pk=never_sent.pk).enqueue_count == 1
    assert sent_recently.pk not in report.enqueued and backing_off.pk not in report.enqueued


def test_sweeper_removes_work_dirs_of_dead_attempts_only(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_WORK_DIR = tmp_path
    running = TranscodeJobFactory(state=JobState.RUNNING, attempts=2, heartbeat_at=timezone.now())
    live_dir = work_dir_for(job=running)
    dead_dir = tmp_path / f"asset-{running.asset_id}" / "attempt-1"
    for folder in (live_dir, dead_dir):
        folder.mkdir(parents=True)
        (folder / "partial.ts").write_bytes(b"x")
    report = jobs_sweep()
    assert report.removed_work_dirs == [str(dead_dir)]
    assert live_dir.exists() and not dead_dir.exists()
