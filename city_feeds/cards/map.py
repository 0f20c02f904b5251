"""The map card, like the hypervision centre's connected map: car parks with their free
spaces, traffic and bus disruptions, and open citizen reports drawn by their coordinates over
the background map editors uploaded with its bounding box (``city_feeds.models.MapBackground``).

Pure: ``render_map`` takes the background picture, its box and the points. The picture is
taken to be in Web Mercator (what OpenStreetMap exports), so latitudes are projected before
being placed; it is fitted under the title band (never stretched), and a legend sits at the
foot. Points outside the box are left out.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from city_feeds.cards.content import (
    MAP,
    CardContent,
    CardLine,
    is_airable,
    is_disruption,
    value_of,
)
from city_feeds.cards.render import (
    BAND_HEIGHT,
    BOLD,
    CHARTRES,
    HEIGHT,
    SAFE_X,
    SAFE_Y,
    STRIPE_HEIGHT,
    WIDTH,
    Canvas,
    Palette,
    RenderedCard,
    draw_band,
    font,
)
from city_feeds.items import ItemKind
from city_feeds.models import FeedItem

LEGEND_HEIGHT = 70
MARKER_RADIUS = 30
PARKING_COLOUR = (30, 110, 220)
DISRUPTION_COLOUR = (235, 110, 20)
REPORT_COLOUR = (200, 30, 90)
OUTLINE = (255, 255, 255)


@dataclass(frozen=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        if not (-85 < self.south < self.north < 85 and -180 <= self.west < self.east <= 180):
            raise ValueError("a map's box needs south < north and west < east, in degrees")

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass(frozen=True)
class MapPoint:
    kind: str  # "parking", "disruption", "report"
    lat: float
    lon: float
    label: str = ""  # drawn next to the marker (a car park's free spaces)


def mercator_y(lat: float) -> float:
    """Web Mercator's y of a latitude (unitless, growing northwards)."""
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def project(
    lat: float, lon: float, *, box: BoundingBox, width: float, height: float
) -> tuple[float, float]:
    """Pixel position of (lat, lon) on a ``width``×``height`` Web Mercator picture of ``box``."""
    x = (lon - box.west) / (box.east - box.west) * width
    top, bottom = mercator_y(box.north), mercator_y(box.south)
    y = (top - mercator_y(lat)) / (top - bottom) * height
    return x, y


def map_points(items: Sequence[FeedItem]) -> list[MapPoint]:
    """The airable items with a location, as markers: car parks labelled with their free
    spaces, disruptions, and open (approved) citizen reports."""
    points = []
    for item in items:
        if item.latitude is None or item.longitude is None or not is_airable(item):
            continue
        if item.kind == ItemKind.PARKING and value_of(item, "status") is None:
            free = value_of(item, "free_spaces")
            label = str(int(free)) if isinstance(free, int | float) else ""
            points.append(MapPoint("parking", item.latitude, item.longitude, label))
        elif item.kind in (ItemKind.TRAFFIC, ItemKind.TRANSPORT) and is_disruption(item):
            points.append(MapPoint("disruption", item.latitude, item.longitude))
        elif item.kind == ItemKind.CITIZEN_REPORT and item.extra.get("status") != "closed":
            points.append(MapPoint("report", item.latitude, item.longitude))
    return points


def map_content(
    items: Sequence[FeedItem], *, now: dt.datetime, expires_at: dt.datetime | None = None
) -> CardContent | None:
    """The map card's content (its title, one line per kind of marker), or ``None``."""
    points = map_points(items)
    shown = [i for i in items if i.latitude is not None and is_airable(i)]
    if not points or not shown:
        return None
    counts = {kind: sum(1 for p in points if p.kind == kind) for kind in _LEGEND}
    lines = tuple(CardLine(kind, str(count)) for kind, count in counts.items())
    ends = [min(filter(None, (i.expires_at, i.valid_until))) for i in shown]
    return CardContent(
        category=MAP,
        title=_("Chartres live"),
        lines=lines,
        expires_at=min([*ends, *([expires_at] if expires_at else [])]),
        updated_at=max((i.observed_at for i in shown if i.observed_at), default=None),
    )


_LEGEND = ("parking", "disruption", "report")


def _legend_labels() -> dict[str, str]:
    return {
        "parking": _("Car parks (free spaces)"),
        "disruption": _("Disruptions"),
        "report": _("Citizen reports"),
    }


def _fitted(background: Image.Image) -> tuple[Image.Image, int, int]:
    """The background scaled to fit the map area (aspect kept) and its top-left corner."""
    area_top = BAND_HEIGHT + STRIPE_HEIGHT
    area_w, area_h = WIDTH, HEIGHT - area_top - SAFE_Y - LEGEND_HEIGHT - 20
    scale = min(area_w / background.width, area_h / background.height)
    size = (max(1, round(background.width * scale)), max(1, round(background.height * scale)))
    fitted = background.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    return fitted, (WIDTH - size[0]) // 2, area_top + (area_h - size[1]) // 2


def _marker(draw: ImageDraw.ImageDraw, kind: str, x: float, y: float) -> None:
    r = MARKER_RADIUS
    if kind == "parking":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=PARKING_COLOUR, outline=OUTLINE, width=4)
        draw.text((x, y), "P", font=font(BOLD, 36), fill=OUTLINE, anchor="mm")
    elif kind == "disruption":
        triangle = [(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)]
        draw.polygon(triangle, fill=DISRUPTION_COLOUR, outline=OUTLINE, width=4)
        draw.text((x, y + 6), "!", font=font(BOLD, 34), fill=OUTLINE, anchor="mm")
    else:
        diamond = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
        draw.polygon(diamond, fill=REPORT_COLOUR, outline=OUTLINE, width=4)


def _legend(canvas: Canvas, palette: Palette) -> None:
    baseline = HEIGHT - SAFE_Y
    x = float(SAFE_X + MARKER_RADIUS)
    face = font(BOLD, 40)
    for kind, label in _legend_labels().items():
        _marker(canvas.draw, kind, x, baseline - MARKER_RADIUS)
        xy = (x + MARKER_RADIUS + 16, baseline - 8)
        x = canvas.text(xy, label, face, palette.text, anchor="ld") + 80


def render_map(
    *,
    background: Image.Image,
    box: BoundingBox,
    points: Sequence[MapPoint],
    content: CardContent,
    palette: Palette = CHARTRES,
) -> RenderedCard:
    """The map card: the title band, the fitted map with its markers, the legend."""
    canvas = Canvas(palette)
    draw_band(canvas, content, palette=palette)
    fitted, left, top = _fitted(background)
    canvas.image.paste(fitted, (left, top))
    label_face = font(BOLD, 34)
    for point in (p for p in points if box.contains(p.lat, p.lon)):
        x, y = project(point.lat, point.lon, box=box, width=fitted.width, height=fitted.height)
        _marker(canvas.draw, point.kind, left + x, top + y)
        if point.label:
            xy = (left + x + MARKER_RADIUS + 8, top + y + 12)
            canvas.draw.text(
                xy, point.label, font=label_face, fill=palette.text,
                stroke_width=4, stroke_fill=palette.band,
            )  # fmt: skip
    _legend(canvas, palette)
    return RenderedCard(image=canvas.image, boxes=tuple(canvas.boxes))
