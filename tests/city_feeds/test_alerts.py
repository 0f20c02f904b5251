"""Alerts become overrides: which air (status, severity, urgency, area, expiry), where they
start (the first boundary the playout has not published), how a Cancel or an Update ends them,
the card replacing the generic clip and coming back, and the stack with a manual take-over."""

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any, cast

import pytest
from django.utils import timezone

from broadcasting.live.overrides import override_at, override_start
from broadcasting.live.planner import PUBLISH_LEAD
from broadcasting.live.playlist import media_playlist
from broadcasting.live.published import (
    MARGIN,
    first_unpublished_boundary,
    last_listed_sequence,
    last_published_sequence,
)
from broadcasting.live.store import playlist_name, write_file
from broadcasting.media.grid import grid_ceil, segment_start, sequence_at
from broadcasting.media.storage import public_storage
from broadcasting.models import Asset, ChannelFormat, Override, OverrideReason
from city_feeds.alerts import (
    ManualAlert,
    alert_card_ready,
    alert_end,
    alert_issue,
    alert_receive,
    alerts_on_air,
    alerts_tick,
)
from city_feeds.items import AlertFacts, Area, Item, ItemKind
from city_feeds.models import Alert, AlertAiring, AlertClip, AlertState, ChannelArea, FeedSource
from city_feeds.signals import alert_items_received
from playlists.models import Channel
from tests.factories import EditorFactory, ReadyAssetFactory

pytestmark = pytest.mark.django_db

CHARTRES = json.loads((Path(__file__).parent / "data" / "chartres_area.json").read_text())
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SENDER = "alertes.chartres@example.fr"
SEGMENT = dt.timedelta(milliseconds=4800)


@pytest.fixture
def channel() -> Channel:
    fmt = ChannelFormat.objects.get(is_default=True)
    made = Channel.objects.create(
        name="Chartres alertes", slug="alertes", number=931, channel_format=fmt, epoch=EPOCH
    )
    ChannelArea.objects.create(
        channel=made, geocodes=CHARTRES["geocodes"], outline=CHARTRES["outline"]
    )
    return Channel.objects.select_related("channel_format").get(pk=made.pk)


def _ready(channel: Channel, **fields: Any) -> Asset:
    return cast(
        Asset, ReadyAssetFactory(kind="card", channel_format=channel.channel_format, **fields)
    )


@pytest.fixture
def clip(channel: Channel) -> Asset:
    """The generic weather clip of the channel's format: one segment."""
    asset = _ready(channel, title="Alerte — Météo", segment_count=1)
    AlertClip.objects.create(category="Met", channel_format=channel.channel_format, asset=asset)
    return asset


def cap_item(
    identifier: str = "FR-28-0001",
    *,
    status: str = "Actual",
    msg_type: str = "Alert",
    severity: str = "Severe",
    urgency: str = "Expected",
    area: Area | None = None,
    expires: dt.datetime | None = None,
    references: tuple[str, ...] = (),
    sender: str = SENDER,
) -> Item:
    now = timezone.now()
    facts = AlertFacts(
        identifier=identifier, sender=sender, sent=now, status=status, msg_type=msg_type,
        urgency=urgency, certainty="Likely", event="Orages violents",
        instruction="Restez à l’abri.", language="fr-FR", references=references,
        areas=(area or Area(geocodes=(("INSEE", "28085"),)),),
    )  # fmt: skip
    return Item(
        kind=ItemKind.ALERT, external_id=identifier, title="Orages violents sur Chartres",
        body="Grêle et rafales à 100 km/h.", severity=severity,
        valid_until=expires or now + dt.timedelta(hours=3), alert=facts,
        extra={"category": "Met"},
    )  # fmt: skip


def publish_until(channel: Channel, sequence: int) -> None:
    """What the playout leaves in storage once it has listed ``sequence``: every rung's media
    playlist, its window ending there."""
    segment_ms = channel.channel_format.segment_ms
    first = sequence - 5
    text = media_playlist(
        first_sequence=first,
        segment_uris=[f"{n}-000000000000.ts" for n in range(first, sequence + 1)],
        epoch=channel.epoch,
        segment_ms=segment_ms,
    )
    for rung in channel.channel_format.to_spec().rungs:
        write_file(public_storage(), playlist_name(channel.slug, rung.name), text.encode())


def _seq(channel: Channel, at: dt.datetime) -> int:
    return sequence_at(at, epoch=channel.epoch, segment_ms=channel.channel_format.segment_ms)


