"""Matching an alert's area with a channel's (pure): shared geocodes, polygons and circles
meeting Chartres's outline, circles measured in kilometres, CAP's lat,lon axis order."""

import json
import math
from pathlib import Path

import pytest

from city_feeds.areas import (
    KM_PER_DEGREE,
    area_from_json,
    area_matches,
    area_to_json,
    channel_geocodes,
    circle_polygon,
    ring_polygon,
)
from city_feeds.items import Area

CHARTRES = json.loads((Path(__file__).parent / "data" / "chartres_area.json").read_text())
OUTLINE = [tuple(point) for point in CHARTRES["outline"]]
GEOCODES = channel_geocodes(CHARTRES["geocodes"])
CATHEDRAL = (48.4477, 1.4876)  # lat, lon
# Around the cathedral, as CAP writes it: lat,lon pairs.
AROUND_CATHEDRAL = ((48.44, 1.48), (48.455, 1.48), (48.455, 1.50), (48.44, 1.50), (48.44, 1.48))


def _km_east(point: tuple[float, float], km: float) -> tuple[float, float]:
    lat, lon = point
    return lat, lon + km / (KM_PER_DEGREE * math.cos(math.radians(lat)))


def _matches(area: Area) -> bool:
    return area_matches(areas=[area], geocodes=GEOCODES, outline=OUTLINE)


def test_a_shared_insee_code_matches() -> None:
    assert _matches(Area(geocodes=(("INSEE", "28085"),)))


def test_geocode_names_match_whatever_their_case_but_values_exactly() -> None:
    assert _matches(Area(geocodes=(("insee", " 28085 "),)))
    assert not _matches(Area(geocodes=(("INSEE", "28086"),)))  # Champhol, next door
    assert not _matches(Area(geocodes=(("SAME", "28085"),)))  # the value, under another name


def test_the_departement_matches_an_alert_for_the_whole_departement() -> None:
    assert _matches(Area(geocodes=(("DEPARTEMENT", "28"), ("DEPARTEMENT", "45"))))


def test_a_polygon_around_the_cathedral_intersects_chartres() -> None:
    assert _matches(Area(polygons=(AROUND_CATHEDRAL,)))


def test_a_polygon_around_paris_does_not() -> None:
    paris = ((48.80, 2.25), (48.91, 2.25), (48.91, 2.42), (48.80, 2.42))
    assert not _matches(Area(polygons=(paris,)))


def test_a_polygon_with_lat_and_lon_swapped_does_not_match() -> None:
    """The same ring written lon,lat (a common mistake) lies off the coast of Somalia."""
    swapped = tuple((lon, lat) for lat, lon in AROUND_CATHEDRAL)
    assert not _matches(Area(polygons=(swapped,)))


def test_a_circle_of_5_km_around_chartres_matches() -> None:
    assert _matches(Area(circles=((CATHEDRAL, 5.0),)))


def test_a_circle_100_km_away_does_not_match() -> None:
    assert not _matches(Area(circles=((_km_east(CATHEDRAL, 100), 20.0),)))


def test_a_circle_is_measured_in_kilometres_at_chartres_latitude() -> None:
    """20 km east of the cathedral, the outline's eastern tip (1.532 E) is about 16.8 km away:
    a radius of 18 km reaches it and one of 15 km does not. Buffering in degrees (1/111 per
    km on both axes) would wrongly miss with 18 km."""
    centre = _km_east(CATHEDRAL, 20)
    assert _matches(Area(circles=((centre, 18.0),)))
    assert not _matches(Area(circles=((centre, 15.0),)))


def test_a_circle_is_round_on_the_ground() -> None:
    circle = circle_polygon(CATHEDRAL, 10.0)
    assert circle is not None
    min_lon, min_lat, max_lon, max_lat = circle.bounds
    north_south_km = (max_lat - min_lat) * KM_PER_DEGREE
    east_west_km = (max_lon - min_lon) * KM_PER_DEGREE * math.cos(math.radians(CATHEDRAL[0]))
    assert north_south_km == pytest.approx(20.0, rel=0.01)
    assert east_west_km == pytest.approx(20.0, rel=0.01)


@pytest.mark.parametrize(
    "ring",
    [
        [(48.4, 1.4), (48.5, 1.5)],  # two points
        [(48.4, 1.4), (48.4, 1.4), (48.4, 1.4), (48.4, 1.4)],  # one point
        [(148.4, 1.4), (48.5, 1.5), (48.4, 1.6)],  # a latitude off the globe
        [(48.4, float("nan")), (48.5, 1.5), (48.4, 1.6)],
    ],
)
def test_unusable_rings_are_left_out(ring: list[tuple[float, float]]) -> None:
    assert ring_polygon(ring) is None
    assert not _matches(Area(polygons=(tuple(ring),)))


def test_a_self_crossing_polygon_is_repaired_not_refused() -> None:
    bowtie = ((48.44, 1.48), (48.455, 1.50), (48.455, 1.48), (48.44, 1.50))
    assert _matches(Area(polygons=(bowtie,)))


@pytest.mark.parametrize("radius", [-1.0, 1e9, float("inf")])
def test_circles_of_impossible_radius_are_left_out(radius: float) -> None:
    assert circle_polygon(CATHEDRAL, radius) is None


def test_no_outline_and_no_shared_geocode_matches_nothing() -> None:
    area = Area(polygons=(AROUND_CATHEDRAL,), geocodes=(("INSEE", "75056"),))
    assert not area_matches(areas=[area], geocodes=GEOCODES, outline=[])


def test_areas_survive_their_stored_form() -> None:
    area = Area(
        description="Chartres",
        geocodes=(("INSEE", "28085"),),
        polygons=(AROUND_CATHEDRAL,),
        circles=((CATHEDRAL, 5.0),),
    )
    assert area_from_json(json.loads(json.dumps(area_to_json(area)))) == area


def test_channel_geocodes_are_read_as_pairs_or_as_cap_objects() -> None:
    stored = [["INSEE", "28085"], {"valueName": "NUTS3", "value": "FRB02"}, "junk", ["one"]]
    assert channel_geocodes(stored) == [("INSEE", "28085"), ("NUTS3", "FRB02")]
