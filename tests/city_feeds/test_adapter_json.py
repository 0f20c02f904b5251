"""The generic JSON/CSV adapter read through an editor's field mapping: Opendatasoft car parks,
Open-Meteo weather and the street lighting's energy export, all for Chartres."""

import datetime as dt
import json
from pathlib import Path

import pytest

from city_feeds.adapters import json_mapping
from city_feeds.adapters.registry import ADAPTERS
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions, Value

DATA = Path(__file__).parent / "data"
UTC = dt.UTC

PARKING_MAPPING = {
    "items": "results",
    "id": "id",
    "title": "name",
    "value:free_spaces": "numberofavailableplaces",
    "unit:free_spaces": "",
    "value:total_spaces": "totalspotnumber",
    "lat": "geo_point_2d.lat",
    "lon": "geo_point_2d.lon",
    "observed_at": "updated_at",
    "extra:status": "status",
}
WEATHER_MAPPING = {
    "items": "",
    "id": "=open-meteo-chartres",
    "title": "=Chartres",
    "value:temperature": "current.temperature_2m",
    "unit:temperature": "Cel",
    "value:humidity": "current.relative_humidity_2m",
    "unit:humidity": "%",
    "value:wind_speed": "current.wind_speed_10m",
    "unit:wind_speed": "km/h",
    "value:weather_code": "current.weather_code",
    "lat": "latitude",
    "lon": "longitude",
    "observed_at": "current.time",
    "timezone": "Europe/Paris",
}
ENERGY_CSV_MAPPING = {
    "format": "csv",
    "delimiter": ";",
    "id": "mois",
    "title": "=Éclairage public",
    "value:energy_saved": "economie_kwh",
    "unit:energy_saved": "kWh",
    "value:energy_used": "consommation_kwh",
    "unit:energy_used": "kWh",
    "observed_at": "date_releve",
    "timezone": "Europe/Paris",
    "extra:month": "mois",
}


