"""The news, events and transport adapters (RSS/Atom, iCalendar, GTFS-Realtime) on the shared
samples, on Chartres demo payloads and on malformed and hostile input."""

import datetime as dt
import time
from pathlib import Path

import pytest
from google.protobuf import text_format
from google.transit import gtfs_realtime_pb2

from city_feeds.adapters import gtfs_rt, icalendar, rss
from city_feeds.adapters.registry import ADAPTERS
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions, Value

DATA = Path(__file__).parent / "data"
UTC = dt.UTC

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>x</title>
<item><title>&lol3;</title><guid>1</guid></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title>
<item><title>&secret;</title><guid>1</guid></item></channel></rss>"""


def payload(name: str) -> bytes:
    return (DATA / name).read_bytes()


def by_id(items: list[Item]) -> dict[str, Item]:
    return {item.external_id: item for item in items}


def values(item: Item) -> dict[str, Value]:
    return {value.name: value for value in item.values}


def test_registry_names_the_feed_standards() -> None:
    assert ADAPTERS["rss"] is rss.parse
    assert ADAPTERS["icalendar"] is icalendar.parse
    assert ADAPTERS["gtfs-rt"] is gtfs_rt.parse


# RSS / Atom -------------------------------------------------------------------------------


def test_rss_items_carry_plain_text_and_published_time() -> None:
    items = rss.parse(payload("rss-chartres-actualites.xml"), ParseOptions())

    assert [item.external_id for item in items] == [
        "chartres-actu-2025-0113-epars",
        "https://www.chartres.example/actualites/chartres-en-lumieres-hiver",
    ]
    works = items[0]
    assert works.kind is ItemKind.NEWS
    assert works.title == "Travaux place des Épars : circulation modifiée"
    assert works.body == (
        "Du 20 au 31 janvier, la place des Épars est fermée à la circulation côté boulevard "
        "Chasles. Les bus Filibus sont déviés."
    )
    assert works.observed_at == dt.datetime(2025, 1, 13, 8, 30, tzinfo=UTC)
    assert works.extra == {
        "link": "https://www.chartres.example/actualites/travaux-place-des-epars"
    }
    assert items[1].body.endswith("la tombée de la nuit & jusqu'à 1 h.")


def test_atom_entries_use_their_id_and_unescaped_html() -> None:
    items = rss.parse(payload("atom-chartres-actualites.xml"), ParseOptions())

    first, second = items
    assert first.external_id == "urn:uuid:0f3c2a4e-8a57-4bcb-b0e3-6f1d9d4e1a01"
    assert first.title == "Marché de Noël : le parking Cathédrale gratuit le dimanche"
    assert first.body == "Le parking Cathédrale est gratuit le dimanche jusqu'au 26 janvier."
    assert first.observed_at == dt.datetime(2025, 1, 14, 6, 45, tzinfo=UTC)  # published
    assert second.observed_at == dt.datetime(2025, 1, 13, 16, 20, tzinfo=UTC)  # updated
    assert second.extra == {}  # its id is a URN, not a link


def test_rss_items_take_the_kind_the_source_gives() -> None:
    items = rss.parse(payload("rss-chartres-actualites.xml"), ParseOptions(item_kind="event"))

    assert {item.kind for item in items} == {ItemKind.EVENT}
    with pytest.raises(FeedError, match="unknown item kind"):
        rss.parse(payload("rss-chartres-actualites.xml"), ParseOptions(item_kind="gossip"))


def test_rss_drops_scripts_and_keeps_readable_text() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>g</guid>'
        b"<title>Tom &amp; Jerry &lt;i&gt;en ville&lt;/i&gt;</title>"
        b"<description>&lt;script&gt;steal()&lt;/script&gt;Bonjour &lt;b onclick=&quot;x()&quot;"
        b"&gt;Chartres&lt;/b&gt;</description></item></channel></rss>"
    )

    (item,) = rss.parse(feed, ParseOptions())

    assert item.title == "Tom & Jerry en ville"
    assert item.body == "Bonjour Chartres"


def test_rss_entries_without_identity_or_text_are_skipped() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>No id, no link</title></item>"
        b"<item><guid>empty</guid></item>"
        b"<item><guid>only-body</guid><description>Texte seul</description></item>"
        b"</channel></rss>"
    )

    items = rss.parse(feed, ParseOptions())

    assert [(item.external_id, item.title) for item in items] == [("only-body", "Texte seul")]


def test_rss_with_a_stray_ampersand_is_still_read() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Rock & Blues au Off</title><guid>1</guid></item></channel></rss>"
    )

    assert [item.title for item in rss.parse(feed, ParseOptions())] == ["Rock & Blues au Off"]


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_rss_refuses_entity_declarations(hostile: bytes) -> None:
    with pytest.raises(FeedError, match="entities"):
        rss.parse(hostile, ParseOptions())


def test_rss_never_reads_a_local_file_named_by_the_payload(tmp_path: Path) -> None:
    local = tmp_path / "feed.xml"
    local.write_bytes(payload("rss-chartres-actualites.xml"))

    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        rss.parse(str(local).encode(), ParseOptions())


@pytest.mark.parametrize(
    "junk",
    [b"", b'{"items": []}', b"<html><body><p>Bonjour</p></body></html>", b"\x00\xff\x00garbage"],
)
def test_rss_refuses_what_is_not_a_feed(junk: bytes) -> None:
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        rss.parse(junk, ParseOptions())


def test_rss_refuses_a_payload_over_the_limit() -> None:
    data = payload("rss-chartres-actualites.xml")

    with pytest.raises(FeedError, match="too large"):
        rss.parse(data, ParseOptions(max_bytes=len(data) - 1))
    assert rss.parse(data, ParseOptions(max_bytes=len(data)))


# iCalendar ---------------------------------------------------------------------------------

CHARTRES_NOW = dt.datetime(2025, 1, 13, tzinfo=UTC)


def test_icalendar_expands_recurrences_over_fourteen_days() -> None:
    items = icalendar.parse(
        payload("icalendar-chartres-agenda.ics"), ParseOptions(now=CHARTRES_NOW)
    )

    assert [item.external_id for item in items] == [
        "expo-lumiere@chartres.example@2025-01-14T23:00:00+00:00",
        "visite-cathedrale@chartres.example@2025-01-15T13:30:00+00:00",
        "visite-cathedrale@chartres.example@2025-01-22T13:30:00+00:00",
        "marche-billard@chartres.example@2025-01-25T06:00:00+00:00",
    ]  # market of the 18th excluded (EXDATE), concert cancelled, council past the window
    assert {item.kind for item in items} == {ItemKind.EVENT}
    tour = items[1]
    assert tour.title == "Visite guidée de la cathédrale"
    assert tour.body == "Les vitraux et le labyrinthe, avec un guide-conférencier."
    assert tour.extra == {"place": "Cathédrale Notre-Dame de Chartres"}
    assert tour.valid_from == dt.datetime(2025, 1, 15, 13, 30, tzinfo=UTC)  # 14:30 in Paris
    assert tour.valid_until == dt.datetime(2025, 1, 15, 15, 0, tzinfo=UTC)


def test_icalendar_moved_occurrence_keeps_its_id_and_takes_its_new_times() -> None:
    items = by_id(
        icalendar.parse(payload("icalendar-chartres-agenda.ics"), ParseOptions(now=CHARTRES_NOW))
    )

    market = items["marche-billard@chartres.example@2025-01-25T06:00:00+00:00"]
    assert market.title == "Marché de la place Billard (horaires décalés)"
    assert market.valid_from == dt.datetime(2025, 1, 25, 7, 0, tzinfo=UTC)  # 8:00 in Paris
    assert market.valid_until == dt.datetime(2025, 1, 25, 13, 0, tzinfo=UTC)
    assert market.extra["place"] == "Place Billard, Chartres"


def test_icalendar_all_day_event_spans_whole_days_in_paris() -> None:
    items = icalendar.parse(
        payload("icalendar-chartres-agenda.ics"), ParseOptions(now=CHARTRES_NOW)
    )

    expo = items[0]
    assert expo.title == "Exposition « Chartres, ville de lumière »"
    assert expo.valid_from == dt.datetime(2025, 1, 14, 23, 0, tzinfo=UTC)  # 15 Jan 00:00 Paris
    assert expo.valid_until == dt.datetime(2025, 1, 17, 23, 0, tzinfo=UTC)  # 18 Jan 00:00 Paris
    assert expo.location == (48.4493, 1.4869)
    assert expo.extra == {"place": "Collégiale Saint-André, Chartres", "all_day": "1"}


def test_icalendar_window_follows_now() -> None:
    later = icalendar.parse(
        payload("icalendar-chartres-agenda.ics"),
        ParseOptions(now=dt.datetime(2025, 2, 1, tzinfo=UTC)),
    )

    assert [(item.title, item.valid_from) for item in later] == [
        ("Marché de la place Billard", dt.datetime(2025, 2, 1, 6, 0, tzinfo=UTC)),
        ("Conseil municipal", dt.datetime(2025, 2, 6, 17, 30, tzinfo=UTC)),
        ("Marché de la place Billard", dt.datetime(2025, 2, 8, 6, 0, tzinfo=UTC)),
    ]  # the market of 15 Feb starts after the 14 days


def test_icalendar_sample_all_day_events_with_dtend_equal_to_dtstart_last_one_day() -> None:
    items = icalendar.parse(
        payload("icalendar-example.ics"),
        ParseOptions(now=dt.datetime(2021, 12, 31, 12, 0, tzinfo=UTC)),
    )

    new_year, christmas = items
    assert new_year.title == "New Year's Day"
    assert new_year.body == "Happy New Year!"
    assert new_year.external_id == "636a0cc1dbd5a1667894465@icalendar@2021-12-31T23:00:00+00:00"
    assert new_year.valid_from == dt.datetime(2021, 12, 31, 23, 0, tzinfo=UTC)
    assert new_year.valid_until == dt.datetime(2022, 1, 1, 23, 0, tzinfo=UTC)
    assert christmas.title == "Orthodox Christmas"
    assert christmas.extra == {"place": "Russia", "all_day": "1"}


def test_icalendar_sample_is_empty_outside_its_window() -> None:
    assert icalendar.parse(payload("icalendar-example.ics"), ParseOptions(now=CHARTRES_NOW)) == []


def calendar(*events: bytes) -> bytes:
    body = b"".join(b"BEGIN:VEVENT\r\n" + event + b"END:VEVENT\r\n" for event in events)
    return b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" + body + b"END:VCALENDAR\r\n"


def test_icalendar_floating_times_are_read_in_paris() -> None:
    data = calendar(b"UID:f\r\nSUMMARY:Bal\r\nDTSTART:20250114T200000\r\nDTEND:20250114T230000\r\n")

    (item,) = icalendar.parse(data, ParseOptions(now=CHARTRES_NOW))

    assert item.valid_from == dt.datetime(2025, 1, 14, 19, 0, tzinfo=UTC)
    assert item.valid_until == dt.datetime(2025, 1, 14, 22, 0, tzinfo=UTC)


def test_icalendar_skips_events_it_cannot_use_and_keeps_the_others() -> None:
    good = b"UID:ok\r\nSUMMARY:Lecture\r\nDTSTART:20250114T100000Z\r\n"
    data = calendar(
        b"SUMMARY:No uid\r\nDTSTART:20250114T100000Z\r\n",
        b"UID:no-summary\r\nDTSTART:20250114T100000Z\r\n",
        b"UID:no-start\r\nSUMMARY:No start\r\n",
        b"UID:bad-rule\r\nSUMMARY:Bad rule\r\nDTSTART:20250114T100000Z\r\nRRULE:FREQ=NEVER\r\n",
        good,
    )

    items = icalendar.parse(data, ParseOptions(now=CHARTRES_NOW))

    assert [item.external_id for item in items] == ["ok@2025-01-14T10:00:00+00:00"]


def test_icalendar_bounds_a_rule_that_repeats_every_second() -> None:
    data = calendar(b"UID:s\r\nSUMMARY:Spam\r\nDTSTART:20250113T000000Z\r\nRRULE:FREQ=SECONDLY\r\n")

    started = time.monotonic()
    items = icalendar.parse(data, ParseOptions(now=CHARTRES_NOW))

    assert len(items) == icalendar.MAX_OCCURRENCES
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    "junk",
    [b"", b'{"events": []}', b"BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n", b"\xff\xfe garbage"],
)
def test_icalendar_refuses_what_is_not_a_calendar(junk: bytes) -> None:
    with pytest.raises(FeedError, match="not an iCalendar document"):
        icalendar.parse(junk, ParseOptions(now=CHARTRES_NOW))


def test_icalendar_refuses_a_payload_over_the_limit() -> None:
    with pytest.raises(FeedError, match="too large"):
        icalendar.parse(payload("icalendar-chartres-agenda.ics"), ParseOptions(max_bytes=1000))


# GTFS-Realtime -----------------------------------------------------------------------------


def binary(name: str) -> bytes:
    """A text-format sample as the binary FeedMessage a real feed sends."""
    message = text_format.Parse((DATA / name).read_text(), gtfs_realtime_pb2.FeedMessage())
    return message.SerializeToString()


def test_gtfs_rt_alert_prefers_french_and_lists_what_it_affects() -> None:
    items = by_id(gtfs_rt.parse(binary("gtfs-rt-chartres.asciipb"), ParseOptions()))

    alert = items["alert:travaux-epars"]
    assert alert.kind is ItemKind.TRANSPORT
    assert alert.title == "Travaux place des Épars : ligne 4 déviée"
    assert alert.body == "L'arrêt Épars est déplacé boulevard Chasles, devant le Théâtre."
    assert alert.valid_from == dt.datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
    assert alert.valid_until == dt.datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
    assert alert.observed_at == dt.datetime(2025, 1, 13, 8, 0, tzinfo=UTC)
    assert alert.severity == "Moderate"
    assert alert.extra == {
        "active_periods": "2025-01-20T08:00:00+00:00/2025-01-31T23:00:00+00:00",
        "routes": "4",
        "stops": "EPARS",
        "cause": "CONSTRUCTION",
        "effect": "DETOUR",
    }


def test_gtfs_rt_alert_follows_the_language_asked_for() -> None:
    items = by_id(gtfs_rt.parse(binary("gtfs-rt-chartres.asciipb"), ParseOptions(language="en")))

    assert items["alert:travaux-epars"].title == "Works at Place des Épars: line 4 diverted"


def test_gtfs_rt_trip_updates_are_summarised_per_route() -> None:
    items = by_id(gtfs_rt.parse(binary("gtfs-rt-chartres.asciipb"), ParseOptions()))

    assert set(items) == {"alert:travaux-epars", "delays:1", "delays:2"}  # deleted one skipped
    line_1 = items["delays:1"]
    assert line_1.title == "1"
    assert values(line_1) == {
        "trips": Value("trips", 2),
        "cancelled_trips": Value("cancelled_trips", 0),
        "mean_delay": Value("mean_delay", 210, "s"),  # 120 s (first stop update) and 300 s
        "max_delay": Value("max_delay", 300, "s"),
    }
    assert line_1.extra["trips"] == "1-0805,1-0820"
    line_2 = values(items["delays:2"])
    assert line_2["cancelled_trips"].value == 1
    assert line_2["mean_delay"].value == -30  # the trip's own delay wins over its stop's


def test_gtfs_rt_shared_alert_sample() -> None:
    (alert,) = gtfs_rt.parse(binary("gtfs-rt-alerts.asciipb"), ParseOptions())

    assert alert.external_id == "alert:0"
    assert alert.title == "Stop at Elm street is closed, temporary stop at Oak street"
    assert alert.body.startswith("Due to construction at Elm street the stop is closed.")
    assert alert.valid_from == dt.datetime.fromtimestamp(1284457468, tz=UTC)
    assert alert.valid_until == dt.datetime.fromtimestamp(1284468072, tz=UTC)
    assert alert.extra["routes"] == "219,100"
    assert alert.extra["stops"] == "16230,16299"
    assert alert.extra["url"] == "http://www.sometransitagency/alerts"
    assert alert.severity == ""


def test_gtfs_rt_shared_trip_updates_sample() -> None:
    items = by_id(gtfs_rt.parse(binary("gtfs-rt-trip-updates-full.asciipb"), ParseOptions()))

    # No route ids in the sample: each trip stands for its own route.
    assert values(items["delays:trip-1"])["max_delay"] == Value("max_delay", 5, "s")
    assert values(items["delays:frequency-expanded-trip"])["mean_delay"].value == -2


def test_gtfs_rt_open_ended_alert_has_no_end() -> None:
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    entity = message.entity.add(id="a")
    entity.alert.active_period.add(start=1736755200)
    entity.alert.active_period.add(start=1736841600, end=1736845200)
    entity.alert.description_text.translation.add(text="Ligne 3 : arrêt Gare non desservi")
    entity = message.entity.add(id="silent")
    entity.alert.cause = gtfs_realtime_pb2.Alert.STRIKE

    (item,) = gtfs_rt.parse(message.SerializeToString(), ParseOptions())

    assert item.title == "Ligne 3 : arrêt Gare non desservi"
    assert item.body == ""
    assert item.valid_from == dt.datetime(2025, 1, 13, 8, 0, tzinfo=UTC)
    assert item.valid_until is None


@pytest.mark.parametrize(
    "junk",
    [b"", b"\xff\xff\xff\xff", b'{"header": {"gtfs_realtime_version": "2.0"}}'],
)
def test_gtfs_rt_refuses_what_is_not_a_feed_message(junk: bytes) -> None:
    with pytest.raises(FeedError, match="not a GTFS-Realtime FeedMessage"):
        gtfs_rt.parse(junk, ParseOptions())


def test_gtfs_rt_refuses_the_text_format() -> None:
    with pytest.raises(FeedError, match="not a GTFS-Realtime FeedMessage"):
        gtfs_rt.parse(payload("gtfs-rt-alerts.asciipb"), ParseOptions())


def test_gtfs_rt_refuses_a_payload_over_the_limit() -> None:
    data = binary("gtfs-rt-chartres.asciipb")

    with pytest.raises(FeedError, match="too large"):
        gtfs_rt.parse(data, ParseOptions(max_bytes=len(data) - 1))
