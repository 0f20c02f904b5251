"""The Open311 GeoReport v2 adapter: citizen reports from JSON and XML, never a person's data."""

import datetime as dt
from pathlib import Path

import pytest

from city_feeds.adapters import open311
from city_feeds.adapters.registry import ADAPTERS
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions

DATA = Path(__file__).parent / "data"
UTC = dt.UTC

# What the Chartres demo servers leak about the residents who reported (see PROVENANCE.md).
PERSONAL = [
    "Camille",
    "Durand",
    "camille.durand@example.org",
    "+33 6 12 34 56 78",
    "acct-99812",
    "dev-7f3a91",
    "Petitcolas",
    "jean.petitcolas@example.net",
    "0698765432",
    "Inès",
    "Marchand",
    "ines.marchand@example.org",
    "02 37 00 00 00",
    "acct-20417",
    "28085001",
    "28085077",
    "signalements.chartres.example/media",
]
# The shared sample's person-linked fields: its address id and the photo.
SAMPLE_PERSONAL = ["545483", "638344.jpg", "638349.jpg", "city.gov.s3.amazonaws.com"]


def payload(name: str) -> bytes:
    return (DATA / name).read_bytes()


def everything_in(items: list[Item]) -> str:
    """All an item carries, as text (a value hidden anywhere shows up here)."""
    return "\n".join(repr(item) for item in items)


def test_registry_names_open311() -> None:
    assert ADAPTERS["open311"] is open311.parse


def test_shared_json_sample_with_its_leading_zero_is_refused() -> None:
    with pytest.raises(FeedError, match="malformed JSON"):
        open311.parse(payload("open311-georeport-v2-requests.json"), ParseOptions())


@pytest.mark.parametrize(
    "name", ["open311-georeport-v2-requests-corrected.json", "open311-georeport-v2-requests.xml"]
)
def test_shared_samples_give_the_same_reports(name: str) -> None:
    closed, open_ = open311.parse(payload(name), ParseOptions())

    assert closed.kind is ItemKind.CITIZEN_REPORT
    assert closed.external_id == "638344"
    assert closed.title == "Sidewalk and Curb Issues"
    assert closed.body == ""
    assert closed.location == (37.762221815, -122.4651145)
    assert closed.valid_from == dt.datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)
    assert closed.observed_at == dt.datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)
    assert closed.observed_at.utcoffset() == dt.timedelta(0)
    assert closed.extra == {
        "status": "closed",
        "address": "8TH AVE and JUDAH ST",
        "service_code": "006",
        "status_notes": "Duplicate request.",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
    }
    assert open_.external_id == "638349"
    assert open_.extra["status"] == "open"
    assert "status_notes" not in open_.extra  # null or empty
    assert not any(part in everything_in([closed, open_]) for part in SAMPLE_PERSONAL)


def test_chartres_reports_keep_the_public_facts() -> None:
    items = open311.parse(payload("open311-chartres-requests.json"), ParseOptions())

    lights, road, _ = items
    assert lights.external_id == "CH-2025-0142"
    assert lights.title == "Éclairage public en panne"
    assert lights.body == "Trois lampadaires éteints rue du Bois-Merrain."
    assert lights.location == (48.4481, 1.4853)
    assert lights.valid_from == dt.datetime(2025, 1, 12, 18, 40, tzinfo=UTC)
    assert lights.observed_at == dt.datetime(2025, 1, 13, 7, 15, tzinfo=UTC)
    assert lights.extra == {
        "status": "open",
        "address": "Rue du Bois-Merrain, 28000 Chartres",
        "service_code": "ECL",
        "agency_responsible": "Direction de l'éclairage public",
        "expected_datetime": "2025-01-15T12:00:00+01:00",
    }
    assert road.external_id == "143"  # a number in the payload
    assert road.location == (48.4447, 1.4862)  # numbers as text
    assert road.extra["status"] == "closed"
    assert road.extra["status_notes"] == "Nid-de-poule rebouché."


def test_fields_of_the_wrong_type_are_ignored_and_unusable_requests_skipped() -> None:
    items = open311.parse(payload("open311-chartres-requests.json"), ParseOptions())

    # Skipped: an object id, a boolean id, no id, a request that is not an object.
    assert [item.external_id for item in items] == ["CH-2025-0142", "143", "144"]
    odd = items[2]
    assert odd.title == "PRO"  # service_name is a list: the code stands in
    assert odd.body == ""  # description is an object
    assert odd.location is None  # "north" is no latitude
    assert odd.valid_from is None  # "yesterday" is no time
    assert "status" not in odd.extra  # "pending" is not a GeoReport status


@pytest.mark.parametrize(
    "name", ["open311-chartres-requests.json", "open311-chartres-requests.xml"]
)
def test_no_personal_data_reaches_the_items(name: str) -> None:
    data = payload(name)
    assert any(part.encode() in data for part in PERSONAL)  # the payload does leak some

    items = open311.parse(data, ParseOptions())

    assert items
    text = everything_in(items)
    assert [part for part in PERSONAL if part in text] == []


def test_chartres_xml_report() -> None:
    (item,) = open311.parse(payload("open311-chartres-requests.xml"), ParseOptions())

    assert item.external_id == "CH-2025-0150"
    assert item.title == "Dépôt sauvage"
    assert item.body == "Encombrants déposés au pied du parking Hôtel de Ville."
    assert item.location == (48.4468, 1.4877)
    assert item.extra == {
        "status": "open",
        "address": "Place des Halles, 28000 Chartres",
        "service_code": "PRO",
    }


def test_a_wrapped_json_list_is_read() -> None:
    data = b'{"service_requests": [{"service_request_id": "7", "service_name": "Tags"}]}'

    (item,) = open311.parse(data, ParseOptions())

    assert (item.external_id, item.title, item.location) == ("7", "Tags", None)


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        (b"", "malformed JSON"),
        (b'{"error": "service unavailable"}', "expected a list"),
        (b'"638344"', "expected a list"),
        (b"[" * 100_000, "nested too deeply"),
        (b'[{"service_request_id": ' + b"9" * 5000 + b"}]", "JSON number"),
        (b"<service_requests><request>", "malformed XML"),
        (b"<html><body>Erreur</body></html>", "expected <service_requests>"),
    ],
)
def test_unreadable_payloads_are_refused(junk: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        open311.parse(junk, ParseOptions())


ENTITY_XML = [
    b"""<?xml version="1.0"?>
<!DOCTYPE service_requests [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<service_requests><request><service_request_id>1</service_request_id>
<service_name>&b;</service_name></request></service_requests>""",
    b"""<?xml version="1.0"?>
<!DOCTYPE service_requests [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<service_requests><request><service_request_id>1</service_request_id>
<service_name>&x;</service_name></request></service_requests>""",
]


@pytest.mark.parametrize("hostile", ENTITY_XML)
def test_xml_entities_are_refused(hostile: bytes) -> None:
    with pytest.raises(FeedError, match="DOCTYPE"):
        open311.parse(hostile, ParseOptions())


@pytest.mark.parametrize(
    "name", ["open311-georeport-v2-requests-corrected.json", "open311-georeport-v2-requests.xml"]
)
def test_payload_over_the_limit_is_refused(name: str) -> None:
    data = payload(name)

    with pytest.raises(FeedError, match="too large"):
        open311.parse(data, ParseOptions(max_bytes=len(data) - 1))
    assert open311.parse(data, ParseOptions(max_bytes=len(data)))
