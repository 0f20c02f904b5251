"""The CAP 1.2 adapter: lone alerts, Atom feeds, MeteoAlarm JSON, the schema, and hostile XML."""

import codecs
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from city_feeds.adapters import cap
from city_feeds.adapters.registry import ADAPTERS
from city_feeds.items import Area, FeedError, Item, ItemKind, ParseOptions

DATA = Path(__file__).parent / "data"
OPTIONS = ParseOptions()  # French first
PARIS_SUMMER = dt.timezone(dt.timedelta(hours=2))
CHARTRES_ALERT = "FR-28-CHARTRES-2025-0614-001"


def _sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _one(items: list[Item]) -> Item:
    assert len(items) == 1, items
    return items[0]


def test_registry_maps_cap():
    assert ADAPTERS["cap"] is cap.parse


def test_the_schema_is_the_project_copy_of_the_oasis_xsd():
    assert cap._SCHEMA_PATH.is_file()
    shared = Path(__file__).resolve().parents[3] / "shared/samples/standards/CAP-v1.2.xsd"
    if shared.is_file():  # shared/ lies beside the checkout (CI's too)
        assert cap._SCHEMA_PATH.read_bytes() == shared.read_bytes()


# --- lone alerts -------------------------------------------------------------------------------


def test_chartres_alert_prefers_french_info_and_reads_its_area():
    item = _one(cap.parse(_sample("cap-chartres-orages.xml"), OPTIONS))
    assert item.kind is ItemKind.ALERT
    assert item.external_id == CHARTRES_ALERT
    assert item.title == "Orages violents sur Chartres"
    assert item.body == "Orages violents avec grêle et rafales jusqu'à 100 km/h en soirée."
    assert item.severity == "Severe"
    assert item.valid_from == dt.datetime(2025, 6, 14, 15, 30, tzinfo=PARIS_SUMMER)
    assert item.valid_until == dt.datetime(2025, 6, 15, 6, 0, tzinfo=PARIS_SUMMER)
    assert item.valid_until.utcoffset() == dt.timedelta(hours=2)
    assert item.extra["onset"] == "2025-06-14T17:00:00+02:00"
    facts = item.alert
    assert facts is not None
    assert (facts.identifier, facts.sender) == (CHARTRES_ALERT, "alertes.chartres@example.fr")
    assert facts.sent == dt.datetime(2025, 6, 14, 13, 30, tzinfo=dt.UTC)
    assert (facts.status, facts.msg_type) == ("Actual", "Alert")
    assert (facts.urgency, facts.certainty) == ("Immediate", "Likely")
    assert facts.event == "Orages violents"
    assert facts.language == "fr-FR"
    assert facts.instruction.startswith("Restez à l'abri")
    assert facts.references == ()
    assert facts.areas == (
        Area(
            description="Chartres et sa première couronne",
            geocodes=(("INSEE", "28085"), ("NUTS3", "FRB02")),
            polygons=(((48.47, 1.44), (48.47, 1.54), (48.42, 1.54), (48.42, 1.44), (48.47, 1.44)),),
            circles=(((48.4477, 1.4878), 5.0),),
        ),
    )
    assert item.location == (48.4477, 1.4878)  # the circle's centre


@pytest.mark.parametrize(
    "language, expected",
    [("en", "en-GB"), ("en-GB", "en-GB"), ("fr-FR", "fr-FR"), ("de", "en-GB"), ("", "en-GB")],
)
def test_other_languages_and_the_first_info_as_fallback(language, expected):
    item = _one(cap.parse(_sample("cap-chartres-orages.xml"), ParseOptions(language=language)))
    assert item.alert.language == expected


def test_exact_language_wins_over_a_regional_variant():
    alert = _sample("cap-chartres-orages.xml").replace(b"<language>en-GB", b"<language>fr-CA")
    alert = alert.replace(b"<language>fr-FR", b"<language>fr")
    item = _one(cap.parse(alert, OPTIONS))
    assert item.alert.language == "fr"
    assert item.title == "Orages violents sur Chartres"


def test_oasis_example_without_french_gives_the_first_info():
    item = _one(cap.parse(_sample("cap-1.2-example.xml"), OPTIONS))
    assert item.title == "Amber Alert in Los Angeles County"
    assert item.alert.language == "en-US"
    assert item.alert.areas[0].geocodes == (("SAME", "006037"),)
    assert item.alert.sent == dt.datetime(2003, 6, 12, 5, 39, tzinfo=dt.UTC)
    assert item.valid_from == item.alert.sent  # no <effective>: CAP says sent
    assert item.valid_until is None
    spanish = _one(cap.parse(_sample("cap-1.2-example.xml"), ParseOptions(language="es")))
    assert spanish.title == "Alerta Amber en el condado de Los Ángeles"


