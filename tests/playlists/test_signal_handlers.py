"""What programming does when the media side signals (``playlists.signal_handlers``): a video
taken down (rejected, deleted) leaves ``/now`` and the cached guides (the schedule JSON and
XMLTV, cached 5 minutes per timeline version) at once, before any rebuild of the timeline."""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, cast
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from broadcasting.media.services import asset_reject
from broadcasting.media.storage import asset_prefix
from broadcasting.models import Asset
from playlists.models import ScheduleVersion
from playlists.selectors import guide
from tests.factories import EditorFactory, ReadyAssetFactory, ScheduledItemFactory

pytestmark = pytest.mark.django_db
SLUG = "carillon-chartres"
OnCommit = Callable[..., AbstractContextManager[Any]]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rebuilds the take-down asks for, recorded and never run: the guides must forget
    the video without them (a worker may take minutes, or the broker be down)."""
    asked: list[int] = []
    monkeypatch.setattr(
        "playlists.signal_handlers._enqueue", lambda channel_id, reason: asked.append(channel_id)
    )
    return asked


@pytest.fixture
def on_air() -> Asset:
    """A published video airing now, with a poster (XMLTV names it by its public URL)."""
    asset = cast(Asset, ReadyAssetFactory(title="Le marché couvert"))
    asset.poster = f"{asset_prefix(asset.pk)}/poster.jpg"
    asset.save(update_fields=["poster"])
    now = timezone.now()
    ScheduledItemFactory(
        asset=asset, start=now - dt.timedelta(minutes=1), end=now + dt.timedelta(minutes=5)
    )
    return asset


def _public_answers(client: Client) -> list[str]:
    paths = [
        f"/api/v1/channels/{SLUG}/now",
        f"/api/v1/channels/{SLUG}/schedule",
        "/iptv/epg.xml",
    ]
    answers = [client.get(path) for path in paths]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    return [answer.content.decode() for answer in answers]


def test_a_rejected_video_leaves_now_and_the_cached_guides_at_once(
    client: Client,
    on_air: Asset,
    rebuilds: list[int],
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    key = on_air.public_key
    assert key and all(key in answer for answer in _public_answers(client))  # now cached
    versions = ScheduleVersion.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        asset_reject(asset=on_air, editor=EditorFactory(), reason="Le son est inaudible.")
    assert rebuilds and ScheduleVersion.objects.count() == versions  # no new timeline yet
    assert not [answer for answer in _public_answers(client) if key in answer]


def test_a_deleted_video_leaves_now_and_the_cached_guides_at_once(
    client: Client,
    on_air: Asset,
    rebuilds: list[int],
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    key = on_air.public_key
    assert key and all(key in answer for answer in _public_answers(client))
    with django_capture_on_commit_callbacks(execute=True):
        on_air.delete()
    assert not [answer for answer in _public_answers(client) if key in answer]


def test_a_rejection_of_a_video_never_published_keeps_the_guides_cached(
    client: Client,
    on_air: Asset,
    rebuilds: list[int],
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    """Only a take-down of a public copy costs the guides their cache (XMLTV takes seconds to
    render on a real timeline): refusing a pending video is not one."""
    pending = ReadyAssetFactory(approval="pending", public_key=None)
    with mock.patch("broadcasting.delivery.views_iptv.guide", wraps=guide) as rendered:
        client.get("/iptv/epg.xml")
        with django_capture_on_commit_callbacks(execute=True):
            asset_reject(asset=pending, editor=EditorFactory(), reason="Hors sujet.")
        client.get("/iptv/epg.xml")
    assert rendered.call_count == 1