def _at(channel: Channel, sequence: int) -> dt.datetime:
    return segment_start(
        sequence, epoch=channel.epoch, segment_ms=channel.channel_format.segment_ms
    )


def _overrides(alert: Alert) -> list[Override]:
    return list(Override.objects.filter(alert_ref__startswith=f"{alert.pk}:").order_by("start"))


# --- where it starts --------------------------------------------------------------------------


def test_the_last_listed_sequence_is_read_from_a_media_playlist() -> None:
    text = media_playlist(
        first_sequence=40, segment_uris=["a.ts", "b.ts", "c.ts"], epoch=EPOCH, segment_ms=4800
    )
    assert last_listed_sequence(text) == 42
    assert last_listed_sequence("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n") is None


def test_a_severe_alert_airs_its_generic_clip_from_the_first_unpublished_boundary(
    channel: Channel, clip: Asset
) -> None:
    """The playout has just listed the next boundary (its lead) and made the one after: the
    alert starts at the first boundary no playlist lists yet (the playout makes it again from
    the plan it reads on the override's notice), not merely at the next boundary, so its start
    and the as-run log stay true."""
    current = _seq(channel, timezone.now())
    publish_until(channel, current + 1)
    alert = alert_receive(item=cap_item(), source=None)
    assert alert.state == AlertState.ACTIVE
    (override,) = _overrides(alert)
    assert override.start == _at(channel, current + 2)
    assert (override.asset_id, override.reason, override.repeat) == (clip.pk, "alert", True)
    assert override.end is None and override.priority == 210
    assert AlertAiring.objects.get(alert=alert, channel=channel).override == override
    assert list(alerts_on_air(channel=channel)) == [alert]


def test_once_the_next_round_is_near_the_alert_starts_one_boundary_later(
    channel: Channel,
) -> None:
    """The loop lists a boundary ``PUBLISH_LEAD`` before it airs, from the plan the planner
    read on the override's notice: a change committed ``MARGIN`` before that round airs at its
    boundary; later, at the boundary after."""
    last = _seq(channel, timezone.now())
    publish_until(channel, last)
    assert last_published_sequence(channel=channel) == last
    listing = _at(channel, last + 1) - PUBLISH_LEAD
    before = listing - MARGIN - dt.timedelta(milliseconds=1)
    assert first_unpublished_boundary(channel=channel, now=before) == _at(channel, last + 1)
    late = listing - MARGIN
    assert first_unpublished_boundary(channel=channel, now=late) == _at(channel, last + 2)


def test_without_any_publication_the_alert_starts_at_the_next_boundary(
    channel: Channel, clip: Asset
) -> None:
    now = timezone.now()
    assert first_unpublished_boundary(channel=channel, now=now) == _at(
        channel, _seq(channel, now) + 1
    )
    publish_until(channel, _seq(channel, now) - 40)  # a playout stopped long ago
    alert = alert_receive(item=cap_item(), source=None, now=now)
    assert _overrides(alert)[0].start == _at(channel, _seq(channel, now) + 1)


# --- which alerts air -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Test", "Exercise", "System", "Draft"])
def test_tests_and_exercises_are_stored_but_never_air(
    channel: Channel, clip: Asset, status: str
) -> None:
    alert = alert_receive(item=cap_item(status=status, severity="Extreme"), source=None)
    assert alert.state == AlertState.IGNORED and status in alert.state_reason
    assert not Override.objects.exists()


def test_a_minor_alert_does_not_air(channel: Channel, clip: Asset) -> None:
    alert = alert_receive(item=cap_item(severity="Minor"), source=None)
    assert alert.state == AlertState.IGNORED
    assert not Override.objects.exists()


def test_an_immediate_alert_airs_even_when_only_moderate(channel: Channel, clip: Asset) -> None:
    alert = alert_receive(item=cap_item(severity="Moderate", urgency="Immediate"), source=None)
    assert alert.state == AlertState.ACTIVE and _overrides(alert)[0].priority == 200


def test_an_alert_outside_the_area_does_not_air(channel: Channel, clip: Asset) -> None:
    paris = Area(geocodes=(("INSEE", "75056"),), circles=(((48.8566, 2.3522), 10.0),))
    alert = alert_receive(item=cap_item(area=paris), source=None)
    assert alert.state == AlertState.IGNORED
    assert not Override.objects.exists()


