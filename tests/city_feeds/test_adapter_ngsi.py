"""The NGSI-LD and NGSIv2 adapters on the Smart Data Models samples, Chartres's payloads, and
malformed or hostile input."""

import datetime as dt
import json
from pathlib import Path

import pytest

from city_feeds.adapters import ngsi_ld, ngsiv2
from city_feeds.adapters.registry import ADAPTERS
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions

DATA = Path(__file__).parent / "data"
OPTIONS = ParseOptions()
UTC = dt.UTC
PARIS_SUMMER = dt.timezone(dt.timedelta(hours=2))


def _sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _values(item: Item) -> dict[str, tuple[object, str]]:
    return {value.name: (value.value, value.unit) for value in item.values}


def _one(items: list[Item]) -> Item:
    assert len(items) == 1, items
    return items[0]


def test_registry_maps_both_ngsi_standards():
    assert ADAPTERS["ngsi-ld"] is ngsi_ld.parse
    assert ADAPTERS["ngsiv2"] is ngsiv2.parse


# --- NGSI-LD samples ---------------------------------------------------------------------------


def test_ngsi_ld_off_street_parking_gives_free_and_total_spaces():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-OffStreetParking.json"), OPTIONS))
    assert item.kind is ItemKind.PARKING
    assert item.external_id == "urn:ngsi-ld:OffStreetParking:porto-ParkingLot-23889"
    assert item.title == "Parque de estacionamento Trindade"
    assert _values(item) == {"free_spaces": (132, ""), "total_spaces": (414, "")}
    assert item.location == (41.150691773, -8.60961198807)  # GeoJSON [lon, lat] turned round
    assert item.observed_at == dt.datetime(2018, 9, 21, 12, 0, tzinfo=UTC)  # its observedAt


def test_ngsi_ld_parking_spot_gives_its_status():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-ParkingSpot.json"), OPTIONS))
    assert item.title == "A-13"
    assert _values(item) == {"status": ("free", ""), "free_spaces": (1, "")}
    assert item.location == (43.46296641666926, -3.80356167695194)


def test_ngsi_ld_weather_observed_gives_celsius_and_humidity_percent():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-WeatherObserved.json"), OPTIONS))
    assert item.kind is ItemKind.WEATHER
    assert item.title == "Valladolid"
    assert _values(item) == {
        "temperature": (3.3, "Cel"),
        "relative_humidity": (100, "%"),
        "wind_speed": (2, "m/s"),
        "precipitation": (0, "mm"),
    }
    assert item.observed_at == dt.datetime(2016, 11, 30, 7, 0, tzinfo=UTC)
    assert item.location == (41.640833333, -4.754444444)


def test_ngsi_ld_weather_forecast_with_a_non_urn_id_gives_day_range_and_validity():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-WeatherForecast.json"), OPTIONS))
    assert item.external_id == "Spain-WeatherForecast-46005_2016-12-01T18:00:00_2016-12-02T00:00:00"
    values = _values(item)
    assert values["temperature_min"] == (11, "Cel")
    assert values["temperature_max"] == (15, "Cel")
    assert values["weather_type"] == ("overcast", "")
    assert values["relative_humidity"] == (85.0, "%")
    assert item.valid_from == dt.datetime(2016, 12, 1, 17, 0, tzinfo=UTC)
    assert item.valid_until == dt.datetime(2016, 12, 1, 23, 0, tzinfo=UTC)
    assert item.observed_at == dt.datetime(2016, 12, 1, 10, 40, 1, tzinfo=UTC)  # dateIssued


def test_ngsi_ld_air_quality_gives_no2_in_micrograms_and_the_index():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-AirQualityObserved.json"), OPTIONS))
    assert item.kind is ItemKind.AIR
    assert _values(item) == {
        "no2": (69, "ug/m3"),
        "aqi": (65, ""),
        "air_quality_level": ("moderate", ""),
    }
    # dateObserved has no zone in the sample: taken as UTC.
    assert item.observed_at == dt.datetime(2016, 3, 15, 11, 0, tzinfo=UTC)


