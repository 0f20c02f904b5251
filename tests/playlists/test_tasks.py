"""The programming app's tasks: the rebuild that "rebuild now" sends to a worker."""

import datetime as dt
from typing import Any

import pytest
from kombu.exceptions import OperationalError

from playlists import services
from playlists.models import Block, Channel, Rotation, ScheduleVersion
from playlists.services import schedule_rebuild_enqueue
from playlists.tasks import rebuild_channel_schedule
from tests.factories import ProgrammingEditorFactory, ReadyAssetFactory

pytestmark = pytest.mark.django_db
REASON = "rebuild now (week grid)"


@pytest.fixture
def channel(settings: Any) -> Channel:
    """The demo channel with a day-long block of three videos, built two days ahead."""
    settings.CARILLON_SCHEDULE_HORIZON_DAYS = 2
    channel = Channel.objects.select_related("channel_format").get(slug="carillon-chartres")
    ReadyAssetFactory.create_batch(3)
    Block.objects.create(
        channel=channel,
        name="Journée",
        start=dt.time(0),
        end=dt.time(0),
        rotation=Rotation.objects.create(name="Tout"),
    )
    return channel


def test_the_rebuild_task_builds_the_horizon_in_the_editors_name(channel: Channel) -> None:
    editor = ProgrammingEditorFactory()
    rebuild_channel_schedule.apply(args=[channel.pk, REASON], kwargs={"user_id": editor.pk}).get()
    version = channel.versions.get()
    assert (version.built_by, version.reason) == (editor, REASON)
    assert version.window_end - version.window_start >= dt.timedelta(hours=47)


def test_the_rebuild_task_outlives_its_editor(channel: Channel) -> None:
    rebuild_channel_schedule.apply(args=[channel.pk, REASON], kwargs={"user_id": 10**9}).get()
    assert channel.versions.get().built_by is None  # the editor was deleted meanwhile


def test_only_an_editor_rebuilds_a_channel_off_air(channel: Channel) -> None:
    """A change of rules rebuilds the channels on air; an editor may prepare one before."""
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    rebuild_channel_schedule.apply(args=[channel.pk, "Block changed"]).get()
    assert not channel.versions.exists()
    editor = ProgrammingEditorFactory()
    rebuild_channel_schedule.apply(args=[channel.pk, REASON], kwargs={"user_id": editor.pk}).get()
    assert channel.versions.get().built_by == editor


def test_a_rebuild_that_the_broker_refuses_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class DownBroker:
        def send_task(self, *args: object, **kwargs: object) -> None:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(services, "current_app", DownBroker())
    assert not schedule_rebuild_enqueue(channel_id=1, reason=REASON, user_id=None)
    assert "not enqueued" in caplog.text
    assert not ScheduleVersion.objects.exists()
