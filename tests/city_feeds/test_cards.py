# ruff: noqa: F811 - the playout tests' fixtures ``channel`` and ``encoded`` are imported
"""Info cards: what they say (French typography), how they look (real Pillow pictures: size,
the city's colours, text inside the title-safe area), their clips (real ffmpeg and the real
transcode: whole 4.8-s segments in the channel format, on the ``cards`` queue), the throttle,
their withdrawal, and the playout airing the freshest card in its slot (the ident otherwise).
Also the TV player's ticker and weather corner through ``/api/v1/channels/<slug>/now``."""

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from django.conf import LazySettings, settings
from django.test import Client
from PIL import Image

from broadcasting.live.playout import publish_window
from broadcasting.live.store import index_storage
from broadcasting.media.grid import segment_start
from broadcasting.media.selectors import card_freshest
from broadcasting.media.services import transcode_job_enqueue, transcode_queue_of
from broadcasting.media.storage import asset_prefix, private_storage
from broadcasting.media.transcoding import transcode_job_run
from broadcasting.models import Asset, AssetKind, ChannelFormat, ProcessingState, TranscodeJob
from city_feeds.cards import content as card_text
from city_feeds.cards.content import CardContent, CardLine, card_content
from city_feeds.cards.encode import card_clip_command
from city_feeds.cards.render import CHARTRES, HEIGHT, SAFE_X, SAFE_Y, WIDTH, render_card
from city_feeds.cards.services import CardOutcome, cards_prune, cards_refresh, cards_withdraw
from city_feeds.cards.typography import NBSP, NNBSP, hour, number, quantity
from city_feeds.models import FeedItem, FeedSource, ReviewState
from playlists.models import Channel, FillerSet, ScheduledItem
from tests.broadcasting.live.test_playout import (  # noqa: F401 - fixtures
    EPOCH,
    RUNG,
    START,
    _stored_asset,
    channel,
    encoded,
)
from tests.city_feeds.feed_factories import FeedSourceFactory
from tests.factories import AssetFactory, ReadyAssetFactory

NOW = dt.datetime(2026, 3, 10, 13, 5, tzinfo=dt.UTC)  # 14 h 05 in Chartres
HOUR = dt.timedelta(hours=1)


def _row(kind: str, title: str, values: dict[str, Any] | None = None, **fields: Any) -> FeedItem:
    """An unsaved item (the builders read rows, not the database)."""
    fields.setdefault("expires_at", NOW + HOUR)
    fields.setdefault("observed_at", NOW)
    values_list = [{"name": k, "value": v, "unit": ""} for k, v in (values or {}).items()]
    return FeedItem(kind=kind, title=title, values=values_list, **fields)


def _stored(source: FeedSource, item: FeedItem, external_id: str) -> FeedItem:
    item.source = source
    item.external_id = external_id
    item.save()
    return item