def payload(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parking(data: bytes, **mapping: str) -> list[Item]:
    options = ParseOptions(item_kind="parking", field_mapping={**PARKING_MAPPING, **mapping})
    return json_mapping.parse(data, options)


def values(item: Item) -> dict[str, float | int | str]:
    return {value.name: value.value for value in item.values}


def test_registry_names_json() -> None:
    assert ADAPTERS["json"] is json_mapping.parse


def test_opendatasoft_car_parks_of_chartres() -> None:
    items = parking(payload("opendatasoft-parkings-chartres.json"))

    assert [(item.title, values(item).get("free_spaces")) for item in items] == [
        ("Cathédrale", 117),
        ("Épars", 36),
        ("Hôtel de Ville", 42),  # "42" as text in the payload
        ("Théâtre", None),  # null: no value rather than a wrong one
    ]  # the entry that is not an object is skipped
    cathedral = items[0]
    assert cathedral.kind is ItemKind.PARKING
    assert cathedral.external_id == "CHA-PK-CATHEDRALE"
    assert cathedral.values == (Value("free_spaces", 117, ""), Value("total_spaces", 430, ""))
    assert cathedral.location == (48.4484, 1.4861)
    assert cathedral.observed_at == dt.datetime(2025, 1, 13, 9, 12, tzinfo=UTC)
    assert cathedral.extra == {"status": "OUVERT"}
    assert items[2].observed_at == dt.datetime(2025, 1, 13, 9, 12, tzinfo=UTC)  # +01:00 given
    assert items[3].location is None  # geo_point_2d is null
    assert items[3].extra == {"status": "FERME"}


def test_open_meteo_current_weather_is_one_item() -> None:
    options = ParseOptions(item_kind="weather", field_mapping=WEATHER_MAPPING)

    (weather,) = json_mapping.parse(payload("open-meteo-current-chartres.json"), options)

    assert weather.kind is ItemKind.WEATHER
    assert (weather.external_id, weather.title) == ("open-meteo-chartres", "Chartres")
    assert weather.values == (
        Value("temperature", 4.7, "Cel"),
        Value("humidity", 86, "%"),
        Value("wind_speed", 13.2, "km/h"),
        Value("weather_code", 3, ""),
    )
    assert weather.location == (48.4469, 1.4892)
    assert weather.observed_at == dt.datetime(2025, 1, 13, 9, 15, tzinfo=UTC)  # 10:15 in Paris


def test_open_meteo_times_without_a_zone_are_utc_unless_the_mapping_says() -> None:
    mapping = {key: path for key, path in WEATHER_MAPPING.items() if key != "timezone"}
    options = ParseOptions(item_kind="weather", field_mapping=mapping)

    (weather,) = json_mapping.parse(payload("open-meteo-current-chartres.json"), options)

    assert weather.observed_at == dt.datetime(2025, 1, 13, 10, 15, tzinfo=UTC)


def test_street_lighting_energy_from_a_french_csv_export() -> None:
    options = ParseOptions(item_kind="energy", field_mapping=ENERGY_CSV_MAPPING)

    items = json_mapping.parse(payload("eclairage-public-chartres.csv"), options)

    assert [item.external_id for item in items] == ["2024-11", "2024-12", "2025-01"]
    january = items[-1]
    assert january.kind is ItemKind.ENERGY
    assert january.title == "Éclairage public"
    assert january.values == (
        Value("energy_saved", 18430.2, "kWh"),  # decimal comma
        Value("energy_used", 41250.5, "kWh"),
    )
    assert january.observed_at == dt.datetime(2025, 1, 30, 23, 0, tzinfo=UTC)  # 31 Jan, Paris
    assert january.extra == {"month": "2025-01"}


def test_street_lighting_energy_from_a_windows_1252_export() -> None:
    mapping = {
        **ENERGY_CSV_MAPPING,
        "value:energy_saved": "économie_kwh",
        "observed_at": "date_relevé",
    }
    options = ParseOptions(item_kind="energy", field_mapping=mapping)

    (item,) = json_mapping.parse(payload("eclairage-public-chartres-cp1252.csv"), options)

    assert item.values == (Value("energy_saved", 18430.2, "kWh"),)
    assert item.observed_at == dt.datetime(2025, 1, 30, 23, 0, tzinfo=UTC)


def test_street_lighting_energy_from_json() -> None:
    mapping = {
        "items": "releves",
        "id": "mois",
        "title": "=Éclairage public",
        "value:energy_saved": "economie_kwh",
        "unit:energy_saved": "kWh",
        "observed_at": "date_releve",
        "timezone": "Europe/Paris",
    }
    options = ParseOptions(item_kind="energy", field_mapping=mapping)

    items = json_mapping.parse(payload("eclairage-public-chartres.json"), options)

    assert [(item.external_id, item.values) for item in items] == [
        ("2024-12", (Value("energy_saved", 19642.1, "kWh"),)),
        ("2025-01", (Value("energy_saved", 18430.2, "kWh"),)),
    ]


def test_a_root_list_without_an_items_path_and_without_ids() -> None:
    data = json.dumps([{"nom": "Cathédrale", "libres": 117}, {"nom": "Épars"}]).encode()
    options = ParseOptions(
        item_kind="parking", field_mapping={"title": "nom", "value:free_spaces": "libres"}
    )

    items = json_mapping.parse(data, options)

    assert [(item.external_id, item.title, item.values) for item in items] == [
        ("0", "Cathédrale", (Value("free_spaces", 117),)),
        ("1", "Épars", ()),
    ]


def test_paths_step_into_lists_and_times_may_be_posix_seconds() -> None:
    data = json.dumps(
        {"data": {"sites": [{"ref": 7, "coords": [48.4466, 1.4879], "ts": 1736759520}]}}
    ).encode()
    mapping = {"items": "data.sites", "id": "ref", "lat": "coords.0", "lon": "coords.1"}

    (item,) = parking(data, **mapping, observed_at="ts")

    assert (item.external_id, item.title) == ("7", "7")  # no title: its id
    assert item.location == (48.4466, 1.4879)
    assert item.observed_at == dt.datetime(2025, 1, 13, 9, 12, tzinfo=UTC)


def test_values_of_the_wrong_type_are_left_out() -> None:
    record = {
        "id": "x",
        "name": "Cathédrale",
        "numberofavailableplaces": {"value": 117},
        "totalspotnumber": True,
        "geo_point_2d": {"lat": 148.4, "lon": 1.48},
        "updated_at": "hier",
        "status": ["OUVERT"],
    }
    data = json.dumps({"results": [record]}).encode()

    (item,) = parking(data)

    assert item.values == ()
    assert item.location is None  # latitude out of range
    assert item.observed_at is None
    assert item.extra == {}


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b'"' + b"9" * 5000 + b'"'])
def test_numbers_that_are_not_finite_or_too_long_are_left_out(number: bytes) -> None:
    data = b'{"results": [{"id": "x", "name": "n", "numberofavailableplaces": ' + number + b"}]}"

    (item,) = parking(data)

    assert item.values == ()