def test_ngsi_ld_air_quality_converts_milligrams_and_drops_unknown_units():
    entity = {
        "id": "urn:ngsi-ld:AirQualityObserved:chartres-luce",
        "type": "AirQualityObserved",
        "no2": {"type": "Property", "value": 0.021, "unitCode": "GP"},
        "pm10": {"type": "Property", "value": 12, "unitCode": "59"},
        "pm25": {"type": "Property", "value": 8},
    }
    item = _one(ngsi_ld.parse(json.dumps(entity).encode(), OPTIONS))
    assert _values(item) == {"no2": (21.0, "ug/m3"), "pm25": (8, "ug/m3")}


def test_ngsi_ld_traffic_flow_without_zone_is_utc_and_line_gives_its_mean_point():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-TrafficFlowObserved.json"), OPTIONS))
    assert item.kind is ItemKind.TRAFFIC
    assert item.title == "Avenida de Salamanca"
    assert _values(item) == {"intensity": (197, ""), "average_speed": (52.6, "km/h")}
    assert item.observed_at == dt.datetime(2016, 12, 7, 11, 10, tzinfo=UTC)
    assert item.location == pytest.approx((41.6578209, -4.7353261))


def test_ngsi_ld_traffic_flow_congested_flag():
    entity = {
        "id": "urn:ngsi-ld:TrafficFlowObserved:chartres-bd-chasles",
        "type": "TrafficFlowObserved",
        "intensity": {"type": "Property", "value": 640},
        "congested": {"type": "Property", "value": True},
    }
    item = _one(ngsi_ld.parse(json.dumps(entity).encode(), OPTIONS))
    assert _values(item) == {"intensity": (640, ""), "congested": (1, "")}


def test_ngsi_ld_notification_without_notified_at_still_gives_its_parking():
    item = _one(ngsi_ld.parse(_sample("ngsi-ld-notification-OffStreetParking.json"), OPTIONS))
    assert item.title == "Downtown One"
    assert _values(item) == {"free_spaces": (122, ""), "total_spaces": (200, "")}
    assert item.observed_at == dt.datetime(2017, 7, 29, 12, 5, 2, tzinfo=UTC)
    assert item.location == (-1.0, 2.0)  # the polygon's vertex mean, (lat, lon)


def test_ngsi_ld_chartres_notification_skips_bad_and_unknown_entities(caplog):
    items = ngsi_ld.parse(_sample("ngsi-ld-notification-chartres-parkings.json"), OPTIONS)
    assert [item.title for item in items] == ["Parking Cathédrale", "Parking Hôtel de Ville"]
    cathedrale, hotel_de_ville = items
    assert _values(cathedrale)["free_spaces"] == (117, "")
    assert cathedrale.observed_at == dt.datetime(2025, 6, 14, 14, 5, tzinfo=PARIS_SUMMER)
    assert cathedrale.observed_at.utcoffset() == dt.timedelta(hours=2)
    assert cathedrale.location == (48.4489, 1.4853)
    # An expanded type URI is still an OffStreetParking.
    assert hotel_de_ville.external_id == "urn:ngsi-ld:OffStreetParking:chartres-hotel-de-ville"
    assert "availableSpotNumber is not a number: 'plusieurs'" in caplog.text


def test_ngsi_ld_entity_list_as_from_a_query():
    entities = [
        json.loads(_sample("ngsi-ld-OffStreetParking.json")),
        json.loads(_sample("ngsi-ld-WeatherObserved.json")),
    ]
    items = ngsi_ld.parse(json.dumps(entities).encode(), OPTIONS)
    assert [item.kind for item in items] == [ItemKind.PARKING, ItemKind.WEATHER]


# --- NGSIv2 samples ----------------------------------------------------------------------------


def test_ngsiv2_key_values_parking_uses_date_modified():
    item = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-OffStreetParking.json"), OPTIONS))
    assert item.external_id == "porto-ParkingLot-23889"
    assert _values(item) == {"free_spaces": (132, ""), "total_spaces": (414, "")}
    assert item.observed_at == dt.datetime(2018, 9, 21, 12, 0, 5, tzinfo=UTC)
    assert item.location == (41.150691773, -8.60961198807)