def test_an_alert_matching_by_polygon_airs(channel: Channel, clip: Asset) -> None:
    ring = ((48.47, 1.44), (48.47, 1.54), (48.42, 1.54), (48.42, 1.44), (48.47, 1.44))
    alert = alert_receive(item=cap_item(area=Area(polygons=(ring,))), source=None)
    assert alert.state == AlertState.ACTIVE


def test_an_expired_alert_never_airs(channel: Channel, clip: Asset) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    alert = alert_receive(item=cap_item(expires=past), source=None)
    assert alert.state == AlertState.IGNORED
    assert not Override.objects.exists()


def test_an_off_air_channel_is_not_taken_over(channel: Channel, clip: Asset) -> None:
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    alert = alert_receive(item=cap_item(), source=None)
    assert alert.state == AlertState.IGNORED


def test_the_same_alert_received_again_airs_once(channel: Channel, clip: Asset) -> None:
    """A polled feed delivers the same alert at every poll."""
    first = alert_receive(item=cap_item(), source=None)
    later = timezone.now() + dt.timedelta(minutes=5)
    again = alert_receive(item=cap_item(expires=later + dt.timedelta(hours=1)), source=None)
    assert again.pk == first.pk and again.expires is not None and again.expires > later
    assert len(_overrides(first)) == 1


# --- Cancel and Update ------------------------------------------------------------------------


def test_a_cancel_ends_the_alert_at_the_first_unpublished_boundary(
    channel: Channel, clip: Asset
) -> None:
    alert = alert_receive(item=cap_item("A-1"), source=None)
    later = timezone.now()
    publish_until(channel, _seq(channel, later) + 1)
    cancel = cap_item("A-2", msg_type="Cancel", references=(f"{SENDER},A-1,2026-06-14T15:30:00",))
    received = alert_receive(item=cancel, source=None)
    assert received.state == AlertState.IGNORED  # a Cancel never airs itself
    alert.refresh_from_db()
    assert alert.state == AlertState.CANCELLED and "A-2" in alert.state_reason
    (override,) = _overrides(alert)
    assert override.end == _at(channel, _seq(channel, later) + 2)
    assert override_at(channel=channel, at=override.end) is None  # the schedule resumes


def test_a_cancel_from_another_sender_changes_nothing(channel: Channel, clip: Asset) -> None:
    alert = alert_receive(item=cap_item("A-1"), source=None)
    forged = cap_item("X-1", msg_type="Cancel", references=("A-1",), sender="someone@else")
    alert_receive(item=forged, source=None)
    alert.refresh_from_db()
    assert alert.state == AlertState.ACTIVE and _overrides(alert)[0].end is None


def test_a_test_cancel_does_not_end_an_actual_alert(channel: Channel, clip: Asset) -> None:
    alert = alert_receive(item=cap_item("A-1"), source=None)
    alert_receive(item=cap_item("T-1", status="Test", msg_type="Cancel", references=("A-1",)),
                  source=None)  # fmt: skip
    alert.refresh_from_db()
    assert alert.state == AlertState.ACTIVE


def test_an_update_replaces_the_alert(channel: Channel, clip: Asset) -> None:
    now = timezone.now()
    first = alert_receive(item=cap_item("A-1"), source=None, now=now)
    update = cap_item("A-2", msg_type="Update", severity="Extreme", references=("A-1",))
    second = alert_receive(item=update, source=None, now=now + SEGMENT)
    first.refresh_from_db()
    assert first.state == AlertState.ENDED and "A-2" in first.state_reason
    (old,) = _overrides(first)
    (new,) = _overrides(second)
    assert old.end is not None and new.start == old.end
    assert second.state == AlertState.ACTIVE and new.priority == 220
    assert override_at(channel=channel, at=new.start) == new


# --- the stack --------------------------------------------------------------------------------


def test_an_alert_outranks_a_manual_take_over_which_resumes_after_it(
    channel: Channel, clip: Asset
) -> None:
    now = timezone.now()
    manual = override_start(channel=channel, asset=_ready(channel, segment_count=4), now=now)
    alert = alert_receive(item=cap_item(), source=None, now=now + SEGMENT)
    (airing,) = _overrides(alert)
    assert override_at(channel=channel, at=airing.start) == airing
    alert_end(alert=alert, now=now + 3 * SEGMENT)
    airing.refresh_from_db()
    assert airing.end is not None
    assert override_at(channel=channel, at=airing.end) == manual


# --- the card ---------------------------------------------------------------------------------


