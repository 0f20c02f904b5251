"""Originals of failed and rejected videos are deleted after a while (30 days by default); the
rows stay, with a note, so residents and editors still see what happened."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.utils import timezone

from broadcasting.media.retention import originals_prune
from broadcasting.media.storage import private_storage
from broadcasting.models import ApprovalState, Asset, JobState, ProcessingState
from broadcasting.tasks import apply_retention
from config.celery_app import app as celery_app
from tests.factories import AssetFactory, ReadyAssetFactory, TranscodeJobFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def stored(asset: Asset) -> Asset:
    private_storage().save(asset.source, ContentFile(b"original bytes"))
    return asset


def failed(*, days_ago: float, now: dt.datetime) -> Asset:
    asset = stored(AssetFactory(state=ProcessingState.FAILED, failure_code="undecodable",
                                failure_detail="moov atom not found"))  # fmt: skip
    TranscodeJobFactory(asset=asset, state=JobState.FAILED, attempts=1,
                        finished_at=now - days_ago * DAY)  # fmt: skip
    return asset


def rejected(*, days_ago: float, now: dt.datetime, **extra: object) -> Asset:
    return stored(ReadyAssetFactory(approval=ApprovalState.REJECTED, rejection_reason="Hors sujet",
                                    reviewed_at=now - days_ago * DAY, **extra))  # fmt: skip


def test_originals_of_failed_and_rejected_videos_go_after_30_days_and_the_rows_stay() -> None:
    now = timezone.now()
    old_failure, old_rejection = failed(days_ago=31, now=now), rejected(days_ago=31, now=now)
    recent_failure, recent_rejection = failed(days_ago=29, now=now), rejected(days_ago=29, now=now)
    approved = stored(ReadyAssetFactory(reviewed_at=now - 400 * DAY))
    retrying = rejected(days_ago=40, now=now, state=ProcessingState.TRANSCODING)
    TranscodeJobFactory(asset=retrying, state=JobState.RUNNING, attempts=1, heartbeat_at=now)
    names = {asset.pk: asset.source for asset in Asset.objects.all()}

    assert sorted(originals_prune(now=now)) == sorted([old_failure.pk, old_rejection.pk])
    storage = private_storage()
    for asset in (old_failure, old_rejection):
        assert not storage.exists(names[asset.pk])
        asset.refresh_from_db()
        assert asset.source == ""
        assert "Original deleted" in asset.failure_detail
    old_failure.refresh_from_db()
    assert old_failure.failure_code == "undecodable"
    assert old_failure.failure_detail.startswith("moov atom not found")
    for asset in (recent_failure, recent_rejection, approved, retrying):
        assert storage.exists(names[asset.pk]), asset
        asset.refresh_from_db()
        assert asset.source == names[asset.pk]
    assert originals_prune(now=now) == []  # nothing left to do


def test_the_period_is_a_setting(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_ORIGINALS_RETENTION_DAYS = 3
    now = timezone.now()
    asset = failed(days_ago=4, now=now)
    assert originals_prune(now=now) == [asset.pk]


def test_media_retention_is_a_beat_task_of_the_default_queue() -> None:
    (entry,) = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
                if e["task"] == "broadcasting.tasks.apply_retention"]  # fmt: skip
    assert isinstance(entry["options"], dict) and "expires" in entry["options"]
    assert celery_app.amqp.router.route({}, entry["task"])["queue"].name == "default"
    asset = failed(days_ago=60, now=timezone.now())
    apply_retention.apply()
    asset.refresh_from_db()
    assert asset.source == ""