def test_short_text_values_are_kept_and_long_ones_left_out() -> None:
    data = json.dumps(
        {"results": [{"id": "x", "name": "n", "numberofavailableplaces": "COMPLET"}]}
    ).encode()
    long = json.dumps(
        {"results": [{"id": "x", "name": "n", "numberofavailableplaces": "A" * 500}]}
    ).encode()

    assert parking(data)[0].values == (Value("free_spaces", "COMPLET", ""),)
    assert parking(long)[0].values == ()


def test_a_source_without_an_item_kind_is_refused() -> None:
    with pytest.raises(FeedError, match="no item kind"):
        json_mapping.parse(b"[]", ParseOptions(field_mapping=PARKING_MAPPING))
    with pytest.raises(FeedError, match="unknown item kind"):
        json_mapping.parse(b"[]", ParseOptions(item_kind="lava", field_mapping=PARKING_MAPPING))


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [
        ({"id": 3}, "text to text"),
        ({"items": "total_count"}, "no list of items"),
        ({"items": "missing.path"}, "no list of items"),
        ({"timezone": "Europe/Chartres"}, "unknown time zone"),
    ],
)
def test_mappings_that_cannot_apply_are_refused(mapping: dict[str, object], reason: str) -> None:
    options = ParseOptions(item_kind="parking", field_mapping=mapping)  # type: ignore[arg-type]

    with pytest.raises(FeedError, match=reason):
        json_mapping.parse(payload("opendatasoft-parkings-chartres.json"), options)


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        (b"", "malformed JSON"),
        (b"{'results': []}", "malformed JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b"\xff\xfe\x00{", "not UTF-8"),
        (b'{"results": [' + b"1" * 5000 + b"]}", "JSON number"),
        (b'{"results": [{"id": "x", "numberofavailableplaces": NaN}]}', "NaN is not a number"),
        (b'{"results": [-Infinity]}', "Infinity is not a number"),
    ],
)
def test_unreadable_json_is_refused(junk: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parking(junk)


def test_oversized_payloads_are_refused() -> None:
    data = payload("opendatasoft-parkings-chartres.json")
    csv_data = payload("eclairage-public-chartres.csv")
    csv_options = ParseOptions(
        item_kind="energy", field_mapping=ENERGY_CSV_MAPPING, max_bytes=len(csv_data) - 1
    )

    with pytest.raises(FeedError, match="too large"):
        json_mapping.parse(
            data,
            ParseOptions(
                item_kind="parking", field_mapping=PARKING_MAPPING, max_bytes=len(data) - 1
            ),
        )
    with pytest.raises(FeedError, match="too large"):
        json_mapping.parse(csv_data, csv_options)


@pytest.mark.parametrize(
    ("data", "mapping", "reason"),
    [
        (b"mois;economie_kwh\r\n2025-01;1\r\n", {"delimiter": ";;"}, "one character"),
        (b"mois;economie_kwh\r\n\x81\x8d;1\r\n", {}, "neither UTF-8 nor Windows-1252"),
        (b'mois;economie_kwh\r\n"' + b"x" * 200_000 + b'";1\r\n', {}, "malformed CSV"),
    ],
)
def test_unreadable_csv_is_refused(data: bytes, mapping: dict[str, str], reason: str) -> None:
    options = ParseOptions(item_kind="energy", field_mapping={**ENERGY_CSV_MAPPING, **mapping})

    with pytest.raises(FeedError, match=reason):
        json_mapping.parse(data, options)
