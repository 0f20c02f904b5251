"""The DATEX II v3 adapter: DiaLog traffic regulations, Chartres situations, hostile XML."""

import datetime as dt
from pathlib import Path

import pytest

from city_feeds.adapters import datex2
from city_feeds.adapters.registry import ADAPTERS
from city_feeds.items import FeedError, ItemKind, ParseOptions

DATA = Path(__file__).parent / "data"
OPTIONS = ParseOptions()
PARIS_SUMMER = dt.timezone(dt.timedelta(hours=2))


def _sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_registry_maps_datex2():
    assert ADAPTERS["datex2"] is datex2.parse


# --- DiaLog traffic regulations ----------------------------------------------------------------


def test_dialog_regulation_gives_one_traffic_item_with_period_and_line():
    [item] = datex2.parse(_sample("datex2-v3-TrafficRegulationPublication.xml"), OPTIONS)
    assert item.kind is ItemKind.TRAFFIC
    assert item.external_id == "T-SN2022-05-154#1"
    assert item.title == (
        "Arrêté temporaire portant réglementation de la circulation sur : "
        "Routes Départementales N° 3-93, Voie communautaire de la Colleraye"
    )
    assert item.body == "Commune de Savenay"
    assert item.valid_from == dt.datetime(2022, 5, 10, 9, 0, tzinfo=dt.UTC)
    assert item.valid_until == dt.datetime(2022, 6, 10, 16, 30, tzinfo=dt.UTC)
    # posList is "lat lon": Savenay, Loire-Atlantique, not the Gulf of Guinea.
    assert item.location == pytest.approx((47.3684825, -1.9424565))
    assert item.extra["line"] == "47.366334,-1.944703 47.370631,-1.94021"
    assert item.extra["regulation_type"] == "AccessRestriction"
    assert item.extra["restriction"] == "noEntry"
    assert item.extra["except"] == "saturday sunday publicHoliday"
    assert item.extra["order_status"] == "madeAndImplemented"


def test_inactive_regulation_is_skipped():
    data = _sample("datex2-v3-TrafficRegulationPublication.xml").replace(
        b"<status>active</status>", b"<status>inactive</status>"
    )
    assert datex2.parse(data, OPTIONS) == []


def test_regulation_with_unreadable_line_is_skipped(caplog):
    data = _sample("datex2-v3-TrafficRegulationPublication.xml").replace(
        b"47.366334 -1.944703 47.370631 -1.94021", b"47.366334 -1.944703 47.370631"
    )
    assert datex2.parse(data, OPTIONS) == []
    assert "posList is not lat lon pairs" in caplog.text


# --- situations --------------------------------------------------------------------------------


def test_chartres_situation_gives_roadworks_and_closure_and_skips_a_bad_record(caplog):
    works, closure = datex2.parse(_sample("datex2-v3-situation-chartres.xml"), OPTIONS)
    assert works.kind is closure.kind is ItemKind.TRAFFIC
    assert works.external_id == "CHARTRES-SIT-2025-117-1"
    assert works.title == "Boulevard Chasles"
    assert works.body == "Travaux de voirie : circulation alternée."  # French preferred
    assert works.severity == "Moderate"
    assert works.valid_from == dt.datetime(2025, 6, 16, 7, 30, tzinfo=PARIS_SUMMER)
    assert works.valid_until == dt.datetime(2025, 6, 27, 17, 0, tzinfo=PARIS_SUMMER)
    assert works.observed_at == dt.datetime(2025, 6, 13, 17, 30, tzinfo=PARIS_SUMMER)
    assert works.location == pytest.approx((48.44415, 1.48545))
    assert works.extra["record_type"] == "MaintenanceWorks"
    assert works.extra["roadMaintenanceType"] == "roadworks"

    assert closure.external_id == "CHARTRES-SIT-2025-117-2"
    assert closure.title == "Rue fermée la nuit, déviation par la rue Saint-Michel."
    assert closure.location == (48.4461, 1.4847)
    assert closure.severity == "Moderate"  # the situation's overall severity
    assert closure.extra["roadOrCarriagewayOrLaneManagementType"] == "roadClosed"
    assert closure.valid_until == dt.datetime(2025, 6, 17, 4, 0, tzinfo=dt.UTC)

    assert "CHARTRES-SIT-2025-117-3" in caplog.text  # "hier soir" is no time
    assert "not a date-time" in caplog.text


def test_situation_in_english_when_asked():
    works, _ = datex2.parse(
        _sample("datex2-v3-situation-chartres.xml"), ParseOptions(language="en")
    )
    assert works.body == "Roadworks: single-lane traffic."


def test_message_container_of_payloads_is_read():
    payload = _sample("datex2-v3-situation-chartres.xml").split(b"?>", 1)[1]
    payload = payload.replace(b"<d2:payload", b"<con:payload", 1).replace(
        b"</d2:payload>", b"</con:payload>"
    )
    payload = payload.replace(
        b'xmlns:d2="http://datex2.eu/schema/3/d2Payload"',
        b'xmlns:d2="http://datex2.eu/schema/3/d2Payload" '
        b'xmlns:con="http://datex2.eu/schema/3/messageContainer"',
    )
    container = (
        b'<con:messageContainer xmlns:con="http://datex2.eu/schema/3/messageContainer">'
        + payload
        + b"</con:messageContainer>"
    )
    assert len(datex2.parse(container, OPTIONS)) == 2


# --- malformed and hostile input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"<d2:payload xmlns:d2='http://datex2.eu/schema/3/d2Payload'>", "malformed XML"),
        (
            b"<d2LogicalModel xmlns='http://datex2.eu/schema/2/2_0' modelBaseVersion='2'/>",
            "not a DATEX II v3 payload",
        ),
        (b'{"situation": []}', "malformed XML"),
        (
            b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<p>&b;</p>""",
            "DOCTYPE",
        ),
        (
            b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><p>&xxe;</p>""",
            "DOCTYPE",
        ),
    ],
)
def test_unreadable_payloads_raise_feed_error(payload, reason):
    with pytest.raises(FeedError, match=reason):
        datex2.parse(payload, OPTIONS)


def test_oversized_payload_is_refused():
    data = _sample("datex2-v3-situation-chartres.xml")
    with pytest.raises(FeedError, match="too large"):
        datex2.parse(data, ParseOptions(max_bytes=len(data) // 2))


def test_unknown_publication_type_gives_nothing():
    data = _sample("datex2-v3-situation-chartres.xml").replace(
        b'xsi:type="sit:SituationPublication"', b'xsi:type="sit:ElaboratedDataPublication"'
    )
    assert datex2.parse(data, OPTIONS) == []
