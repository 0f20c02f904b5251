"""Job rows: conditional claims, heartbeats, and the sweeper's recovery rules."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from broadcasting.media.jobs import job_claim, jobs_sweep, work_dir_for, work_dirs_sweep
from broadcasting.models import JobState, ProcessingState, TranscodeJob
from config.celery_app import app as celery_app
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
    assert work_dirs_sweep() == [str(dead_dir)]
    assert live_dir.exists() and not dead_dir.exists()


def test_the_work_dir_sweep_removes_empty_asset_folders(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_WORK_DIR = tmp_path
    running = TranscodeJobFactory(state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now())
    finished = TranscodeJobFactory(state=JobState.SUCCEEDED, attempts=1)
    starting = tmp_path / f"asset-{running.asset_id}"  # its attempt folder is being made
    done = tmp_path / f"asset-{finished.asset_id}"  # the transcode removed its attempt folder
    stray = tmp_path / "notes.txt"
    for folder in (starting, done):
        folder.mkdir()
    stray.write_text("kept")
    assert work_dirs_sweep() == [str(done)]
    assert starting.exists() and not done.exists() and stray.exists()


def test_the_job_sweep_leaves_work_dirs_to_the_transcode_worker(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The default-queue worker runs ``jobs_sweep``; in Docker Compose it cannot see the
    transcode worker's work folder, so the folder's sweep is a task of the transcode queue."""
    settings.CARILLON_WORK_DIR = tmp_path
    dead = tmp_path / "asset-1" / "attempt-1"
    dead.mkdir(parents=True)
    jobs_sweep()
    assert dead.exists()
    entries = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == "broadcasting.tasks.transcode_sweep_work_dirs"]  # fmt: skip
    assert len(entries) == 1
    route = celery_app.amqp.router.route({}, "broadcasting.tasks.transcode_sweep_work_dirs")
    assert route["queue"].name == "transcode"
    options = entries[0]["options"]
    assert isinstance(options, dict) and "expires" in options  # no pile behind a long transcode
