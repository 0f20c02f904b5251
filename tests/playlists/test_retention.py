"""Nothing grows without end on the programming side: the as-run log is kept a year, past
scheduled items a week (the as-run log is the record of what aired), and schedule versions the
latest few per channel plus those the timeline still points at; a beat task applies it."""

import datetime as dt

import pytest
from django.conf import settings as django_settings

from config.celery_app import app as celery_app
from playlists.models import AsRunEntry, Channel, ScheduledItem, ScheduleVersion
from playlists.retention import retention_apply
from playlists.tasks import apply_retention
from tests.factories import AsRunEntryFactory, ScheduledItemFactory, ScheduleVersionFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def aired(at: dt.datetime) -> AsRunEntry:
    entry: AsRunEntry = AsRunEntryFactory.create(
        actual_start=at, actual_end=at + dt.timedelta(minutes=3)
    )
    return entry


def test_the_as_run_log_is_kept_one_year_by_default() -> None:
    expired = aired(NOW - 366 * DAY)
    kept = aired(NOW - 364 * DAY)
    report = retention_apply(now=NOW)
    assert report.as_run_entries == 1
    assert list(AsRunEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    assert expired.pk not in set(AsRunEntry.objects.values_list("pk", flat=True))


def test_past_scheduled_items_go_after_a_week_and_their_as_run_entries_stay() -> None:
    old = ScheduledItemFactory(start=NOW - 8 * DAY - dt.timedelta(minutes=5), end=NOW - 8 * DAY)
    recent = ScheduledItemFactory(start=NOW - 6 * DAY, end=NOW - 6 * DAY + dt.timedelta(minutes=5))
    future = ScheduledItemFactory(start=NOW, end=NOW + dt.timedelta(minutes=5))
    record = AsRunEntryFactory(
        scheduled_item=old, actual_start=old.start, actual_end=old.end, title="Le marché"
    )
    report = retention_apply(now=NOW)
    assert report.scheduled_items == 1
    assert set(ScheduledItem.objects.values_list("pk", flat=True)) == {recent.pk, future.pk}
    record.refresh_from_db()
    assert record.scheduled_item is None and record.title == "Le marché"


def test_the_periods_are_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_AS_RUN_RETENTION_DAYS = 30
    settings.CARILLON_SCHEDULE_RETENTION_DAYS = 2
    entry = aired(NOW - 31 * DAY)
    item = ScheduledItemFactory(start=NOW - 3 * DAY, end=NOW - 3 * DAY + dt.timedelta(minutes=1))
    retention_apply(now=NOW)
    assert not AsRunEntry.objects.filter(pk=entry.pk).exists()
    assert not ScheduledItem.objects.filter(pk=item.pk).exists()


def test_the_latest_versions_and_those_still_referenced_are_kept(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_SCHEDULE_VERSIONS_KEPT = 3
    channel = Channel.objects.get(slug="carillon-chartres")
    other = Channel.objects.create(
        name="Deux", slug="deux", number=channel.number + 1, channel_format=channel.channel_format
    )
    versions = [ScheduleVersionFactory(channel=channel, number=n) for n in range(1, 11)]
    others = [ScheduleVersionFactory(channel=other, number=n) for n in range(1, 3)]
    ScheduledItemFactory(channel=channel, version=versions[1], start=NOW, end=NOW + DAY)
    report = retention_apply(now=NOW)
    assert report.schedule_versions == 6
    numbers = set(ScheduleVersion.objects.filter(channel=channel).values_list("number", flat=True))
    assert numbers == {2, 8, 9, 10}
    assert ScheduleVersion.objects.filter(channel=other).count() == len(others)
    assert ScheduledItem.objects.filter(version=versions[1]).count() == 1


def test_retention_is_a_beat_task_of_the_default_queue() -> None:
    (entry,) = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
                if e["task"] == "playlists.tasks.apply_retention"]  # fmt: skip
    assert isinstance(entry["options"], dict) and "expires" in entry["options"]
    assert celery_app.amqp.router.route({}, entry["task"])["queue"].name == "default"
    aired(NOW - 400 * DAY)
    apply_retention.apply()
    assert not AsRunEntry.objects.exists()