def test_update_references_the_alert_it_updates_and_closes_an_open_polygon():
    item = _one(cap.parse(_sample("cap-chartres-orages-update.xml"), OPTIONS))
    assert item.alert.msg_type == "Update"
    assert item.alert.references == (CHARTRES_ALERT,)
    assert item.severity == "Extreme"
    ring = item.alert.areas[0].polygons[0]
    assert ring[0] == ring[-1] == (48.47, 1.44)
    assert len(ring) == 5


def test_cancel_without_info_references_both_alerts():
    item = _one(cap.parse(_sample("cap-chartres-orages-cancel.xml"), OPTIONS))
    assert item.alert.msg_type == "Cancel"
    assert item.alert.references == (CHARTRES_ALERT, "FR-28-CHARTRES-2025-0614-002")
    assert item.title == "Fin de l'épisode orageux"
    assert item.alert.areas == ()


def test_test_messages_are_read_with_their_status():
    alert = _sample("cap-chartres-orages.xml").replace(b">Actual<", b">Test<")
    assert _one(cap.parse(alert, OPTIONS)).alert.status == "Test"


# --- the schema ---------------------------------------------------------------------------------


def test_alert_failing_the_schema_raises_with_the_reason():
    with pytest.raises(FeedError) as caught:
        cap.parse(_sample("cap-chartres-invalid-status.xml"), OPTIONS)
    message = str(caught.value)
    assert "CAP 1.2 schema" in message
    assert "'Real' is not an element of the set" in message


@pytest.mark.parametrize(
    "change, reason",
    [
        ((b"<sent>2025-06-14T15:30:00+02:00", b"<sent>2025-06-14T13:30:00Z"), "sent"),
        ((b"<identifier>FR-28-CHARTRES-2025-0614-001</identifier>", b""), "identifier"),
        ((b"<severity>Severe", b"<severity>Dangerous"), "severity"),
        ((b"<scope>Public</scope>", b"<scope>Public</scope><foo>bar</foo>"), "foo"),
    ],
)
def test_schema_violations_are_refused(change, reason):
    old, new = change
    alert = _sample("cap-chartres-orages.xml").replace(old, new, 1)
    with pytest.raises(FeedError, match=reason):
        cap.parse(alert, OPTIONS)


@pytest.mark.parametrize(
    "change, reason",
    [
        ((b"<circle>48.4477,1.4878 5", b"<circle>48.4477,1.4878 cinq"), "radius"),
        ((b"<circle>48.4477,1.4878 5", b"<circle>48.4477;1.4878 5"), "lat,lon"),
        ((b"<polygon>48.47,1.44", b"<polygon>148.47,1.44"), "out of range"),
        (
            (b"48.47,1.44 48.47,1.54 48.42,1.54 48.42,1.44 48.47,1.44", b"48.47,1.44 48.47,1.54"),
            "fewer than 3 distinct points",
        ),
    ],
)
def test_unreadable_areas_are_refused(change, reason):
    old, new = change
    alert = _sample("cap-chartres-orages.xml").replace(old, new, 1)
    with pytest.raises(FeedError, match=reason):
        cap.parse(alert, OPTIONS)


def test_malformed_references_are_refused():
    update = _sample("cap-chartres-orages-update.xml").replace(
        b"FR-28-CHARTRES-2025-0614-001,2025", b"FR-28-CHARTRES-2025-0614-001;2025"
    )
    with pytest.raises(FeedError, match="sender,identifier,sent"):
        cap.parse(update, OPTIONS)


# --- Atom ---------------------------------------------------------------------------------------


def test_atom_feed_gives_its_embedded_alerts_and_notes_linked_ones(caplog):
    data = _sample("atom-cap-chartres.xml")
    item = _one(cap.parse(data, OPTIONS))
    assert item.external_id == "FR-28-CHARTRES-2025-0614-010"
    assert item.title == "Crue de l'Eure dans la basse ville"
    assert item.alert.areas[0].circles == (((48.449, 1.492), 0.8),)
    linked = "https://alertes.example.fr/cap/FR-28-CHARTRES-2025-0614-011.xml"
    assert linked in caplog.text
    assert cap.linked_alerts(data, OPTIONS) == [linked]


def test_nws_atom_index_gives_no_item_but_its_links():
    data = _sample("atom-cap-index-excerpt.xml")
    assert cap.parse(data, OPTIONS) == []
    [link] = cap.linked_alerts(data, OPTIONS)
    assert link.startswith("https://alerts.weather.gov/cap/wwacapget.php?x=AK125AB652A170")


def test_atom_feed_skips_an_invalid_alert_but_keeps_the_valid_one():
    data = _sample("atom-cap-chartres.xml")
    entry_start = data.index(b"<entry>")
    entry_end = data.index(b"</entry>") + len(b"</entry>")
    bad_entry = data[entry_start:entry_end].replace(b">Moderate<", b">Terrible<")
    bad_entry = bad_entry.replace(b"0614-010", b"0614-012")
    data = data[:entry_start] + bad_entry + data[entry_start:]
    assert [i.external_id for i in cap.parse(data, OPTIONS)] == ["FR-28-CHARTRES-2025-0614-010"]


