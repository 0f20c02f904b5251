"""End to end with a real Celery worker, real Redis, real PostgreSQL and real ffmpeg:
an import becomes a ready, approved asset; a worker killed with SIGKILL mid-transcode and a
broker that is down at enqueue time both end with the asset ready and one set of renditions."""

import subprocess
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from broadcasting.media.jobs import jobs_sweep
from broadcasting.media.storage import asset_prefix, list_files, private_storage
from broadcasting.models import ApprovalState, Asset, JobState, ProcessingState, Rendition
from broadcasting.tasks import transcode_sweep_work_dirs
from tests.broadcasting import clips
from tests.broadcasting.workers import Worker, purge_test_broker, wait_for, worker_env
from tests.factories import UserFactory
from tests.support import MANAGE, ROOT, SMALL_RUNG

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]


@pytest.fixture
def pipeline_settings(settings, tmp_path: Path, small_ladder: None):  # type: ignore[no-untyped-def]
    settings.CARILLON_WORK_DIR = tmp_path / "work"
    settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT = 6
    purge_test_broker()
    return settings


@pytest.fixture
def worker(pipeline_settings, tmp_path: Path) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    started = Worker(tmp_path / "worker.log").start()
    yield started
    started.stop()


def assert_one_set_of_renditions(asset: Asset) -> None:
    renditions = list(Rendition.objects.filter(asset=asset))
    assert [r.name for r in renditions] == [SMALL_RUNG]  # the ladder of ``small_ladder``
    files = list_files(storage=private_storage(), prefix=asset_prefix(asset.pk))
    assert len(files) == len(set(files))
    for rendition in renditions:
        segments = [
            f for f in files if f.startswith(rendition.segment_prefix) and f.endswith(".ts")
        ]
        assert len(segments) == rendition.segment_count == asset.segment_count
    expected = 2 + sum(r.segment_count + 1 for r in renditions)  # master, poster, playlists
    assert len(files) == expected, files


def test_import_video_waits_and_prints_the_master_playlist(worker: Worker, tmp_path: Path) -> None:
    UserFactory(username="cmin-admin", is_superuser=True, is_staff=True)
    clip = clips.four_by_three(tmp_path, seconds=3.0)
    out = StringIO()
    call_command(
        "import_video",
        str(clip),
        "--title",
        "Le pont",
        "--approve",
        "--wait",
        "--timeout",
        "240",
        stdout=out,
    )
    asset_id, final = out.getvalue().split("\n")[:2]
    asset = Asset.objects.get(pk=int(asset_id))
    assert asset.state == ProcessingState.READY
    assert asset.approval == ApprovalState.APPROVED
    assert final.startswith("ready ") and final.endswith("master.m3u8")
    assert Path(final.split(" ", 1)[1]).read_text().startswith("#EXTM3U")
    assert_one_set_of_renditions(asset)


def test_import_video_exits_non_zero_for_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    picture = clips.png_renamed(tmp_path)
    result = subprocess.run(
        [*MANAGE, "import_video", str(picture), "--title", "Photo"],
        cwd=ROOT, env=worker_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Rejected" in result.stderr
    assert not Asset.objects.exists()


def test_worker_killed_mid_transcode_ends_ready_with_one_set(
    pipeline_settings, worker: Worker, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from broadcasting.media.services import asset_create_from_file

    clip = clips.landscape_1080p(tmp_path, seconds=12.0)
    asset = asset_create_from_file(path=clip, original_name=clip.name, title="Long")
    wait_for(
        lambda: (
            Asset.objects.get(pk=asset.pk).progress_percent > 5
            and Asset.objects.get(pk=asset.pk).state == ProcessingState.TRANSCODING
        ),
        timeout=180,
    )
    worker.kill()
    attempt_dir = Path(pipeline_settings.CARILLON_WORK_DIR) / f"asset-{asset.pk}" / "attempt-1"
    wait_for(lambda: not _ffmpeg_running_in(attempt_dir), timeout=10)

    replacement = Worker(tmp_path / "worker-2.log").start()
    try:
        wait_for(lambda: jobs_sweep().requeued_stale or _job(asset).state != JobState.RUNNING,
                 timeout=60, every=1.0)  # fmt: skip
        jobs_sweep()
        wait_for(lambda: Asset.objects.get(pk=asset.pk).state == ProcessingState.READY, timeout=300)
        # Beat's work-folder sweep, routed to the transcode queue: the dead attempt's files go,
        # then the asset's folder, empty once the second attempt removed its own directory.
        transcode_sweep_work_dirs.delay()
        wait_for(lambda: not attempt_dir.parent.exists(), timeout=60)
    finally:
        replacement.stop()
    job = _job(asset)
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert_one_set_of_renditions(Asset.objects.get(pk=asset.pk))


def test_broker_down_at_enqueue_time_ends_ready(pipeline_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clip = clips.mono(tmp_path, seconds=3.0)
    result = subprocess.run(
        [*MANAGE, "import_video", str(clip), "--title", "Sans courtier"],
        cwd=ROOT, env=worker_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    asset = Asset.objects.get(pk=int(result.stdout.split()[0]))
    assert _job(asset).enqueued_at is None
    assert asset.state == ProcessingState.UPLOADED

    late_worker = Worker(tmp_path / "worker.log").start()
    try:
        assert jobs_sweep().enqueued == [_job(asset).pk]
        wait_for(lambda: Asset.objects.get(pk=asset.pk).state == ProcessingState.READY, timeout=300)
    finally:
        late_worker.stop()
    assert _job(asset).attempts == 1
    assert_one_set_of_renditions(Asset.objects.get(pk=asset.pk))


def _job(asset: Asset):  # type: ignore[no-untyped-def]
    return asset.jobs.get()


def _ffmpeg_running_in(folder: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", f"ffmpeg.*{folder}"], capture_output=True, check=False)
    return found.returncode == 0