def _text_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels of ``box`` are in the colours text is drawn in (white, gold, muted)."""
    region = image.crop(box).get_flattened_data()
    wanted = {CHARTRES.text, CHARTRES.accent, CHARTRES.muted}
    return sum(1 for pixel in region if pixel in wanted)


# --- Typography and content (pure) -------------------------------------------------------------


def test_french_numbers_units_and_hours() -> None:
    assert number(1234) == f"1{NNBSP}234"
    assert number(12.5, decimals=1) == "12,5"
    assert quantity(12.4, "Cel") == f"12{NBSP}°C"
    assert quantity(23, "ug/m3") == f"23{NBSP}µg/m³"
    assert hour(NOW) == f"14{NBSP}h{NBSP}05"
    assert hour(dt.datetime(2026, 7, 1, 18, 0, tzinfo=dt.UTC)) == f"20{NBSP}h"  # summer time


def test_parking_card_lists_car_parks_with_their_free_spaces() -> None:
    items = [
        _row("parking", "Hôtel de Ville", {"free_spaces": 1234, "total_spaces": 1500}),
        _row("parking", "Cathédrale", {"free_spaces": 117}),
        _row("parking", "Place 12", {"free_spaces": 1, "status": "free"}),  # a single spot
    ]
    content = card_content("parking", items, now=NOW)
    assert content is not None
    assert [line.label for line in content.lines] == ["Cathédrale", "Hôtel de Ville"]
    assert content.lines[0].text.startswith(f"Cathédrale{NBSP}: 117 ")
    assert f"1{NNBSP}234" in content.lines[1].value
    assert content.expires_at == NOW + HOUR


def test_weather_card_shows_now_and_the_next_hours() -> None:
    items = [
        _row("weather", "Chartres", {"temperature": 11.6, "weather_type": "overcast"}),
        *(
            _row("weather", "Chartres", {"temperature": 13 + n},
                 valid_from=NOW + n * HOUR, valid_until=NOW + (n + 1) * HOUR,
                 extra={"entity_type": "WeatherForecast"})
            for n in (1, 2, 3)
        ),
    ]  # fmt: skip
    content = card_content("weather", items, now=NOW)
    assert content is not None
    assert content.lines[0].value.startswith(f"12{NBSP}°C")
    assert [line.label for line in content.lines[1:]] == [
        f"15{NBSP}h{NBSP}05",
        f"16{NBSP}h{NBSP}05",
        f"17{NBSP}h{NBSP}05",
    ]
    assert content.expires_at == NOW + HOUR  # the first shown item to end


def test_city_news_shows_approved_reports_without_their_free_text_nor_pending_ones() -> None:
    approved = _row(
        "citizen_report", "Lampadaire éteint", body="Signalé par Jean Dupont, 06 12 34 56 78",
        review=ReviewState.APPROVED, extra={"address": "rue Noël Ballay", "status": "open"},
    )  # fmt: skip
    resolved = _row(
        "citizen_report", "Nid-de-poule", review=ReviewState.APPROVED, extra={"status": "closed"}
    )
    pending = _row("citizen_report", "Graffiti", review=ReviewState.PENDING)
    energy = _row("energy", "Éclairage public", {"kwh_saved": 18450})
    content = card_content("city_news", [approved, resolved, pending, energy], now=NOW)
    assert content is not None
    text = content.text
    assert "Lampadaire éteint, rue Noël Ballay" in text and "Nid-de-poule" in text
    assert "Graffiti" not in text and "Dupont" not in text and "06 12" not in text
    assert f"18{NNBSP}450{NBSP}kWh" in content.lines[0].value


def test_a_card_has_six_lines_at_most() -> None:
    items = [_row("parking", f"Parking {n}", {"free_spaces": n}) for n in range(10)]
    content = card_content("parking", items, now=NOW)
    assert content is not None and len(content.lines) == card_text.MAX_LINES


# --- Pictures (real Pillow) --------------------------------------------------------------------


def _inside_safe_area(box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = box
    return (
        SAFE_X <= left and right <= WIDTH - SAFE_X and SAFE_Y <= top and bottom <= HEIGHT - SAFE_Y
    )


def test_a_card_is_a_full_hd_picture_in_the_city_colours_with_its_text_in_the_safe_area() -> None:
    items = [_row("parking", name, {"free_spaces": 117}) for name in ("Cathédrale", "Épars")]
    content = card_content("parking", items, now=NOW)
    assert content is not None
    card = render_card(content)
    image = card.image
    assert image.size == (1920, 1080) and image.mode == "RGB"
    assert image.getpixel((8, 8)) == CHARTRES.band
    assert image.getpixel((WIDTH // 2, 205)) == CHARTRES.accent  # the gold stripe
    assert image.getpixel((WIDTH - 8, HEIGHT // 2)) == CHARTRES.background
    # title, city, two lines of label + value, the foot
    assert len(card.boxes) == 7
    for box in card.boxes:
        assert _inside_safe_area(box), box
        assert _text_pixels(image, box) > 50, box  # something is drawn there
    for first, second in zip(card.boxes, card.boxes[1:], strict=False):
        same_row = first[1] < second[3] and second[1] < first[3]
        assert not same_row or first[2] <= second[0] + 1 or second[2] <= first[0] + 1


def test_text_too_long_is_set_smaller_then_cut_never_outside_the_picture() -> None:
    long = "Parking souterrain du Cœur de Ville, entrée boulevard Chasles " * 4
    content = CardContent(
        category="parking",
        title="Parkings — " + long,
        lines=(CardLine(long, long), CardLine(long)),
        expires_at=NOW + HOUR,
    )
    card = render_card(content)
    assert len(card.boxes) == 5
    for box in card.boxes:
        assert _inside_safe_area(box), box
    line_height = card.boxes[2][3] - card.boxes[2][1]
    assert line_height >= 52 * 0.7  # still legible from the sofa (52 px type at least)


# --- Clips, the cards queue, the throttle, withdrawal (PostgreSQL, Redis, ffmpeg) ----------------


def test_card_clip_command_makes_whole_segments_of_a_still_picture() -> None:
    spec = ChannelFormat(rungs=[]).to_spec()
    command = card_clip_command(picture=Path("c.png"), output=Path("c.mp4"), spec=spec)
    assert command[command.index("-frames:v") + 1] == "240"  # two segments of 4.8 s at 25 fps
    assert "loop=loop=239:size=1" in command[command.index("-filter_complex") + 1]  # decoded once
    assert command[command.index("-t") + 1] == "9.560"  # the silence, one frame shorter
    assert "-loop" not in command and command[-1] == "c.mp4"


@pytest.mark.django_db
def test_card_transcodes_go_to_the_cards_queue_and_videos_to_the_transcode_queue() -> None:
    card = AssetFactory(kind=AssetKind.CARD)
    video = AssetFactory(kind=AssetKind.PROGRAMME)
    card_job = TranscodeJob.objects.create(asset=card)
    video_job = TranscodeJob.objects.create(asset=video)
    assert transcode_queue_of(job_id=card_job.pk) == "cards"
    assert transcode_queue_of(job_id=video_job.pk) == "transcode"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("cards", "transcode")
    assert transcode_job_enqueue(job_id=card_job.pk)
    assert broker.llen("cards") == 1 and broker.llen("transcode") == 0
    message = json.loads(broker.lindex("cards", 0) or b"{}")
    assert message["headers"]["task"] == "broadcasting.tasks.transcode_asset"
    broker.delete("cards", "transcode")


def _probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return cast(dict[str, Any], json.loads(out.stdout))


@pytest.fixture
def source() -> FeedSource:
    return cast(FeedSource, FeedSourceFactory(slug="parkings-chartres"))


@pytest.fixture
def no_throttle() -> None:
    from django.core.cache import cache

    cache.delete_many([f"carillon:cards:made:{c}" for c in card_text.KINDS])


@pytest.mark.django_db
@pytest.mark.slow
def test_a_parking_card_becomes_a_clip_of_whole_segments_in_the_channel_format(
    source: FeedSource, no_throttle: None
) -> None:
    _stored(source, _row("parking", "Cathédrale", {"free_spaces": 117}), "urn:cathedrale")
    assert cards_refresh(category="parking", now=NOW) == CardOutcome.MADE
    card = Asset.objects.get(kind=AssetKind.CARD, card_category="parking")
    assert card.approval == "approved" and card.card_expires_at == NOW + HOUR
    assert "Cathédrale" in card.description
    job = card.jobs.get()
    assert transcode_job_run(job_id=job.pk, worker="test") == "ready"
    card.refresh_from_db()
    assert card.state == ProcessingState.READY and card.segment_count == 2
    assert card_freshest(category="parking", now=NOW) == card
    top = card.renditions.get(name="1080p")
    for index in range(top.segment_count):
        facts = _probe(Path(private_storage().path(f"{top.segment_prefix}seg_{index:05d}.ts")))
        video = next(s for s in facts["streams"] if s["codec_type"] == "video")
        audio = next(s for s in facts["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1920, 1080)
        assert video["r_frame_rate"] == "25/1" and video["pix_fmt"] == "yuv420p"
        assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)
        assert float(facts["format"]["duration"]) == pytest.approx(4.8, abs=0.05)


@pytest.mark.django_db
@pytest.mark.slow
def test_a_card_is_made_at_most_once_a_minute_and_unchanged_data_make_none(
    source: FeedSource, no_throttle: None
) -> None:
    item = _stored(source, _row("parking", "Cathédrale", {"free_spaces": 117}), "urn:c")
    assert cards_refresh(category="parking", now=NOW) == CardOutcome.MADE
    item.expires_at = NOW + 2 * HOUR
    item.save()
    assert cards_refresh(category="parking", now=NOW) == CardOutcome.UNCHANGED
    assert Asset.objects.get(card_category="parking").card_expires_at == NOW + 2 * HOUR
    item.values = [{"name": "free_spaces", "value": 116, "unit": ""}]
    item.save()
    later = NOW + dt.timedelta(seconds=30)
    assert cards_refresh(category="parking", now=later) == CardOutcome.THROTTLED
    assert Asset.objects.filter(card_category="parking").count() == 1
    after_a_minute = NOW + dt.timedelta(seconds=61)
    assert cards_refresh(category="parking", now=after_a_minute) == CardOutcome.MADE
    assert Asset.objects.filter(card_category="parking").count() == 2


@pytest.mark.django_db
def test_cards_whose_data_expired_are_withdrawn_then_pruned(source: FeedSource) -> None:
    card = ReadyAssetFactory(
        kind=AssetKind.CARD, card_category="parking", card_expires_at=NOW + HOUR,
        ready_at=NOW - HOUR,
    )  # fmt: skip
    assert card_freshest(category="parking", now=NOW) == card
    assert card_freshest(category="parking", now=NOW + 2 * HOUR) is None  # stale by itself
    # Its items are gone (deleted, or no longer approved): nothing fresh to say.
    assert cards_refresh(category="parking", now=NOW) == CardOutcome.WITHDRAWN
    assert card_freshest(category="parking", now=NOW) is None
    assert cards_prune(now=NOW + dt.timedelta(minutes=5)) == 0  # may still be in a plan
    assert cards_prune(now=NOW + dt.timedelta(minutes=20)) == 1
    assert not Asset.objects.filter(pk=card.pk).exists()
    assert cards_withdraw(category="parking", now=NOW) == 0


# --- The playout airs the freshest card in its slot --------------------------------------------


def _card_slot(channel: Channel, category: str) -> int:
    """The 4:3 item of the channel made a card slot of ``category``; its first sequence."""
    ident = Asset.objects.get(title="loud", channel_format=channel.channel_format)
    fillers = FillerSet.objects.create(name="Habillage")
    fillers.idents.add(ident)
    fillers.save()  # a cluster's relations are stored on save
    channel.default_fillers = fillers
    channel.save()
    item = ScheduledItem.objects.get(channel=channel, asset__title="four_by_three")
    ScheduledItem.objects.filter(pk=item.pk).update(
        kind="card_slot", role="card", asset=None, card_category=category
    )
    return START + 2


def _aired_from(channel: Channel, sequence: int) -> str:
    """What the playout made segment ``sequence`` from, publishing a segment before it (so the
    segment is ahead of the air and made again when what it should air changes)."""
    channel = Channel.objects.select_related("channel_format", "slate").get(pk=channel.pk)
    before = segment_start(sequence - 1, epoch=EPOCH, segment_ms=4800)
    report = publish_window(channel=channel, now=before)
    assert sequence not in report.slated
    index = json.loads(index_storage().open(f"live/{channel.slug}/{RUNG.name}/index.json").read())
    return cast(str, index[str(sequence)]["source"])


@pytest.mark.django_db
@pytest.mark.slow
def test_a_fresh_card_airs_in_its_slot_a_stale_one_does_not_and_the_ident_airs_then(
    channel: Channel,
    encoded: dict[str, Path],
    settings: LazySettings,
) -> None:
    sequence = _card_slot(channel, "parking")
    at = segment_start(sequence, epoch=EPOCH, segment_ms=4800)
    card = _stored_asset(encoded["landscape"], channel.channel_format, "Parkings")
    Asset.objects.filter(pk=card.pk).update(
        kind=AssetKind.CARD, card_category="parking", card_expires_at=at + HOUR, ready_at=at
    )
    other = _stored_asset(encoded["landscape"], channel.channel_format, "Météo")
    Asset.objects.filter(pk=other.pk).update(
        kind=AssetKind.CARD, card_category="weather", card_expires_at=at + HOUR, ready_at=at
    )
    assert _aired_from(channel, sequence).startswith(f"{asset_prefix(card.pk)}/")
    Asset.objects.filter(pk=card.pk).update(card_expires_at=at - dt.timedelta(seconds=1))
    ident = Asset.objects.get(title="loud", channel_format=channel.channel_format)
    assert _aired_from(channel, sequence).startswith(f"{asset_prefix(ident.pk)}/")


# --- Ticker and weather corner in /now ---------------------------------------------------------


@pytest.mark.django_db
def test_now_shows_fresh_weather_and_a_ticker_of_fresh_items_and_approved_reports_only(
    source: FeedSource,
) -> None:
    from django.utils import timezone

    now = timezone.now()
    channel = Channel.objects.create(
        name="Carillon Chartres", slug="carillon-cartes", number=981, is_active=True,
        channel_format=ChannelFormat.objects.get(is_default=True),
    )  # fmt: skip
    weather = _row("weather", "Chartres", {"temperature": 11.6, "weather_type": "overcast"})
    _stored(source, weather, "urn:weather")
    old = _row("weather", "Chartres (hier)", {"temperature": 3}, expires_at=now - HOUR)
    _stored(source, old, "urn:weather-old")
    _stored(
        source, _row("parking", "Cathédrale", {"free_spaces": 117}, expires_at=now + HOUR), "urn:p"
    )
    _stored(source, _row("parking", "Épars", {"free_spaces": 5}, expires_at=now - HOUR), "urn:e")
    report = _row(
        "citizen_report", "Lampadaire éteint", body="Jean Dupont jean@example.org",
        review=ReviewState.APPROVED, expires_at=now + HOUR,
    )  # fmt: skip
    _stored(source, report, "r1")
    pending = _row(
        "citizen_report", "Tag injurieux", review=ReviewState.PENDING, expires_at=now + HOUR
    )
    _stored(source, pending, "r2")
    FeedItem.objects.update(observed_at=now)
    FeedItem.objects.filter(external_id="urn:weather").update(expires_at=now + HOUR)

    body = Client().get(f"/api/v1/channels/{channel.slug}/now").json()
    assert body["weather"]["temperature"] == 11.6 and body["weather"]["summary"]
    ticker = " | ".join(body["ticker"])
    assert "Cathédrale" in ticker and "117" in ticker and "Lampadaire éteint" in ticker
    assert "Épars" not in ticker and "hier" not in ticker and "Tag injurieux" not in ticker
    assert "Dupont" not in ticker and "@" not in ticker

    FeedItem.objects.filter(external_id="urn:weather").update(
        expires_at=now - dt.timedelta(minutes=1)
    )
    assert Client().get(f"/api/v1/channels/{channel.slug}/now").json()["weather"] is None
