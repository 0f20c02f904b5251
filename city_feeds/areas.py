"""Whether an alert's area meets a channel's (pure: shapely, no Django, no I/O).

A channel serves an area (``ChannelArea``): geocodes as (valueName, value) pairs (INSEE commune
codes, département numbers, NUTS3, MeteoAlarm's EMMA_ID) and an outline, a ring of (lat, lon).
An alert's areas (``city_feeds.items.Area``) carry geocodes, polygons and circles. They match on
a shared pair (the name compared without case, the value exactly), or when one of the alert's
polygons or circles intersects the channel's outline.

Axis order: CAP writes points as "lat,lon"; shapely's plane is (x, y) = (lon, lat). Every ring is
turned into a geometry in one place (``ring_polygon``), so the order is swapped once and only
once. A circle's radius is in kilometres: it is drawn in a local equirectangular projection
around its centre (kilometres east and north, accurate to well under a percent over the tens of
kilometres an alert circle spans) and brought back to degrees, where it is an ellipse.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shapely import affinity
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from city_feeds.items import Area

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
CIRCLE_SEGMENTS = 32  # points per quarter circle
MAX_RADIUS_KM = 2000.0  # beyond it a local projection no longer holds: refused

LatLon = tuple[float, float]
Geocode = tuple[str, str]


def _valid_point(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def ring_polygon(ring: Sequence[Sequence[float]]) -> BaseGeometry | None:
    """A ring of (lat, lon) points as a shapely geometry in (lon, lat); ``None`` when it has
    fewer than three distinct points or a point off the globe. A self-crossing ring is
    repaired (``make_valid``) rather than refused."""
    points = [(float(lat), float(lon)) for lat, lon in ring]
    if len(set(points)) < 3 or not all(_valid_point(lat, lon) for lat, lon in points):
        return None
    polygon = Polygon([(lon, lat) for lat, lon in points])
    return polygon if polygon.is_valid else make_valid(polygon)


def circle_polygon(centre: Sequence[float], radius_km: float) -> BaseGeometry | None:
    """A circle of ``radius_km`` around a (lat, lon) centre, in (lon, lat) degrees; a radius of
    zero is the centre itself. ``None`` for a centre off the globe or a radius out of range."""
    lat0, lon0 = float(centre[0]), float(centre[1])
    radius = float(radius_km)
    if not _valid_point(lat0, lon0) or not 0 <= radius <= MAX_RADIUS_KM:
        return None
    if radius == 0:
        return Point(lon0, lat0)
    east = KM_PER_DEGREE * math.cos(math.radians(lat0))  # km per degree of longitude there
    disc = Point(0.0, 0.0).buffer(radius, quad_segs=CIRCLE_SEGMENTS)  # in km, east/north
    in_degrees = affinity.scale(disc, xfact=1 / east, yfact=1 / KM_PER_DEGREE, origin=(0, 0))
    return affinity.translate(in_degrees, xoff=lon0, yoff=lat0)


def area_shapes(area: Area) -> list[BaseGeometry]:
    """The polygons and circles of an alert's area, as geometries (unusable ones left out)."""
    shapes = [ring_polygon(ring) for ring in area.polygons]
    shapes += [circle_polygon(centre, radius) for centre, radius in area.circles]
    return [shape for shape in shapes if shape is not None and not shape.is_empty]


def _pairs(geocodes: Iterable[Sequence[str]]) -> set[Geocode]:
    return {(str(name).strip().casefold(), str(value).strip()) for name, value in geocodes}


def geocodes_match(alert: Iterable[Sequence[str]], channel: Iterable[Sequence[str]]) -> bool:
    """Whether the alert and the channel share a (valueName, value) pair."""
    return bool(_pairs(alert) & _pairs(channel))


def area_matches(
    *,
    areas: Sequence[Area],
    geocodes: Iterable[Sequence[str]],
    outline: Sequence[Sequence[float]],
) -> bool:
    """Whether any of the alert's ``areas`` meets the channel's area (its ``geocodes`` and its
    ``outline``, a ring of (lat, lon))."""
    channel_pairs = _pairs(geocodes)
    if any(_pairs(area.geocodes) & channel_pairs for area in areas):
        return True
    served = ring_polygon(outline) if outline else None
    if served is None:
        return False
    return any(shape.intersects(served) for area in areas for shape in area_shapes(area))


# --- stored form (Alert.areas, a JSON list) ---------------------------------------------------


def area_to_json(area: Area) -> dict[str, Any]:
    return {
        "description": area.description,
        "geocodes": [list(pair) for pair in area.geocodes],
        "polygons": [[list(point) for point in ring] for ring in area.polygons],
        "circles": [[list(centre), radius] for centre, radius in area.circles],
    }


def area_from_json(data: Mapping[str, Any]) -> Area:
    return Area(
        description=str(data.get("description", "")),
        geocodes=tuple((str(n), str(v)) for n, v in data.get("geocodes", [])),
        polygons=tuple(
            tuple((float(lat), float(lon)) for lat, lon in ring)
            for ring in data.get("polygons", [])
        ),
        circles=tuple(
            ((float(c[0]), float(c[1])), float(radius)) for c, radius in data.get("circles", [])
        ),
    )


def channel_geocodes(stored: Iterable[Any]) -> list[Geocode]:
    """A ``ChannelArea.geocodes`` value as pairs: ``[["INSEE", "28085"], ...]`` or
    ``[{"valueName": "INSEE", "value": "28085"}, ...]``."""
    pairs: list[Geocode] = []
    for entry in stored:
        if isinstance(entry, Mapping):
            pairs.append((str(entry.get("valueName", "")), str(entry.get("value", ""))))
        elif isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) == 2:
            pairs.append((str(entry[0]), str(entry[1])))
    return pairs
