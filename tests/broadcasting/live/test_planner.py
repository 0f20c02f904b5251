"""The planner thread's work, step by step: plans read before each boundary, kept when the
database fails (with a growing delay before the next attempt), as-run records written once and
in order, and a record the database refuses dropped instead of blocking the log for ever."""

import datetime as dt
from typing import cast

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from broadcasting.live import planner as planner_module
from broadcasting.live.as_run import AsRunRecord
from broadcasting.live.planner import RETRY_FIRST, RETRY_MAX, Planner
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.models import Override
from playlists.models import AsRunEntry, Channel, ScheduledItem
from tests.factories import ReadyAssetFactory, ScheduledItemFactory, default_channel

pytestmark = pytest.mark.django_db
LEAD = dt.timedelta(seconds=1)


@pytest.fixture
def channel() -> Channel:
    return cast(Channel, default_channel())


def test_plans_are_read_for_every_channel_on_air(channel: Channel) -> None:
    planner = Planner(lead=LEAD, window=6)
    assert planner.step() >= 0
    assert [c.pk for c in planner.channels] == [channel.pk]
    plan = planner.plan(channel.pk)
    assert plan is not None and plan.end > timezone.now() + dt.timedelta(minutes=9)


def test_the_plans_held_stay_while_the_database_fails(
    channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    planner = Planner(lead=LEAD, window=6)
    planner.step()
    held = planner.plan(channel.pk)

    def gone(**kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(planner_module, "plan_resolve", gone)
    delays = []
    for _ in range(6):
        planner.refresh_soon()
        planner._retry_at = 0.0  # no waiting in the test
        delays.append(planner.step())
    assert planner.plan(channel.pk) is held
    assert delays == [min(RETRY_MAX, RETRY_FIRST * 2**n) for n in range(6)]
    monkeypatch.undo()
    planner._retry_at = 0.0
    planner.refresh_soon()
    planner.step()
    assert planner.plan(channel.pk) is not held and planner._failures == 0


def test_records_are_written_once_and_a_refused_one_is_dropped(channel: Channel) -> None:
    now = timezone.now().replace(microsecond=0)
    asset = ReadyAssetFactory(title="Le marché", segment_count=4)
    item = cast(
        ScheduledItem,
        ScheduledItemFactory(
            channel=channel, asset=asset, start=now, end=now + dt.timedelta(seconds=19.2)
        ),
    )
    closed = Channel.objects.create(
        name="Fermée", slug="fermee", number=99, channel_format=channel.channel_format,
        epoch=channel.epoch,
    )  # fmt: skip
    elsewhere = cast(
        ScheduledItem,
        ScheduledItemFactory(channel=closed, start=now - dt.timedelta(minutes=5), end=now),
    )
    Channel.objects.filter(pk=closed.pk).delete()  # deleted while its record waited
    with connection.cursor() as cursor:  # as on commit, inside the test's transaction
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    planner = Planner(lead=LEAD, window=6)
    start = AsRunRecord(channel, now, item=item, asset=item.asset)
    refused = AsRunRecord(closed, now - dt.timedelta(minutes=5), item=elsewhere, asset=None)
    planner.record([refused, start, start])
    planner.step()
    assert planner.pending == 0
    assert list(AsRunEntry.objects.values_list("title", "actual_start")) == [("Le marché", now)]


def test_a_notice_has_the_channel_plan_read_at_once(channel: Channel) -> None:
    """Issue 12: an override started (an alert) must not wait for the planner's next reading,
    ``PLAN_LEAD`` before the next round: its notice has the plan read at the next step."""
    planner = Planner(lead=LEAD, window=6)
    planner.step()
    assert planner.plan(channel.pk) is not None
    clip = ReadyAssetFactory(title="Alerte", segment_count=2)
    boundary = segment_start(
        sequence_at(timezone.now(), epoch=channel.epoch, segment_ms=4800) + 3,
        epoch=channel.epoch,
        segment_ms=4800,
    )
    override = Override.objects.create(channel=channel, asset=clip, start=boundary, reason="alert")
    planner.overrides_changed(channel.pk)
    planner.step()
    plan = planner.plan(channel.pk)
    assert plan is not None and [o.pk for o in plan.overrides] == [override.pk]
    Override.objects.filter(pk=override.pk).delete()
    planner.overrides_changed(None)  # every channel's (notices missed while unsubscribed)
    planner.step()
    plan = planner.plan(channel.pk)
    assert plan is not None and plan.overrides == ()