def test_the_card_replaces_the_generic_clip_and_airs_once(channel: Channel, clip: Asset) -> None:
    now = timezone.now()
    alert = alert_receive(item=cap_item(), source=None, now=now)
    card = _ready(channel, segment_count=3)
    Alert.objects.filter(pk=alert.pk).update(card=card)
    later = now + 2 * SEGMENT
    assert alert_card_ready(alert=alert, now=later) == 1
    generic, shown = _overrides(alert)
    boundary = first_unpublished_boundary(channel=channel, now=later)
    assert generic.end == boundary == shown.start
    assert (shown.asset_id, shown.repeat, shown.end) == (card.pk, False, boundary + 3 * SEGMENT)
    assert alert_card_ready(alert=alert, now=later) == 0  # once


def test_the_card_comes_back_at_the_editors_cadence_until_the_alert_expires(
    channel: Channel, clip: Asset, settings: Any
) -> None:
    settings.CARILLON_ALERT_REPEAT_MINUTES = 15
    now = timezone.now()
    expires = now + dt.timedelta(minutes=43)
    alert = alert_receive(item=cap_item(expires=expires), source=None, now=now)
    card = _ready(channel, segment_count=2)
    Alert.objects.filter(pk=alert.pk).update(card=card)
    alert_card_ready(alert=alert, now=now)
    shown = _overrides(alert)[-1]
    assert shown.end is not None
    assert alerts_tick(now=now + dt.timedelta(minutes=5)) == 0  # not yet
    due = shown.end + dt.timedelta(minutes=15)
    assert alerts_tick(now=due - dt.timedelta(minutes=4)) == 1
    repeat = _overrides(alert)[-1]
    segment_ms = channel.channel_format.segment_ms
    assert repeat.start == grid_ceil(due, epoch=channel.epoch, segment_ms=segment_ms)
    assert (repeat.asset_id, repeat.repeat, repeat.reason) == (card.pk, False, "alert")
    assert alerts_tick(now=due - dt.timedelta(minutes=3)) == 0  # planned once
    assert repeat.end is not None
    assert alerts_tick(now=repeat.end + dt.timedelta(minutes=11)) == 1  # the next one
    last = _overrides(alert)[-1]
    assert last.start < expires and last.end is not None
    assert last.end + dt.timedelta(minutes=11) < expires
    assert alerts_tick(now=last.end + dt.timedelta(minutes=11)) == 0  # would be past expiry
    assert alerts_tick(now=expires) == 1  # ended
    alert.refresh_from_db()
    assert alert.state == AlertState.ENDED


def test_a_repeat_waits_for_the_next_programme(channel: Channel, clip: Asset) -> None:
    from tests.factories import ScheduledItemFactory

    now = timezone.now()
    alert = alert_receive(item=cap_item(), source=None, now=now)
    card = _ready(channel, segment_count=2)
    Alert.objects.filter(pk=alert.pk).update(card=card)
    alert_card_ready(alert=alert, now=now)
    shown = _overrides(alert)[-1]
    assert shown.end is not None
    due = shown.end + dt.timedelta(minutes=15)
    programme = _at(channel, _seq(channel, due) + 30)
    ScheduledItemFactory(channel=channel, start=programme, end=programme + 100 * SEGMENT)
    alerts_tick(now=due - dt.timedelta(minutes=4))
    repeat = _overrides(alert)[-1]
    assert repeat.start == programme - 2 * SEGMENT and repeat.end == programme


# --- editors' alerts and the signal -----------------------------------------------------------


def test_an_editor_issues_and_ends_a_manual_alert(channel: Channel) -> None:
    safety = _ready(channel, segment_count=1)
    AlertClip.objects.create(category="Safety", channel_format=channel.channel_format, asset=safety)
    editor = EditorFactory()
    text = ManualAlert(
        headline="Fuite de gaz rue du Bois-Merrain", instruction="Évitez le secteur."
    )
    alert = alert_issue(text=text, channels=[channel], user=editor)
    assert (alert.state, alert.issued_by, alert.status) == (AlertState.ACTIVE, editor, "Actual")
    (override,) = _overrides(alert)
    assert override.asset == safety and override.reason == OverrideReason.ALERT
    alert_end(alert=alert, user=editor)
    override.refresh_from_db()
    assert override.ended_by == editor and override.end is not None


