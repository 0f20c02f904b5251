"""Asset services: intake before anything is stored, job rows, reviews by editors only,
and failure reasons residents can read in French and English."""

from pathlib import Path
from typing import Any, cast

import pytest
from django.core.files.base import ContentFile
from django.utils import translation

from broadcasting.media import services
from broadcasting.media import storage as media_store
from broadcasting.media.failures import failure_message
from broadcasting.media.intake import UploadRejected
from broadcasting.media.services import (
    ReviewError,
    asset_approve,
    asset_create_from_file,
    asset_reject,
)
from broadcasting.media.storage import asset_prefix, list_files, private_storage, public_storage
from broadcasting.models import ApprovalState, Asset, JobState, TranscodeJob
from tests.broadcasting import clips
from tests.factories import AssetFactory, EditorFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_upload_is_kept_private_and_gets_a_job_row(tmp_path: Path) -> None:
    clip = clips.mono(tmp_path, seconds=1.0)
    resident = UserFactory()
    asset = asset_create_from_file(
        path=clip, original_name="../../Ma vidéo.MP4", title="Fête", owner=resident
    )
    assert asset.source == f"originals/{asset.pk}/source.mp4"
    assert private_storage().exists(asset.source)
    assert asset.original_filename == "Ma vidéo.MP4"
    assert asset.demuxer == "mov"
    assert asset.approval == ApprovalState.PENDING
    assert TranscodeJob.objects.get(asset=asset).state == JobState.QUEUED


def test_a_file_that_is_not_a_video_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    with pytest.raises(UploadRejected) as refused:
        asset_create_from_file(
            path=clips.zip_archive(tmp_path), original_name="archive.mp4", title="Zip"
        )
    assert refused.value.code == "not_a_video"
    assert not Asset.objects.exists()
    assert not TranscodeJob.objects.exists()


def test_only_editors_approve_and_a_rejection_needs_a_reason() -> None:
    asset = AssetFactory()
    with pytest.raises(ReviewError):
        asset_approve(asset=asset, editor=UserFactory())
    editor = EditorFactory()
    with pytest.raises(ReviewError):
        asset_reject(asset=asset, editor=editor, reason="  ")
    asset_reject(asset=asset, editor=editor, reason="Le son est inaudible.")
    asset.refresh_from_db()
    assert asset.approval == ApprovalState.REJECTED
    assert asset.rejection_reason == "Le son est inaudible."
    asset_approve(asset=asset, editor=editor)
    asset.refresh_from_db()
    assert asset.approval == ApprovalState.APPROVED
    assert asset.rejection_reason == ""
    assert asset.reviewed_by == editor


@pytest.mark.parametrize("code", ["not_a_video", "playlist", "unreadable", "worker_lost"])
def test_failure_reasons_read_in_french_and_english(code: str) -> None:
    with translation.override("fr"):
        french = str(failure_message(code))
    with translation.override("en"):
        english = str(failure_message(code))
    assert french != english
    assert english and french


# --- Publication: approved renditions under a random key, nothing else public ----------------


class SentTasks:
    """A Celery app that records the messages it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[object]]] = []

    def send_task(self, name: str, *, args: list[object], **options: object) -> None:
        self.sent.append((name, args))


def _with_private_renditions(**fields: object) -> Asset:
    asset = cast(Asset, AssetFactory(state="ready", **fields))
    for name in ("master.m3u8", "poster.jpg", "360p/seg_00000.ts"):
        private_storage().save(f"{asset_prefix(asset.pk)}/{name}", ContentFile(name.encode()))
    return asset


def test_approving_a_ready_video_sends_its_publication_after_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    app = SentTasks()
    monkeypatch.setattr(services, "current_app", app)
    asset = _with_private_renditions()
    with django_capture_on_commit_callbacks(execute=True):
        asset_approve(asset=asset, editor=EditorFactory())
        assert app.sent == []  # nothing before the commit
    assert app.sent == [("broadcasting.tasks.publish_asset", [asset.pk])]
    asset.refresh_from_db()
    assert asset.public_key and len(asset.public_key) >= 22
    assert not list_files(storage=public_storage(), prefix="v")  # the worker copies


def test_approving_a_video_still_transcoding_publishes_nothing_yet(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    app = SentTasks()
    monkeypatch.setattr(services, "current_app", app)
    asset = AssetFactory(state="transcoding")
    with django_capture_on_commit_callbacks(execute=True):
        asset_approve(asset=asset, editor=EditorFactory())
    asset.refresh_from_db()
    assert asset.public_key is None and app.sent == []


def test_the_publication_copies_the_renditions_under_the_key() -> None:
    asset = _with_private_renditions(approval="approved")
    assert services.asset_publish_files(asset_id=asset.pk)
    asset.refresh_from_db()
    assert asset.public_key
    published = sorted(list_files(storage=public_storage(), prefix=f"v/{asset.public_key}"))
    assert published == [
        f"v/{asset.public_key}/{name}"
        for name in ("360p/seg_00000.ts", "master.m3u8", "poster.jpg")
    ]


def test_a_publication_overtaken_by_a_rejection_leaves_nothing_public(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asset = _with_private_renditions(approval="approved")
    copy = media_store.publish_renditions

    def copy_then_rejected(**kwargs: Any) -> list[str]:
        copied = copy(**kwargs)
        Asset.objects.filter(pk=asset.pk).update(approval="rejected", public_key=None)
        return copied

    monkeypatch.setattr(media_store, "publish_renditions", copy_then_rejected)
    assert not services.asset_publish_files(asset_id=asset.pk)
    assert not list_files(storage=public_storage(), prefix="v")


def test_a_rejected_or_pending_video_is_never_published() -> None:
    for approval in ("pending", "rejected"):
        asset = _with_private_renditions(approval=approval)
        assert not services.asset_publish_files(asset_id=asset.pk)
        asset.refresh_from_db()
        assert asset.public_key is None
    assert not list_files(storage=public_storage(), prefix="v")


def test_rejecting_a_published_video_removes_its_copy_before_and_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    asset = _with_private_renditions(approval="approved")
    services.asset_publish_files(asset_id=asset.pk)
    asset.refresh_from_db()
    key = asset.public_key
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        asset_reject(asset=asset, editor=EditorFactory(), reason="Hors sujet.")
        assert not list_files(storage=public_storage(), prefix=f"v/{key}")  # at once
        public_storage().save(f"v/{key}/late.ts", ContentFile(b"a late copy"))
    assert callbacks  # and again once the rejection is committed
    assert not list_files(storage=public_storage(), prefix=f"v/{key}")
    asset.refresh_from_db()
    assert asset.public_key is None
