"""Asset services: intake before anything is stored, job rows, reviews by editors only,
and failure reasons residents can read in French and English."""

from pathlib import Path

import pytest
from django.utils import translation

from broadcasting.media.failures import failure_message
from broadcasting.media.intake import UploadRejected
from broadcasting.media.services import (
    ReviewError,
    asset_approve,
    asset_create_from_file,
    asset_reject,
)
from broadcasting.media.storage import private_storage
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