def test_ngsiv2_key_values_parking_spot_and_weather():
    spot = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-ParkingSpot.json"), OPTIONS))
    assert _values(spot)["status"] == ("free", "")
    weather = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-WeatherObserved.json"), OPTIONS))
    assert _values(weather)["temperature"] == (3.3, "Cel")
    assert weather.observed_at == dt.datetime(2016, 11, 30, 7, 0, tzinfo=UTC)


def test_ngsiv2_key_values_forecast_gives_day_range():
    item = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-WeatherForecast.json"), OPTIONS))
    values = _values(item)
    assert (values["temperature_min"], values["temperature_max"]) == ((11, "Cel"), (15, "Cel"))
    assert item.valid_until == dt.datetime(2016, 12, 1, 23, 0, tzinfo=UTC)


def test_ngsiv2_key_values_air_quality_never_reads_co2_as_no2():
    item = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-AirQualityObserved.json"), OPTIONS))
    assert "no2" not in _values(item)
    assert _values(item)["aqi"] == (65, "")
    assert item.observed_at == dt.datetime(2016, 3, 15, 11, 0, tzinfo=UTC)


def test_ngsiv2_traffic_flow_interval_gives_its_end():
    item = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-TrafficFlowObserved.json"), OPTIONS))
    assert item.observed_at == dt.datetime(2016, 12, 7, 11, 15, tzinfo=UTC)


def test_ngsiv2_weather_alert_is_an_alert_with_cap_severity():
    item = _one(ngsiv2.parse(_sample("ngsiv2-keyvalues-WeatherAlert.json"), OPTIONS))
    assert item.kind is ItemKind.ALERT
    assert item.severity == "Moderate"  # "medium"
    assert item.title == "snow ice"
    assert item.valid_from == dt.datetime(2016, 3, 14, 13, 0, tzinfo=UTC)
    assert item.valid_until == dt.datetime(2016, 3, 14, 23, 59, tzinfo=UTC)
    assert item.alert is not None
    assert item.alert.sender == "http://www.meteoalarm.eu"
    assert item.alert.sent == dt.datetime(2016, 3, 14, 13, 54, 1, tzinfo=UTC)
    assert item.alert.areas[0].description == "Huesca"


@pytest.mark.parametrize(
    "name",
    ["ngsiv2-orion-notification-keyValues.json", "ngsiv2-orion-notification-normalized.json"],
)
def test_ngsiv2_orion_notification_of_unknown_type_gives_nothing(name):
    assert ngsiv2.parse(_sample(name), OPTIONS) == []


def test_ngsiv2_chartres_normalized_notification_reads_metadata_and_geo_point():
    parking, weather = ngsiv2.parse(_sample("ngsiv2-orion-notification-chartres.json"), OPTIONS)
    assert parking.title == "Parking Cathédrale"
    assert _values(parking) == {"free_spaces": (98, ""), "total_spaces": (400, "")}
    assert parking.observed_at == dt.datetime(2025, 6, 14, 12, 10, tzinfo=UTC)  # TimeInstant
    assert parking.location == (48.4489, 1.4853)
    assert _values(weather) == {
        "temperature": (21.4, "Cel"),
        "relative_humidity": (62.0, "%"),
        "wind_speed": (3.1, "m/s"),
        "precipitation": (0, "mm"),
        "weather_type": ("sunnyDay", ""),
    }
    assert weather.location == (48.4625, 1.5017)  # geo:point is already "lat, lon"
    assert weather.observed_at == dt.datetime(2025, 6, 14, 14, 0, tzinfo=PARIS_SUMMER)


# --- malformed and hostile input ---------------------------------------------------------------


def _parking(**attrs: object) -> bytes:
    entity = {"id": "chartres-epars", "type": "OffStreetParking", **attrs}
    return json.dumps(entity).encode()


