"""Programming warnings: each problem an editor must see is found, and a sound channel has none."""

import datetime as dt
from typing import cast

import pytest

from broadcasting.models import ApprovalState, Asset, AssetKind
from playlists.models import Block, Channel, Event, EventItem, Playlist, PlaylistItem, Rotation
from playlists.warnings import (
    Level,
    Occurrence,
    block_length,
    local_starts,
    overlapping_pairs,
    programming_warnings,
)
from tests.factories import ReadyAssetFactory

NOW = dt.datetime(2026, 10, 20, 10, 0, tzinfo=dt.UTC)
UTC = dt.UTC


def wall(*parts: int) -> dt.datetime:
    """A naive local wall time, as RRULEs are expanded."""
    return dt.datetime(*parts)  # noqa: DTZ001 - naive on purpose


def codes(channel: Channel) -> list[str]:
    return [warning.code for warning in programming_warnings(channel=channel, now=NOW)]


# Pure parts ------------------------------------------------------------------------------------


def test_rrule_expands_in_local_time_between_bounds() -> None:
    starts = local_starts(
        wall(2026, 10, 3, 20, 0),
        "FREQ=WEEKLY;BYDAY=SA",
        low=wall(2026, 10, 20),
        high=wall(2026, 11, 3),
    )
    assert starts == [wall(2026, 10, 24, 20, 0), wall(2026, 10, 31, 20, 0)]


def test_a_one_off_event_is_kept_only_inside_the_bounds() -> None:
    start = wall(2026, 10, 25, 20, 0)
    assert local_starts(start, "", low=start, high=start) == [start]
    assert local_starts(start, "", low=start + dt.timedelta(seconds=1), high=start.max) == []


def occurrence(event_id: int, start: dt.datetime, minutes: int) -> Occurrence:
    return Occurrence(event_id, f"e{event_id}", start, start + dt.timedelta(minutes=minutes))


def test_overlaps_are_reported_once_per_pair_and_touching_is_not_an_overlap() -> None:
    at = dt.datetime(2026, 10, 25, 19, 0, tzinfo=UTC)
    first = occurrence(1, at, 30)
    touching = occurrence(2, at + dt.timedelta(minutes=30), 30)
    overlapping = occurrence(3, at + dt.timedelta(minutes=10), 5)
    again = occurrence(3, at + dt.timedelta(days=1), 5)
    later_first = occurrence(1, at + dt.timedelta(days=1), 30)
    pairs = overlapping_pairs([touching, overlapping, first, again, later_first])
    assert [(a.event_id, b.event_id) for a, b in pairs] == [(1, 3)]


def test_block_length_crosses_midnight_and_a_whole_day_is_24_hours() -> None:
    assert block_length(Block(start=dt.time(22), end=dt.time(2))) == dt.timedelta(hours=4)
    assert block_length(Block(start=dt.time(0), end=dt.time(0))) == dt.timedelta(days=1)
    assert block_length(Block(start=dt.time(10), end=dt.time(10, 5))) == dt.timedelta(minutes=5)


# Against the database --------------------------------------------------------------------------


@pytest.fixture
def channel() -> Channel:
    channel = Channel.objects.select_related("channel_format").get(slug="carillon-chartres")
    channel.slate = cast(Asset, ReadyAssetFactory(kind=AssetKind.SLATE, segment_count=2))
    channel.save()
    return channel


def rotation_block(channel: Channel, **rotation: object) -> Block:
    return Block.objects.create(
        channel=channel,
        name="Journée",
        start=dt.time(6),
        end=dt.time(23),
        rotation=Rotation.objects.create(name="Culture", **rotation),
    )


def event(
    channel: Channel, title: str, day: dt.date, at: dt.time, segments: int, rrule: str = ""
) -> Event:
    created = Event.objects.create(
        channel=channel, title=title, start_date=day, start_time=at, rrule=rrule
    )
    EventItem.objects.create(event=created, asset=ReadyAssetFactory(segment_count=segments))
    return created


@pytest.mark.django_db
def test_a_sound_channel_has_no_warning(channel: Channel) -> None:
    ReadyAssetFactory(category="culture", segment_count=10)
    rotation_block(channel, categories=["culture"])
    event(channel, "Conseil municipal", dt.date(2026, 10, 25), dt.time(20), segments=375)
    assert codes(channel) == []


@pytest.mark.django_db
def test_a_channel_without_a_usable_slate_is_warned(channel: Channel) -> None:
    ReadyAssetFactory(category="culture", segment_count=10)
    rotation_block(channel, categories=["culture"])
    channel.slate.approval = ApprovalState.PENDING
    channel.slate.save()
    assert codes(channel) == ["no_slate"]
    channel.slate = None
    channel.save()
    assert codes(channel) == ["no_slate"]


