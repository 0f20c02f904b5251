"""The map card: car parks, disruptions and open citizen reports drawn by their coordinates over
the editors' background map (real Pillow pictures, Web Mercator placement), and its refresh
through the services (PostgreSQL, the private storage, real ffmpeg)."""

import datetime as dt
import io
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image

from broadcasting.models import Asset, AssetKind
from city_feeds.cards.content import MAP
from city_feeds.cards.map import (
    DISRUPTION_COLOUR,
    PARKING_COLOUR,
    REPORT_COLOUR,
    BoundingBox,
    MapPoint,
    map_content,
    map_points,
    mercator_y,
    project,
    render_map,
)
from city_feeds.cards.render import HEIGHT, SAFE_X, SAFE_Y, WIDTH
from city_feeds.cards.services import CardOutcome, cards_refresh
from city_feeds.models import FeedItem, FeedSource, MapBackground, ReviewState
from tests.city_feeds.feed_factories import FeedSourceFactory

NOW = dt.datetime(2026, 3, 10, 13, 5, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
# Chartres' centre: the cathedral at (48.4476, 1.4881)
BOX = BoundingBox(south=48.4300, west=1.4600, north=48.4650, east=1.5150)
GROUND = (226, 222, 210)  # the background's colour


def _background(width: int = 1600, height: int = 1000) -> Image.Image:
    return Image.new("RGB", (width, height), GROUND)


def _row(kind: str, title: str, lat: float, lon: float, **fields: Any) -> FeedItem:
    values = fields.pop("values", {})
    fields.setdefault("expires_at", NOW + HOUR)
    fields.setdefault("observed_at", NOW)
    rows = [{"name": k, "value": v, "unit": ""} for k, v in values.items()]
    return FeedItem(kind=kind, title=title, latitude=lat, longitude=lon, values=rows, **fields)


def test_a_box_corners_fall_on_the_picture_corners_and_latitudes_are_projected() -> None:
    assert project(BOX.north, BOX.west, box=BOX, width=1600, height=1000) == (0, 0)
    x, y = project(BOX.south, BOX.east, box=BOX, width=1600, height=1000)
    assert (round(x), round(y)) == (1600, 1000)
    middle = (BOX.north + BOX.south) / 2
    _, y_middle = project(middle, BOX.west, box=BOX, width=1600, height=1000)
    expected = (mercator_y(BOX.north) - mercator_y(middle)) / (
        mercator_y(BOX.north) - mercator_y(BOX.south)
    )
    assert y_middle == pytest.approx(expected * 1000)
    assert y_middle != pytest.approx(500, abs=0.01)  # Mercator, not a linear stretch


def test_a_box_must_have_its_edges_in_order() -> None:
    with pytest.raises(ValueError, match="south < north"):
        BoundingBox(south=48.5, west=1.46, north=48.4, east=1.5)


def test_markers_are_drawn_at_their_coordinates_and_only_inside_the_box() -> None:
    cathedral = MapPoint("parking", 48.4476, 1.4881, "117")
    works = MapPoint("disruption", 48.4400, 1.5000)
    report = MapPoint("report", 48.4550, 1.4700)
    outside = MapPoint("parking", 48.6000, 1.6000, "9")  # Maintenon-way: off the map
    content = map_content(
        [_row("parking", "Cathédrale", 48.4476, 1.4881, values={"free_spaces": 117})], now=NOW
    )
    assert content is not None
    card = render_map(
        background=_background(),
        box=BOX,
        points=[cathedral, works, report, outside],
        content=content,
    )
    image = card.image
    assert image.size == (WIDTH, HEIGHT)
    # the 1600×1000 map fitted under the band (aspect kept): find where it landed
    ground = [
        (x, y) for x in range(0, WIDTH, 8) for y in range(0, HEIGHT, 8)
        if image.getpixel((x, y)) == GROUND
    ]  # fmt: skip
    left, top = min(p[0] for p in ground), min(p[1] for p in ground)
    right, bottom = max(p[0] for p in ground), max(p[1] for p in ground)
    width, height = right - left, bottom - top
    assert width / height == pytest.approx(1.6, rel=0.03)
    for point, colour in ((works, DISRUPTION_COLOUR), (report, REPORT_COLOUR)):
        x, y = project(point.lat, point.lon, box=BOX, width=width, height=height)
        assert _near(image, (left + x, top + y), colour), point
    x, y = project(cathedral.lat, cathedral.lon, box=BOX, width=width, height=height)
    assert _near(image, (left + x + 20, top + y), PARKING_COLOUR)
    assert not any(
        image.getpixel((x, y)) == PARKING_COLOUR
        for x in range(WIDTH - 60, WIDTH) for y in range(BAND_BOTTOM, BAND_BOTTOM + 60)
    )  # fmt: skip
    for box in card.boxes:  # title, city, legend
        assert SAFE_X <= box[0] and box[2] <= WIDTH - SAFE_X
        assert SAFE_Y <= box[1] and box[3] <= HEIGHT - SAFE_Y


BAND_BOTTOM = 215


def _near(image: Image.Image, xy: tuple[float, float], colour: tuple[int, int, int]) -> bool:
    """Whether ``colour`` is found within 12 px of ``xy`` (markers have a white outline)."""
    cx, cy = round(xy[0]), round(xy[1])
    return any(
        image.getpixel((x, y)) == colour
        for x in range(cx - 12, cx + 13) for y in range(cy - 12, cy + 13)
    )  # fmt: skip


def test_the_map_shows_car_parks_disruptions_and_open_approved_reports_only() -> None:
    items = [
        _row("parking", "Cathédrale", 48.4476, 1.4881, values={"free_spaces": 117}),
        _row("traffic", "Boulevard Chasles", 48.44, 1.49, values={"congested": 1}),
        _row("traffic", "Rue du Bourg", 48.445, 1.487, values={"congested": 0}),
        _row("transport", "Ligne 4 déviée", 48.45, 1.48),
        _row("citizen_report", "Lampadaire", 48.45, 1.47, review=ReviewState.APPROVED),
        _row("citizen_report", "Graffiti", 48.45, 1.47, review=ReviewState.PENDING),
        _row(
            "citizen_report",
            "Nid-de-poule",
            48.45,
            1.47,
            review=ReviewState.APPROVED,
            extra={"status": "closed"},
        ),  # fmt: skip
    ]
    points = map_points(items)
    assert [(p.kind, p.label) for p in points] == [
        ("parking", "117"), ("disruption", ""), ("disruption", ""), ("report", "")
    ]  # fmt: skip


# --- Through the services ---------------------------------------------------------------------


@pytest.fixture
def source() -> FeedSource:
    return cast(FeedSource, FeedSourceFactory(slug="hypervision-chartres"))


def _map_background(picture: Image.Image | bytes) -> MapBackground:
    if isinstance(picture, Image.Image):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        picture = buffer.getvalue()
    name = storages["private"].save("map-backgrounds/chartres.png", ContentFile(picture))
    return MapBackground.objects.create(name="Chartres centre", image=name, **BOX.__dict__)


@pytest.mark.django_db
@pytest.mark.slow
def test_the_map_card_is_made_over_the_editors_background_and_withdrawn_without_it(
    source: FeedSource,
) -> None:
    cache.delete(f"carillon:cards:made:{MAP}")
    item = _row("parking", "Cathédrale", 48.4476, 1.4881, values={"free_spaces": 117})
    item.source, item.external_id = source, "urn:cathedrale"
    item.save()
    assert cards_refresh(category=MAP, now=NOW) == CardOutcome.WITHDRAWN  # no background yet
    _map_background(_background())
    assert cards_refresh(category=MAP, now=NOW) == CardOutcome.MADE
    card = Asset.objects.get(kind=AssetKind.CARD, card_category=MAP)
    assert card.card_expires_at == NOW + HOUR and card.jobs.count() == 1


@pytest.mark.django_db
def test_an_unreadable_map_picture_draws_no_card(source: FeedSource) -> None:
    cache.delete(f"carillon:cards:made:{MAP}")
    item = _row("parking", "Cathédrale", 48.4476, 1.4881, values={"free_spaces": 117})
    item.source, item.external_id = source, "urn:cathedrale"
    item.save()
    _map_background(b"<svg>not a raster picture</svg>")
    assert cards_refresh(category=MAP, now=NOW) == CardOutcome.FAILED
    assert not Asset.objects.filter(card_category=MAP).exists()