def test_an_alert_without_a_generic_clip_waits_and_airs_when_one_is_ready(
    channel: Channel,
) -> None:
    alert = alert_receive(item=cap_item(), source=None)
    airing = AlertAiring.objects.get(alert=alert)
    assert airing.override is None and alert.state == AlertState.ACTIVE
    asset = _ready(channel, segment_count=1)
    AlertClip.objects.create(category="Met", channel_format=channel.channel_format, asset=asset)
    assert alerts_tick() == 1
    airing.refresh_from_db()
    assert airing.override is not None and airing.override.asset == asset


def test_the_ingest_signal_airs_alert_items_in_order(channel: Channel, clip: Asset) -> None:
    source = FeedSource.objects.create(name="Préfecture", slug="prefecture", standard="cap")
    items = (cap_item("A-1"), cap_item("A-2", msg_type="Cancel", references=("A-1",)))
    alert_items_received.send_robust(sender=FeedSource, source=source, items=items)
    first = Alert.objects.get(identifier="A-1")
    assert first.source == source and first.state == AlertState.CANCELLED
    assert dataclasses.asdict(items[0])["kind"] == ItemKind.ALERT


# --- the console ------------------------------------------------------------------------------


def test_the_alert_console_issues_lists_and_ends_an_alert(channel: Channel, client: Any) -> None:
    from django.contrib.auth.models import Permission

    safety = _ready(channel, segment_count=1)
    AlertClip.objects.create(category="Safety", channel_format=channel.channel_format, asset=safety)
    editor = EditorFactory()
    editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="city_feeds", codename__endswith="_alert"
        )
    )
    client.force_login(editor)
    response = client.post(
        "/admin/alerts/issue/",
        {"headline": "Fuite de gaz rue du Bois-Merrain", "instruction": "Évitez le secteur.",
         "severity": "Severe", "category": "Safety", "channels": [channel.pk]},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    alert = Alert.objects.get(headline="Fuite de gaz rue du Bois-Merrain")
    assert alert.issued_by == editor and _overrides(alert)[0].asset == safety
    page = client.get("/admin/alerts/").content.decode()
    assert "Fuite de gaz rue du Bois-Merrain" in page and safety.title in page
    assert client.post(f"/admin/alerts/{alert.pk}/end/").status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.ENDED and _overrides(alert)[0].end is not None


def test_an_editor_without_the_permission_cannot_issue_an_alert(
    channel: Channel, client: Any
) -> None:
    client.force_login(EditorFactory())
    response = client.post("/admin/alerts/issue/", {"headline": "x", "channels": [channel.pk]})
    assert response.status_code in (302, 403)
    assert not Alert.objects.exists()


# --- the clips, really encoded ----------------------------------------------------------------


@pytest.fixture
def small_format() -> ChannelFormat:
    """The 360p-only channel format of the playout's tests (quick encodes)."""
    from tests.broadcasting.live.test_playout import RUNG

    return ChannelFormat.objects.create(name="test 360p", rungs=[dataclasses.asdict(RUNG)])


@pytest.mark.slow
def test_the_generic_clip_is_made_once_in_the_channel_format(small_format: ChannelFormat) -> None:
    from city_feeds.alert_clips import alert_clip_build, alert_clip_for

    clip = alert_clip_build(category="met", channel_format=small_format)
    assert (clip.title, clip.kind, clip.approval, clip.state) == (
        "Alerte — Météo", "card", "approved", "ready",
    )  # fmt: skip
    assert clip.channel_format == small_format and clip.segment_count == 1
    assert clip.card_category == ""  # never in a card slot
    assert alert_clip_for(category="Met", channel_format_id=small_format.pk) == clip
    assert alert_clip_build(category="Met", channel_format=small_format) == clip  # once


@pytest.mark.slow
def test_the_alert_card_is_encoded_and_replaces_the_generic_clip(
    channel: Channel, clip: Asset, small_format: ChannelFormat
) -> None:
    from city_feeds.alerts import alert_card_build

    Channel.objects.filter(pk=channel.pk).update(channel_format=small_format)
    AlertClip.objects.filter(pk__gt=0).update(channel_format=small_format)
    Asset.objects.filter(pk=clip.pk).update(channel_format=small_format)
    alert = alert_receive(item=cap_item(), source=None)
    card = alert_card_build(alert_id=alert.pk)
    assert card is not None and card.state == "ready" and card.channel_format == small_format
    assert card.segment_count == 2 and card.title.startswith("Alerte — Météo : Orages")
    generic, shown = _overrides(alert)
    assert shown.asset == card and shown.start == generic.end and not shown.repeat
