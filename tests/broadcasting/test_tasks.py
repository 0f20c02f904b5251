"""The broadcasting app's periodic tasks: the sweep that publishes what a broker outage lost.

An approval (or the end of a transcode, for a video approved before) gives the video its
public key and sends the publication task after commit; when the broker is down that message
is lost and the video stays without its public copy. Beat's ``publish_missing_copies`` sends it
again. First with the real pipeline pieces: intake, transcodes of cached encodes (360p only),
the approval service with the broker down, then the task, whose publications run as a worker
runs them; then each case of a missing copy on stored files.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from kombu.exceptions import OperationalError

from broadcasting import tasks
from broadcasting.media import services
from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.services import asset_approve, asset_create_from_file
from broadcasting.media.storage import (
    asset_prefix,
    list_files,
    private_storage,
    public_storage,
    published_prefix,
)
from broadcasting.media.transcoding import transcode_job_run
from broadcasting.models import Asset, TranscodeJob
from config.celery_app import app as celery_app
from tests.broadcasting import clips
from tests.broadcasting.conftest import MakeClip
from tests.factories import AssetFactory, EditorFactory

pytestmark = pytest.mark.django_db
RUNG = next(r for r in DEFAULT_FORMAT.rungs if r.name == "360p")
TASK = "broadcasting.tasks.publish_missing_copies"
OnCommit = Callable[..., AbstractContextManager[Any]]


class DownBroker:
    """The Celery app while the broker is down: every message is refused."""

    def send_task(self, name: str, **options: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _worker_back(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The broker is back: a publication sent runs at once, as a worker runs it. The ids sent."""
    sent: list[int] = []

    def publish(*, asset_id: int) -> bool:
        sent.append(asset_id)
        return services.asset_publish_files(asset_id=asset_id)

    monkeypatch.setattr(services, "current_app", celery_app)
    monkeypatch.setattr(services, "asset_publish_enqueue", publish)
    return sent


def _imported(clip: Path) -> Asset:
    """Through intake; its transcode's message is lost too (the job row stays queued)."""
    return asset_create_from_file(path=clip, original_name=clip.name, title=clip.stem)


def _transcoded(asset: Asset, on_commit: OnCommit) -> Asset:
    """The job run as the sweeper would have it run once the broker is back."""
    job = TranscodeJob.objects.get(asset=asset)
    with on_commit(execute=True):
        assert transcode_job_run(job_id=job.pk, worker="test") == "ready"
    return Asset.objects.get(pk=asset.pk)


def _published(asset: Asset) -> dict[str, bytes]:
    """The public copy under the asset's key, by name relative to it."""
    asset.refresh_from_db()
    assert asset.public_key
    prefix = published_prefix(asset.public_key)
    return {name.removeprefix(f"{prefix}/"): _read(public_storage(), name)
            for name in list_files(storage=public_storage(), prefix=prefix)}  # fmt: skip


def _renditions(asset: Asset) -> dict[str, bytes]:
    prefix = asset_prefix(asset.pk)
    return {name.removeprefix(f"{prefix}/"): _read(private_storage(), name)
            for name in list_files(storage=private_storage(), prefix=prefix)}  # fmt: skip


def _read(storage: Any, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        data: bytes = handle.read()
        return data


def _sweep(on_commit: OnCommit) -> None:
    """Beat's task, run as a worker runs it (the publications it sends leave after commit)."""
    with on_commit(execute=True):
        tasks.publish_missing_copies.apply().get()


def test_beat_publishes_what_approvals_lost_while_the_broker_was_down(
    make_clip: MakeClip,
    cached_media_builds: None,
    small_ladder: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    monkeypatch.setattr(services, "current_app", DownBroker())
    editor, on_commit = EditorFactory(), django_capture_on_commit_callbacks
    early = _imported(make_clip(clips.mono, 1.0))
    late = _imported(make_clip(clips.four_by_three, 1.0))
    pending = _imported(make_clip(clips.landscape_1080p, 1.0))
    with on_commit(execute=True):
        asset_approve(asset=early, editor=editor)  # still transcoding: published at its end
    early, late, pending = (_transcoded(asset, on_commit) for asset in (early, late, pending))
    with on_commit(execute=True):
        asset_approve(asset=late, editor=editor)
    assert _published(early) == _published(late) == {}  # keys, and nothing public under them
    assert not list_files(storage=public_storage(), prefix="v")

    sent = _worker_back(monkeypatch)
    _sweep(on_commit)
    assert sorted(sent) == sorted([early.pk, late.pk])
    for asset in (early, late):
        copy = _published(asset)
        assert "master.m3u8" in copy and f"{RUNG.name}/seg_00000.ts" in copy
        assert copy == _renditions(asset)
    pending.refresh_from_db()
    assert pending.public_key is None
    keys = {asset.pk: asset.public_key for asset in (early, late)}
    files = sorted(list_files(storage=public_storage(), prefix="v"))

    _sweep(on_commit)  # again: nothing is missing, nothing is sent, nothing changes
    assert sorted(sent) == sorted([early.pk, late.pk])
    assert dict(Asset.objects.filter(pk__in=keys).values_list("pk", "public_key")) == keys
    assert sorted(list_files(storage=public_storage(), prefix="v")) == files


def _key(asset: Asset) -> str:
    key = Asset.objects.values_list("public_key", flat=True).get(pk=asset.pk)
    assert key
    return key


def _stored(**fields: object) -> Asset:
    """A transcoded asset (its private renditions stored)."""
    asset = cast(Asset, AssetFactory(state="ready", **fields))
    for name in ("360p/seg_00000.ts", "poster.jpg", "master.m3u8"):
        private_storage().save(f"{asset_prefix(asset.pk)}/{name}", ContentFile(name.encode()))
    return asset


def test_beat_publishes_a_copy_without_its_key_or_its_master_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: OnCommit
) -> None:
    whole = _stored(approval="approved")
    services.asset_publish_files(asset_id=whole.pk)
    keyless = _stored(approval="approved")  # e.g. approved before keys existed
    cut = _stored(approval="approved")  # a copy that stopped before its master (copied last)
    services.asset_publish_files(asset_id=cut.pk)
    cut_key = _key(cut)
    public_storage().delete(f"{published_prefix(cut_key)}/master.m3u8")
    for approval in ("pending", "rejected"):
        _stored(approval=approval)
    AssetFactory(state="transcoding", approval="approved")
    before = _published(whole)

    sent = _worker_back(monkeypatch)
    _sweep(django_capture_on_commit_callbacks)
    assert sorted(sent) == sorted([keyless.pk, cut.pk])
    assert _published(keyless) == _renditions(keyless)
    assert _published(cut) == _renditions(cut) and _key(cut) == cut_key
    assert _published(whole) == before
    assert len(list_files(storage=public_storage(), prefix="v")) == 3 * 3


def test_the_sweep_is_a_beat_task_of_the_default_queue() -> None:
    entries = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == TASK]
    assert len(entries) == 1
    options = entries[0]["options"]
    assert isinstance(options, dict) and "expires" in options  # no pile while workers are busy
    assert celery_app.amqp.router.route({}, TASK)["queue"].name == "default"
