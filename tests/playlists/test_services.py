"""Publishing timelines: gap-free versions that never touch the past or the item on air, the
horizon (8 days by default), the EPG API (cached per timeline version, refusing windows it
cannot serve) and the build_schedule command agreeing with the database."""

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from broadcasting.models import ApprovalState
from playlists.models import Block, Channel, ItemRole, Rotation, ScheduledItem
from playlists.selectors import guide
from playlists.services import schedule_extend, schedule_rebuild
from tests.factories import ReadyAssetFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, 0, 7, tzinfo=dt.UTC)


@pytest.fixture
def channel() -> Channel:
    channel = Channel.objects.select_related("channel_format").get(slug="carillon-chartres")
    rotation = Rotation.objects.create(name="Culture", categories=["culture"], no_repeat_hours=1)
    Block.objects.create(
        channel=channel, name="Journée", start=dt.time(0, 0), end=dt.time(0, 0), rotation=rotation
    )
    return channel


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Rendered guides are cached per timeline version: a test must not read an earlier one's
    (the tests freeze the clock, so versions of two tests may look alike)."""
    cache.clear()
    yield
    cache.clear()


def last_end(channel: Channel) -> dt.datetime:
    return ScheduledItem.objects.filter(channel=channel).latest("end").end


def assert_gap_free(items: list[ScheduledItem]) -> None:
    for before, after in zip(items, items[1:], strict=False):
        assert before.end == after.start


def test_a_build_is_gap_free_and_airs_only_approved_assets(channel: Channel) -> None:
    approved = ReadyAssetFactory.create_batch(5)
    pending = ReadyAssetFactory(approval=ApprovalState.PENDING)
    schedule_rebuild(channel=channel, now=NOW)
    items = list(ScheduledItem.objects.filter(channel=channel).order_by("start"))
    assert items[0].start <= NOW < items[0].end
    assert items[-1].end >= NOW + dt.timedelta(hours=48)
    assert_gap_free(items)
    aired = {item.asset_id for item in items if item.role == ItemRole.PROGRAMME}
    assert aired <= {asset.pk for asset in approved}
    assert pending.pk not in aired and aired


def test_a_rebuild_keeps_the_past_and_the_item_on_air(channel: Channel) -> None:
    ReadyAssetFactory.create_batch(6)
    first = schedule_rebuild(channel=channel, now=NOW)
    later = NOW + dt.timedelta(hours=3, minutes=1)
    on_air = ScheduledItem.objects.get(channel=channel, start__lte=later, end__gt=later)
    kept = list(
        ScheduledItem.objects.filter(channel=channel, end__lte=on_air.end).values_list(
            "pk", "start", "asset_id"
        )
    )
    ReadyAssetFactory.create_batch(3, category="culture")
    second = schedule_rebuild(channel=channel, now=later)
    assert second.number == first.number + 1
    assert second.window_start == on_air.end
    assert (
        list(
            ScheduledItem.objects.filter(channel=channel, end__lte=on_air.end).values_list(
                "pk", "start", "asset_id"
            )
        )
        == kept
    )
    assert_gap_free(list(ScheduledItem.objects.filter(channel=channel).order_by("start")))


def test_an_empty_library_airs_the_slate(channel: Channel) -> None:
    schedule_rebuild(channel=channel, now=NOW)
    roles = set(ScheduledItem.objects.filter(channel=channel).values_list("role", flat=True))
    assert roles == {ItemRole.SLATE}


def test_the_horizon_is_extended_without_touching_what_is_built(channel: Channel) -> None:
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=NOW, hours=24)
    before = list(ScheduledItem.objects.filter(channel=channel).values_list("pk", flat=True))
    assert schedule_extend(channel=channel, now=NOW) is not None
    items = list(ScheduledItem.objects.filter(channel=channel).order_by("start"))
    assert set(before) <= {item.pk for item in items}
    assert items[-1].end >= NOW + dt.timedelta(hours=47)
    assert_gap_free(items)
    assert schedule_extend(channel=channel, now=NOW) is None


def test_schedule_api_agrees_with_the_timeline(channel: Channel, client: Client) -> None:
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=NOW)
    response = client.get(
        "/api/v1/channels/carillon-chartres/schedule",
        {"from": "2026-12-01T12:00:00", "to": "2026-12-01T18:00:00+01:00"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["from"] == "2026-12-01T11:00:00+00:00"
    programmes = [e for e in body["entries"] if e["kind"] == "programme"]
    expected = ScheduledItem.objects.filter(
        channel=channel, role=ItemRole.PROGRAMME,
        end__gt=dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC),
        start__lt=dt.datetime(2026, 12, 1, 17, tzinfo=dt.UTC),
    ).order_by("start")  # fmt: skip
    assert [e["video"] for e in programmes] == list(
        expected.values_list("asset__public_key", flat=True)
    )
    assert programmes[0]["start_local"].endswith("+01:00")
    entries = body["entries"]
    assert all(a["stop"] == b["start"] for a, b in zip(entries, entries[1:], strict=False))


@pytest.mark.parametrize(
    ("query", "status"),
    [({"from": "demain"}, 400), ({"from": "2026-12-01T10:00", "to": "2026-12-20T10:00"}, 400)],
)
def test_schedule_api_refuses_bad_ranges(channel: Channel, client: Client, query, status) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/channels/carillon-chartres/schedule", query)
    assert response.status_code == status
    assert "error" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        {"from": "9999-12-31T23:00:00"},
        {"from": "0001-01-01T00:00:00"},
        {"from": "2026-12-01T10:00", "to": "9999-12-31T23:59:59+00:00"},
    ],
)
def test_schedule_api_refuses_the_ends_of_the_calendar(
    channel: Channel, client: Client, query: dict[str, str]
) -> None:
    response = client.get("/api/v1/channels/carillon-chartres/schedule", query)
    assert response.status_code == 400
    assert "between" in response.json()["error"]


def test_a_second_schedule_request_is_served_from_the_cache_until_a_new_version(
    channel: Channel, client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=NOW)
    url = "/api/v1/channels/carillon-chartres/schedule"
    query = {"from": "2026-12-01T12:00:00", "to": "2026-12-01T18:00:00"}
    with mock.patch("playlists.api.guide", wraps=guide) as computed:
        first = client.get(url, query)
        with django_assert_max_num_queries(2) as queries:  # the channel, its latest version
            second = client.get(url, query)
        assert computed.call_count == 1
        assert not any("playlists_scheduleditem" in q["sql"] for q in queries.captured_queries)
        assert second.status_code == 200 and second.content == first.content
        ReadyAssetFactory.create_batch(3)
        schedule_rebuild(channel=channel, now=NOW + dt.timedelta(minutes=30))
        third = client.get(url, query)
        assert computed.call_count == 2
    programmes = [e for e in third.json()["entries"] if e["kind"] == "programme"]
    expected = ScheduledItem.objects.filter(
        channel=channel, role=ItemRole.PROGRAMME,
        end__gt=dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC),
        start__lt=dt.datetime(2026, 12, 1, 17, tzinfo=dt.UTC),
    ).order_by("start")  # fmt: skip
    assert [e["start"] for e in programmes] == [item.start.isoformat() for item in expected]


def test_beat_keeps_eight_days_built(channel: Channel) -> None:
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=NOW, hours=24)
    assert schedule_extend(channel=channel, now=NOW) is not None
    assert last_end(channel) >= NOW + dt.timedelta(days=8)
    assert_gap_free(list(ScheduledItem.objects.filter(channel=channel).order_by("start")))
    assert schedule_extend(channel=channel, now=NOW + dt.timedelta(minutes=5)) is None


def test_the_horizon_is_a_setting_that_rebuilds_keep_too(channel: Channel, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_SCHEDULE_HORIZON_DAYS = 3
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=NOW)
    assert NOW + dt.timedelta(days=3) <= last_end(channel) < NOW + dt.timedelta(days=3, hours=1)
    assert schedule_extend(channel=channel, now=NOW) is None


def test_schedule_api_404_for_an_unknown_channel(client: Client) -> None:
    assert client.get("/api/v1/channels/nulle-part/schedule").status_code == 404


def test_build_schedule_command_prints_a_summary(channel: Channel) -> None:
    ReadyAssetFactory.create_batch(5)
    out = StringIO()
    call_command(
        "build_schedule",
        "--channel",
        channel.slug,
        "--start",
        NOW.isoformat(),
        "--hours",
        "6",
        stdout=out,
    )
    text = out.getvalue()
    assert "carillon-chartres: version 1" in text
    assert "programme" in text
    items = ScheduledItem.objects.filter(channel=channel)
    assert f"{items.count()} items" in text


def test_a_rule_change_rebuilds_the_channel(
    channel: Channel, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    calls = []
    monkeypatch.setattr("playlists.signal_handlers._enqueue", lambda cid, reason: calls.append(cid))
    with django_capture_on_commit_callbacks(execute=True):
        Block.objects.filter(channel=channel).first().save()  # type: ignore[union-attr]
    assert calls == [channel.pk]


def test_a_rebuild_while_the_slate_airs_starts_at_the_next_boundary(channel: Channel) -> None:
    schedule_rebuild(channel=channel, now=NOW)  # empty library: one long slate entry
    ReadyAssetFactory.create_batch(4)
    later = NOW + dt.timedelta(minutes=10, seconds=1)
    version = schedule_rebuild(channel=channel, now=later)
    assert later < version.window_start <= later + dt.timedelta(seconds=4.8)
    items = list(ScheduledItem.objects.filter(channel=channel).order_by("start"))
    assert items[0].role == ItemRole.SLATE and items[0].end == version.window_start
    assert_gap_free(items)
    assert any(item.role == ItemRole.PROGRAMME for item in items)