def test_atom_feed_whose_only_alert_is_invalid_raises():
    data = _sample("atom-cap-chartres.xml").replace(b">Moderate<", b">Terrible<")
    with pytest.raises(FeedError, match="Terrible"):
        cap.parse(data, OPTIONS)


# --- MeteoAlarm JSON ----------------------------------------------------------------------------


def test_meteoalarm_warning_is_validated_and_read():
    item = _one(cap.parse(_sample("meteoalarm-api-v1-warnings-excerpt.json"), OPTIONS))
    assert item.external_id == "2.49.0.0.191.0.HR.231225081742_0_yellow_HR004"
    assert item.title == "Žuto upozorenje za vjetar"  # no French: the first info
    assert item.severity == "Moderate"
    assert item.alert.areas == (
        Area(description="Gospic region", geocodes=(("EMMA_ID", "HR004"),)),
    )
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert item.valid_from == dt.datetime(2023, 12, 25, 8, 17, 42, tzinfo=plus_one)
    assert item.valid_until == dt.datetime(2023, 12, 26, 17, 0, tzinfo=plus_one)
    english = _one(
        cap.parse(_sample("meteoalarm-api-v1-warnings-excerpt.json"), ParseOptions(language="en"))
    )
    assert english.title == "Yellow wind warning"
    assert english.alert.instruction.startswith("STAY ALERT")


def _meteoalarm() -> dict:
    return json.loads(_sample("meteoalarm-api-v1-warnings-excerpt.json"))


def test_meteoalarm_alert_failing_the_schema_raises():
    document = _meteoalarm()
    document["warnings"][0]["alert"]["status"] = "Live"
    with pytest.raises(FeedError, match="'Live' is not an element"):
        cap.parse(json.dumps(document).encode(), OPTIONS)


@pytest.mark.parametrize(
    "mangle, reason",
    [
        (lambda d: d["warnings"][0]["alert"].__setitem__("info", "vent"), "info is not an object"),
        (lambda d: d["warnings"][0]["alert"].__setitem__("sender", {"x": 1}), "sender is not text"),
        (lambda d: d["warnings"][0].pop("alert"), "without an alert"),
        (lambda d: d.__setitem__("warnings", {"a": 1}), "without a warnings list"),
    ],
)
def test_meteoalarm_with_wrong_types_raises(mangle, reason):
    document = _meteoalarm()
    mangle(document)
    with pytest.raises(FeedError, match=reason):
        cap.parse(json.dumps(document).encode(), OPTIONS)


def test_malformed_json_raises():
    with pytest.raises(FeedError, match="malformed JSON"):
        cap.parse(b'{"warnings": [', OPTIONS)


# --- hostile XML --------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_doctype_and_entities_are_refused(payload):
    with pytest.raises(FeedError, match="DOCTYPE"):
        cap.parse(payload, OPTIONS)


def test_utf16_doctype_escaping_the_byte_check_is_still_refused():
    payload = codecs.BOM_UTF16_LE + BILLION_LAUGHS.replace(
        b'"1.0"?>', b'"1.0" encoding="UTF-16"?>', 1
    ).decode().encode("utf-16-le")
    assert b"<!DOCTYPE" not in payload.upper()
    with pytest.raises(FeedError, match="DOCTYPE"):
        cap.parse(payload, OPTIONS)


def test_oversized_payload_is_refused():
    padded = _sample("cap-chartres-orages.xml")
    with pytest.raises(FeedError, match="too large"):
        cap.parse(padded, ParseOptions(max_bytes=len(padded) - 1))
    assert cap.parse(padded, ParseOptions(max_bytes=len(padded)))


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"<alert><identifier>unclosed", "malformed XML"),
        (b"<rss version='2.0'><channel/></rss>", "not a CAP 1.2 alert"),
        (
            b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'><identifier>x</identifier></alert>",
            "not a CAP 1.2 alert",
        ),
    ],
)
def test_non_cap_documents_raise(payload, reason):
    with pytest.raises(FeedError, match=reason):
        cap.parse(payload, OPTIONS)


def test_validation_from_several_threads_keeps_each_reason():
    valid = _sample("cap-chartres-orages.xml")
    invalid = _sample("cap-chartres-invalid-status.xml")

    def outcome(payload: bytes) -> str:
        try:
            return _one(cap.parse(payload, OPTIONS)).external_id
        except FeedError as err:
            return str(err)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(outcome, [valid, invalid] * 20))
    assert results[0::2] == [CHARTRES_ALERT] * 20
    assert all("'Real' is not an element" in result for result in results[1::2])
