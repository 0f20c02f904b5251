"""The as-run log's writes (``playlists.services.as_run_*``): once per aired item, once per
override, the override's actual end set when it stops."""

import datetime as dt
from typing import cast

import pytest

from broadcasting.models import Asset, Override, OverrideReason
from playlists.models import AsRunEntry, AsRunReason, Channel, ScheduledItem
from playlists.services import (
    as_run_close_override,
    as_run_record_item,
    as_run_record_override,
)
from tests.factories import ReadyAssetFactory, ScheduledItemFactory, default_channel

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SEGMENT = dt.timedelta(milliseconds=4800)


@pytest.fixture
def channel() -> Channel:
    return cast(Channel, default_channel())


@pytest.fixture
def item(channel: Channel) -> ScheduledItem:
    asset = ReadyAssetFactory(title="Le marché couvert", segment_count=10)
    return cast(
        ScheduledItem,
        ScheduledItemFactory(channel=channel, asset=asset, start=START, end=START + 10 * SEGMENT),
    )


def _override(channel: Channel, *, reason: str, start: dt.datetime) -> Override:
    clip = cast(Asset, ReadyAssetFactory(title="Alerte crue", segment_count=2))
    return Override.objects.create(
        channel=channel, asset=clip, start=start, reason=reason, note="Eure en crue"
    )


def test_an_item_is_logged_once_with_what_really_aired(
    channel: Channel, item: ScheduledItem
) -> None:
    aired = START + 2 * SEGMENT  # joined late
    assert as_run_record_item(
        channel=channel, item=item, asset=item.asset, actual_start=aired,
        reason=AsRunReason.AS_PLANNED,
    )  # fmt: skip
    assert not as_run_record_item(
        channel=channel, item=item, asset=None, actual_start=aired + SEGMENT,
        reason=AsRunReason.MISSING_ASSET,
    )  # fmt: skip
    entry = AsRunEntry.objects.get(channel=channel)
    assert (entry.scheduled_item, entry.asset, entry.title) == (
        item,
        item.asset,
        "Le marché couvert",
    )
    assert (entry.planned_start, entry.planned_end) == (item.start, item.end)
    assert (entry.actual_start, entry.actual_end) == (aired, item.end)
    assert (entry.role, entry.reason) == ("programme", AsRunReason.AS_PLANNED)


def test_an_item_without_an_asset_is_named_by_its_role(
    channel: Channel, item: ScheduledItem
) -> None:
    as_run_record_item(
        channel=channel, item=item, asset=None, actual_start=START, reason=AsRunReason.GAP
    )
    entry = AsRunEntry.objects.get(channel=channel)
    assert (entry.title, entry.asset, entry.reason) == ("programme", None, AsRunReason.GAP)


@pytest.mark.parametrize(
    ("reason", "logged"),
    [(OverrideReason.MANUAL, AsRunReason.OVERRIDE), (OverrideReason.ALERT, AsRunReason.ALERT)],
)
def test_an_override_is_logged_once_by_its_kind(
    channel: Channel, reason: OverrideReason, logged: AsRunReason
) -> None:
    override = _override(channel, reason=reason, start=START)
    assert as_run_record_override(channel=channel, override=override)
    assert not as_run_record_override(channel=channel, override=override)
    entry = AsRunEntry.objects.get(channel=channel)
    assert (entry.asset, entry.title, entry.role) == (override.asset, "Alerte crue", "interstitial")
    assert (entry.reason, entry.note, entry.scheduled_item) == (logged, "Eure en crue", None)
    assert entry.actual_start == entry.planned_start == entry.actual_end == START
    assert entry.planned_end is None  # open-ended


def test_closing_an_override_sets_the_end_of_its_own_entry_only(
    channel: Channel, item: ScheduledItem
) -> None:
    override = _override(channel, reason=OverrideReason.MANUAL, start=START)
    later = Override.objects.create(
        channel=channel, asset=override.asset, start=START + 5 * SEGMENT, reason="manual"
    )
    as_run_record_override(channel=channel, override=override)
    as_run_record_override(channel=channel, override=later)
    as_run_record_item(
        channel=channel, item=item, asset=item.asset, actual_start=START,
        reason=AsRunReason.AS_PLANNED,
    )  # fmt: skip
    end = START + 3 * SEGMENT
    assert as_run_close_override(override=override, end=end) == 1
    ends = dict(
        AsRunEntry.objects.values_list("actual_start", "actual_end").filter(asset=override.asset)
    )
    assert ends == {START: end, later.start: later.start}
    assert AsRunEntry.objects.get(scheduled_item=item).actual_end == item.end


def test_closing_an_override_that_never_aired_changes_nothing(channel: Channel) -> None:
    override = _override(channel, reason=OverrideReason.ALERT, start=START)
    assert as_run_close_override(override=override, end=START + SEGMENT) == 0
    assert not AsRunEntry.objects.exists()
