"""The as-run log's writes (``playlists.services.as_run_*``): one entry per start on a channel
(a database constraint), an item resumed after an override logged twice, an item the playout
joined logged once, overrides by their kind, ends set from what aired."""

import datetime as dt
import importlib
from typing import cast

import pytest
from django.apps import apps as django_apps
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.urls import resolve
from wagtail.models import ReferenceIndex

from broadcasting.models import Asset, Override, OverrideReason
from playlists.models import AsRunEntry, AsRunReason, Channel, ScheduledItem
from playlists.services import (
    as_run_close_override,
    as_run_record_end,
    as_run_record_item,
    as_run_record_override,
)
from tests.factories import (
    AsRunEntryFactory,
    ReadyAssetFactory,
    ScheduledItemFactory,
    default_channel,
)

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SEGMENT = dt.timedelta(milliseconds=4800)
CONSTRAINT = "as_run_one_entry_per_start"


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
        reason=AsRunReason.AS_PLANNED, joined=True,
    )  # fmt: skip
    assert not as_run_record_item(
        channel=channel, item=item, asset=None, actual_start=aired,
        reason=AsRunReason.MISSING_ASSET,
    )  # fmt: skip
    assert not as_run_record_item(  # a playout that joins it later again: already logged
        channel=channel, item=item, asset=None, actual_start=aired + SEGMENT,
        reason=AsRunReason.MISSING_ASSET, joined=True,
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


def test_the_as_run_log_stays_out_of_wagtails_reference_index(
    channel: Channel, item: ScheduledItem
) -> None:
    """The playout writes an entry at every item: none of them is indexed as a "usage" of the
    video or the channel (the admin's usage counts), although the log has an admin screen
    (which registers its model for indexing when the admin's URLs are loaded)."""
    resolve("/admin/")  # the admin's viewsets registered, as in every web process
    assert not ReferenceIndex.model_is_indexable(AsRunEntry)
    as_run_record_item(
        channel=channel, item=item, asset=item.asset, actual_start=START,
        reason=AsRunReason.AS_PLANNED,
    )  # fmt: skip
    entry = AsRunEntry.objects.get(channel=channel)
    assert not ReferenceIndex.objects.filter(
        base_content_type=ContentType.objects.get_for_model(AsRunEntry), object_id=str(entry.pk)
    ).exists()
    assert not ReferenceIndex.get_references_to(entry.asset).exists()


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
    assert as_run_record_override(channel=channel, override=override, actual_start=START)
    assert not as_run_record_override(channel=channel, override=override, actual_start=START)
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
    as_run_record_override(channel=channel, override=override, actual_start=START)
    as_run_record_override(channel=channel, override=later, actual_start=later.start)
    as_run_record_item(  # the item resumed once the override ended
        channel=channel, item=item, asset=item.asset, actual_start=START + 3 * SEGMENT,
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


# One entry per start: the constraint, the migration that set it, and who relies on it ---------


def test_two_entries_cannot_start_at_the_same_instant_on_a_channel(channel: Channel) -> None:
    AsRunEntryFactory(channel=channel, actual_start=START, actual_end=START + SEGMENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        AsRunEntryFactory(channel=channel, actual_start=START, actual_end=START + SEGMENT)


def test_the_migration_keeps_the_first_entry_of_each_start(channel: Channel) -> None:
    migration = importlib.import_module("playlists.migrations.0003_as_run_one_entry_per_start")
    with connection.cursor() as cursor:  # as before the constraint (rolled back with the test)
        cursor.execute(f"ALTER TABLE {AsRunEntry._meta.db_table} DROP CONSTRAINT {CONSTRAINT}")
    starts = [("a", START), ("b", START), ("c", START + SEGMENT), ("d", START)]
    AsRunEntry.objects.bulk_create(
        AsRunEntry(channel=channel, title=title, role="programme", actual_start=start,
                   actual_end=start + SEGMENT)
        for title, start in starts
    )  # fmt: skip
    migration.keep_one_entry_per_start(django_apps, None)
    kept = sorted(AsRunEntry.objects.values_list("title", "actual_start"))
    assert kept == [("a", START), ("c", START + SEGMENT)]


def test_an_item_resumed_after_an_override_is_logged_at_each_start(
    channel: Channel, item: ScheduledItem
) -> None:
    override = _override(channel, reason=OverrideReason.MANUAL, start=START + 2 * SEGMENT)
    record = {"channel": channel, "item": item, "asset": item.asset, "reason": "as_planned"}
    assert as_run_record_item(actual_start=START, **record)
    assert as_run_record_override(channel=channel, override=override, actual_start=override.start)
    assert as_run_record_end(channel=channel, end=override.start, item=item) == 1
    assert as_run_record_item(actual_start=START + 4 * SEGMENT, **record)  # resumed
    assert as_run_record_end(channel=channel, end=START + 4 * SEGMENT, override=override) == 1
    assert not as_run_record_item(actual_start=START + 4 * SEGMENT, **record)  # a second playout
    rows = list(
        AsRunEntry.objects.order_by("actual_start").values_list(
            "title", "actual_start", "actual_end"
        )
    )
    assert rows == [
        ("Le marché couvert", START, START + 2 * SEGMENT),
        ("Alerte crue", START + 2 * SEGMENT, START + 4 * SEGMENT),
        ("Le marché couvert", START + 4 * SEGMENT, item.end),
    ]


def test_an_override_joined_after_its_start_is_logged_once(channel: Channel) -> None:
    override = _override(channel, reason=OverrideReason.ALERT, start=START)
    assert as_run_record_override(
        channel=channel, override=override, actual_start=START + SEGMENT, joined=True
    )
    assert not as_run_record_override(
        channel=channel, override=override, actual_start=START + 3 * SEGMENT, joined=True
    )
    assert AsRunEntry.objects.get().actual_start == START + SEGMENT


def test_an_end_that_was_already_recorded_changes_nothing(
    channel: Channel, item: ScheduledItem
) -> None:
    as_run_record_item(
        channel=channel, item=item, asset=item.asset, actual_start=START, reason="as_planned"
    )
    assert as_run_record_end(channel=channel, end=START + 3 * SEGMENT, item=item) == 1
    assert as_run_record_end(channel=channel, end=START + 3 * SEGMENT, item=item) == 0
    assert as_run_record_end(channel=channel, end=START, item=item) == 0  # nothing before it


def test_an_item_a_rebuild_replaced_while_it_aired_is_still_logged(
    channel: Channel, item: ScheduledItem
) -> None:
    """The playout airs from the plan it holds; a rebuild may delete the item's row just
    before its boundary. What aired is still logged, without the link to the row."""
    asset = item.asset
    ScheduledItem.objects.filter(pk=item.pk).delete()
    assert as_run_record_item(
        channel=channel, item=item, asset=asset, actual_start=START,
        reason=AsRunReason.AS_PLANNED,
    )  # fmt: skip
    entry = AsRunEntry.objects.get(channel=channel)
    assert (entry.scheduled_item, entry.asset, entry.title) == (None, asset, "Le marché couvert")
    assert (entry.planned_start, entry.planned_end) == (item.start, item.end)


def test_a_card_deleted_while_it_aired_is_still_logged_by_its_title(
    channel: Channel, item: ScheduledItem
) -> None:
    asset = cast(Asset, item.asset)
    Asset.objects.filter(pk=asset.pk).delete()  # its item keeps airing from the held plan
    assert as_run_record_item(
        channel=channel, item=item, asset=asset, actual_start=START,
        reason=AsRunReason.AS_PLANNED,
    )  # fmt: skip
    entry = AsRunEntry.objects.get(channel=channel)
    assert (entry.asset, entry.title) == (None, "Le marché couvert")