@pytest.mark.django_db
def test_overlapping_events_on_the_autumn_change_day_are_found(channel: Channel) -> None:
    # 30 min from 20:00 local on the 25-hour day, and a weekly Sunday event at 20:15.
    event(channel, "Conseil", dt.date(2026, 10, 25), dt.time(20), segments=375)
    event(
        channel,
        "Chorale",
        dt.date(2026, 10, 4),
        dt.time(20, 15),
        segments=10,
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    event(channel, "Après", dt.date(2026, 10, 25), dt.time(20, 30), segments=10)  # touches only
    warnings = programming_warnings(channel=channel, now=NOW)
    assert [w.code for w in warnings] == ["events_overlap"]
    assert warnings[0].level == Level.WARNING
    assert "Conseil" in str(warnings[0].message) and "Chorale" in str(warnings[0].message)


@pytest.mark.django_db
def test_overlaps_beyond_14_days_or_in_the_past_are_ignored(channel: Channel) -> None:
    for title in ("Un", "Deux"):
        event(channel, title, dt.date(2026, 11, 5), dt.time(20), segments=10)  # 16 days ahead
        event(channel, title, dt.date(2026, 10, 19), dt.time(20), segments=10)  # yesterday
    assert codes(channel) == []


@pytest.mark.django_db
def test_an_event_with_nothing_to_air_is_an_error(channel: Channel) -> None:
    empty = Event.objects.create(
        channel=channel, title="Vide", start_date=dt.date(2026, 10, 25), start_time=dt.time(20)
    )
    EventItem.objects.create(event=empty, asset=ReadyAssetFactory(approval=ApprovalState.REJECTED))
    assert codes(channel) == ["empty_event"]


@pytest.mark.django_db
def test_a_rotation_without_matching_ready_approved_video_is_an_empty_pool(
    channel: Channel,
) -> None:
    ReadyAssetFactory(category="culture", segment_count=10)
    ReadyAssetFactory(category="sport", segment_count=10, approval=ApprovalState.PENDING)
    ReadyAssetFactory(category="sport", segment_count=10, origin="city")
    rotation_block(channel, categories=["sport"], origins=["resident"])
    warnings = programming_warnings(channel=channel, now=NOW)
    assert [(w.code, w.level) for w in warnings] == [("empty_rotation", Level.ERROR)]
    assert isinstance(warnings[0].subject, Rotation)


@pytest.mark.django_db
def test_a_category_weighted_zero_does_not_fill_a_pool(channel: Channel) -> None:
    ReadyAssetFactory(category="sport", segment_count=10)
    rotation_block(channel, categories=["sport"], weights={"sport": 0})
    assert codes(channel) == ["empty_rotation"]


@pytest.mark.django_db
def test_a_playlist_with_no_schedulable_video_is_an_error(channel: Channel) -> None:
    playlist = Playlist.objects.create(name="Archives")
    PlaylistItem.objects.create(
        playlist=playlist, asset=ReadyAssetFactory(approval=ApprovalState.PENDING)
    )
    Block.objects.create(
        channel=channel, name="Soir", start=dt.time(20), end=dt.time(22), playlist=playlist
    )
    assert codes(channel) == ["empty_playlist"]


@pytest.mark.django_db
def test_a_block_shorter_than_its_shortest_video_is_warned(channel: Channel) -> None:
    ReadyAssetFactory(category="culture", segment_count=100)  # 480 s = 8 min
    rotation = Rotation.objects.create(name="Culture", categories=["culture"])
    Block.objects.create(
        channel=channel, name="Court", start=dt.time(10), end=dt.time(10, 5), rotation=rotation
    )
    Block.objects.create(
        channel=channel, name="Long", start=dt.time(11), end=dt.time(12), rotation=rotation
    )
    warnings = programming_warnings(channel=channel, now=NOW)
    assert [w.code for w in warnings] == ["block_too_short"]
    assert warnings[0].subject.name == "Court"


@pytest.mark.django_db
def test_a_block_with_neither_rotation_nor_playlist_is_an_error(channel: Channel) -> None:
    Block.objects.create(channel=channel, name="Rien", start=dt.time(1), end=dt.time(2))
    assert codes(channel) == ["block_no_content"]


@pytest.mark.django_db
def test_errors_come_before_warnings(channel: Channel) -> None:
    channel.slate = None
    channel.save()
    Block.objects.create(channel=channel, name="Rien", start=dt.time(1), end=dt.time(2))
    assert codes(channel) == ["block_no_content", "no_slate"]