@pytest.mark.parametrize("parse", [ngsi_ld.parse, ngsiv2.parse])
@pytest.mark.parametrize(
    "payload, reason",
    [
        (b'{"id": "x", "type": ', "malformed JSON"),
        (b'{"id": "x", "type": "OffStreetParking", "availableSpotNumber": NaN}', "NaN"),
        (b"\xff\xfe not utf-8", "not UTF-8"),
        (b'"just a string"', "not an NGSI"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_payloads_raise_feed_error(parse, payload, reason):
    with pytest.raises(FeedError, match=reason):
        parse(payload, OPTIONS)


@pytest.mark.parametrize("parse", [ngsi_ld.parse, ngsiv2.parse])
def test_payload_beyond_max_bytes_is_refused_before_parsing(parse):
    payload = _parking(availableSpotNumber=12, description="x" * 4096)
    with pytest.raises(FeedError, match="too large"):
        parse(payload, ParseOptions(max_bytes=1024))
    assert parse(payload, ParseOptions(max_bytes=8192))  # the same payload fits a larger limit


def test_notifications_without_a_data_list_raise_feed_error():
    with pytest.raises(FeedError, match="data list"):
        ngsi_ld.parse(b'{"type": "Notification", "data": {"id": "x"}}', OPTIONS)
    with pytest.raises(FeedError, match="data list"):
        ngsiv2.parse(b'{"subscriptionId": "1", "data": "x"}', OPTIONS)


def test_an_orion_subscription_request_is_not_a_payload():
    with pytest.raises(FeedError, match="not an NGSIv2"):
        ngsiv2.parse(_sample("ngsiv2-orion-subscription-request.json"), OPTIONS)


@pytest.mark.parametrize(
    "attrs",
    [
        {"availableSpotNumber": "117"},  # a string where a number is expected
        {"availableSpotNumber": True},
        {"availableSpotNumber": -3},
        {"availableSpotNumber": 11.5},
        {"totalSpotNumber": 400},  # the required value missing
        {"availableSpotNumber": 5, "location": "place des Épars"},
        {"availableSpotNumber": 5, "location": {"type": "Point", "coordinates": [1.48, 148.4]}},
        {"availableSpotNumber": 5, "location": {"type": "Point", "coordinates": ["1", "48"]}},
        {"availableSpotNumber": 5, "dateModified": "yesterday"},
        {"availableSpotNumber": 5, "name": ["Épars"]},
    ],
)
def test_key_values_entity_with_wrong_types_is_skipped(attrs):
    good = json.loads(_parking(availableSpotNumber=5))
    bad = json.loads(_parking(**attrs)) | {"id": "bad"}
    items = ngsiv2.parse(json.dumps([bad, good]).encode(), OPTIONS)
    assert [item.external_id for item in items] == ["chartres-epars"]


def test_ngsi_ld_entities_with_wrong_types_or_no_id_are_skipped():
    entities = [
        {"type": "OffStreetParking", "availableSpotNumber": {"type": "Property", "value": 3}},
        {"id": 42, "type": "OffStreetParking"},
        "not an entity",
        {
            "id": "urn:ngsi-ld:WeatherObserved:bad",
            "type": "WeatherObserved",
            "temperature": {"type": "Property", "value": "chaud"},
        },
        {
            "id": "urn:ngsi-ld:ParkingSpot:bad",
            "type": "ParkingSpot",
            "status": {"type": "Property", "value": "maybe"},
        },
        {
            "id": "urn:ngsi-ld:OffStreetParking:ok",
            "type": "OffStreetParking",
            "availableSpotNumber": {"type": "Property", "value": 3},
        },
    ]
    items = ngsi_ld.parse(json.dumps(entities).encode(), OPTIONS)
    assert [item.external_id for item in items] == ["urn:ngsi-ld:OffStreetParking:ok"]


def test_total_below_free_is_dropped_not_trusted():
    item = _one(ngsiv2.parse(_parking(availableSpotNumber=50, totalSpotNumber=20), OPTIONS))
    assert _values(item) == {"free_spaces": (50, "")}
