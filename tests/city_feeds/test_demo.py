"""The demo's city data: payloads relocated to Chartres whose times follow the clock, one source
per standard, the demo channel's area, and the replayer storing fresh items."""

import datetime as dt
import random

import pytest

from city_feeds.adapters import adapters
from city_feeds.demo import (
    DEMO_SOURCES,
    channel_area_ensure,
    demo_feeds_replay,
    demo_sources_ensure,
    payload_bytes,
    render,
)
from city_feeds.items import ParseOptions
from city_feeds.models import FeedItem, FeedSource, FeedStandard
from playlists.models import Channel

NOW = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # the night clocks go forward in Paris


def test_time_tokens_follow_the_clock_and_numbers_vary_within_their_range() -> None:
    rng = random.Random(1)
    text = render(
        "{{now}} {{now+90m}} {{now-2d}} {{today}} {{now_epoch+1h}} {{free:5-9}}", now=NOW, rng=rng
    )
    now, later, before, today, epoch, free = text.split()
    assert (now, later, before) == (
        "2026-03-29T00:30:00Z", "2026-03-29T02:00:00Z", "2026-03-27T00:30:00Z"
    )  # fmt: skip
    assert today == "2026-03-29"  # Paris's date
    assert int(epoch) == int(NOW.timestamp()) + 3600
    assert 5 <= int(free) <= 9


def test_there_is_one_demo_source_per_standard() -> None:
    # Carillon's own (the residents' posts) is no payload standard: the demo seeds a post.
    assert {demo.standard for demo in DEMO_SOURCES} == set(FeedStandard.values) - {"carillon"}


@pytest.mark.parametrize("demo", DEMO_SOURCES, ids=lambda demo: demo.slug)
def test_every_demo_payload_gives_fresh_items_in_chartres(demo) -> None:  # type: ignore[no-untyped-def]
    parse = adapters()[demo.standard]
    data = payload_bytes(demo, now=NOW, rng=random.Random(2))
    items = parse(data, ParseOptions(item_kind=demo.item_kind, field_mapping=demo.field_mapping,
                                     now=NOW))  # fmt: skip
    assert items, demo.slug
    for item in items:
        if item.location is not None:  # within a few km of the cathedral
            lat, lon = item.location
            assert abs(lat - 48.447) < 0.05 and abs(lon - 1.488) < 0.07, (demo.slug, item)
        if item.valid_until is not None:
            assert item.valid_until > NOW, (demo.slug, item)


@pytest.mark.django_db
def test_the_replay_stores_items_of_every_source_and_the_channel_serves_chartres() -> None:
    channel = Channel.objects.get(slug="carillon-chartres")
    area = channel_area_ensure(channel=channel)
    assert ["INSEE", "28085"] in area.geocodes and area.outline[0] == area.outline[-1]
    demo_sources_ensure()
    assert demo_feeds_replay(seed=3) > 0
    assert demo_sources_ensure() and FeedSource.objects.count() == len(DEMO_SOURCES)  # once
    for demo in DEMO_SOURCES:
        source = FeedSource.objects.get(slug=demo.slug)
        assert FeedItem.objects.filter(source=source).exists(), (
            demo.slug, source.last_failure_reason
        )  # fmt: skip


@pytest.mark.django_db
def test_the_demo_map_background_covers_the_centre_once() -> None:
    from PIL import Image

    from city_feeds.demo import map_background_ensure

    first = map_background_ensure()
    assert map_background_ensure().pk == first.pk
    assert first.south < 48.4479 < first.north and first.west < 1.4877 < first.east  # cathedral
    with first.image.open("rb") as handle:
        assert Image.open(handle).size == (1920, 1080)
