"""IPTV lists: the M3U read by an independent parser, the XMLTV guide valid against the DTD,
matching the built schedule, with explicit local offsets on both sides of a DST change."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import m3u8
import pytest
from django.core.cache import cache
from django.test import Client
from lxml import etree
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

from broadcasting.delivery import iptv
from playlists.models import Block, Channel, Rotation
from playlists.selectors import guide, guide_window
from playlists.services import schedule_rebuild
from tests.factories import ReadyAssetFactory
from tests.support import ROOT

# ../shared beside the project (CI lays it there); the workplace's copy otherwise.
DTD_PATH = next(
    path
    for path in (
        ROOT.parent / "shared" / "samples" / "standards" / "xmltv.dtd",
        Path("/work/shared/samples/standards/xmltv.dtd"),
    )
    if path.exists()
)
BASE = "http://127.0.0.1:8000"
WINTER = dt.datetime(2026, 12, 1, 9, 0, 7, tzinfo=dt.UTC)
PARIS = "Europe/Paris"
TRICKY = 'Chartres & Beauce <en direct> "Été" à l’œuvre'

EXTINF = re.compile(
    r'^#EXTINF:-1 tvg-id="(?P<id>[^"]*)" tvg-chno="(?P<chno>\d+)" tvg-name="(?P<name>[^"]*)"'
    r' tvg-logo="(?P<logo>[^"]*)" group-title="(?P<group>[^"]*)",(?P<title>[^\n]+)$'
)
HEADER = re.compile(r'^#EXTM3U url-tvg="(?P<epg>[^"]+)" x-tvg-url="(?P<x_epg>[^"]+)"$')


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """The guide is cached per timeline version: a test must not read an earlier one's (the
    tests freeze the clock, so versions of two tests may look alike)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(db: None) -> Channel:
    channel = Channel.objects.select_related("channel_format").get(slug="carillon-chartres")
    rotation = Rotation.objects.create(name="Culture", categories=["culture"], no_repeat_hours=1)
    Block.objects.create(
        channel=channel, name="Journée", start=dt.time(0, 0), end=dt.time(0, 0), rotation=rotation
    )
    return channel


@pytest.fixture
def dtd() -> etree.DTD:
    return etree.DTD(str(DTD_PATH))


def parse_m3u(text: str) -> list[dict[str, str]]:
    """A strict reading of the extended M3U: header, then EXTINF and URL pairs, nothing else."""
    lines = text.splitlines()
    header = HEADER.match(lines[0])
    assert header is not None, lines[0]
    assert header["epg"] == header["x_epg"]
    assert len(lines) % 2 == 1
    entries = []
    for info, url in zip(lines[1::2], lines[2::2], strict=True):
        match = EXTINF.match(info)
        assert match is not None, info
        assert re.fullmatch(r"https?://\S+", url), url
        entries.append({**match.groupdict(), "url": url, "epg": header["epg"]})
    return entries


def m3u8_view(text: str) -> m3u8.M3U8:
    """The ``m3u8`` package cannot read IPTV attributes: give it the bare EXTINF lines."""
    return m3u8.loads(re.sub(r"^#EXTINF:-1 [^,\n]*,", "#EXTINF:-1,", text, flags=re.MULTILINE))


def parse_xmltv(body: bytes, dtd: etree.DTD) -> etree._Element:
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    return root


def test_m3u_lists_the_active_channels_for_an_independent_parser(
    channel: Channel, client: Client
) -> None:
    logo = get_image_model().objects.create(title="Logo", file=get_test_image_file())
    Channel.objects.create(
        name=TRICKY, slug="beauce", number=7, group_title="Eure-et-Loir",
        channel_format=channel.channel_format, logo=logo,
    )  # fmt: skip
    Channel.objects.create(
        name="Hors antenne", slug="off", number=9, channel_format=channel.channel_format,
        is_active=False,
    )  # fmt: skip
    response = client.get("/iptv/channels.m3u")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/x-mpegurl; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    text = response.content.decode()
    entries = parse_m3u(text)
    assert [e["id"] for e in entries] == ["carillon-chartres.carillon", "beauce.carillon"]
    first, second = entries
    assert first["epg"] == f"{BASE}/iptv/epg.xml"
    assert first["chno"] == str(channel.number) and first["name"] == channel.name
    assert first["title"] == channel.name and first["logo"] == ""
    assert first["group"] == channel.group_title
    assert first["url"] == f"{BASE}/live/carillon-chartres/master.m3u8"
    assert second["name"] == TRICKY.replace('"', "'") and second["title"] == TRICKY
    assert second["logo"].startswith(f"{BASE}/") and second["logo"].endswith(".png")
    assert second["group"] == "Eure-et-Loir" and second["chno"] == "7"
    parsed = m3u8_view(text)
    assert [(s.duration, s.title, s.uri) for s in parsed.segments] == [
        (-1, e["title"], e["url"]) for e in entries
    ]


def test_m3u_renderer_keeps_each_entry_on_one_line() -> None:
    listing = iptv.ChannelListing(
        tvg_id="x.carillon", number=3, name="Ligne\nbrisée", group='Le "groupe"',
        logo_url="", stream_url=f"{BASE}/live/x/master.m3u8", page_url="", time_zone=PARIS,
    )  # fmt: skip
    entry = parse_m3u(iptv.channels_m3u([listing], epg_url=f"{BASE}/iptv/epg.xml"))[0]
    assert entry["title"] == "Ligne brisée" and entry["group"] == "Le 'groupe'"


def test_epg_is_valid_xmltv_and_matches_the_built_schedule(
    channel: Channel, client: Client, dtd: etree.DTD
) -> None:
    ReadyAssetFactory.create_batch(5, poster="posters/p.jpg", description=f"Avec {TRICKY}")
    schedule_rebuild(channel=channel, now=WINTER)
    response = client.get(
        "/iptv/epg.xml", {"from": "2026-12-01T10:00:00+01:00", "to": "2026-12-01T16:00:00+01:00"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    root = parse_xmltv(response.content, dtd)
    assert root.get("generator-info-name") == "Carillon"
    assert root.get("source-info-name") == BASE
    (element,) = root.findall("channel")
    assert element.get("id") == "carillon-chartres.carillon"
    assert element.findtext("display-name") == channel.name
    assert element.find("display-name").get("lang") == "fr"  # type: ignore[union-attr]
    assert element.find("icon") is None  # no logo
    entries = guide(
        channel=channel,
        start=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC),
    )
    programmes = root.findall("programme")
    assert len(programmes) == len(entries) > 1
    for programme, entry in zip(programmes, entries, strict=True):
        assert programme.get("channel") == "carillon-chartres.carillon"
        assert programme.get("start") == entry.start.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%Y%m%d%H%M%S +0100")  # fmt: skip
        assert programme.get("stop") == entry.stop.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%Y%m%d%H%M%S +0100")  # fmt: skip
        assert programme.findtext("title") == entry.title
        assert programme.find("title").get("lang") == "fr"  # type: ignore[union-attr]
        if entry.kind == "programme":
            assert programme.findtext("desc") == entry.description == f"Avec {TRICKY}"
            assert programme.findtext("category") == entry.category
            assert programme.find("icon").get("src") == f"{BASE}{entry.poster_url}"  # type: ignore[union-attr]
    assert any(e.kind == "programme" for e in entries)


def test_epg_offsets_follow_the_dst_change(
    channel: Channel, client: Client, dtd: etree.DTD
) -> None:
    ReadyAssetFactory.create_batch(6)
    schedule_rebuild(channel=channel, now=dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC))
    response = client.get(
        "/iptv/epg.xml", {"from": "2026-10-24T23:00:00+00:00", "to": "2026-10-25T03:00:00+00:00"}
    )
    root = parse_xmltv(response.content, dtd)
    seen = set()
    for programme in root.findall("programme"):
        for attribute in ("start", "stop"):
            value = programme.get(attribute)
            assert value is not None
            local = dt.datetime.strptime(value, "%Y%m%d%H%M%S %z")
            switch = dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC)
            assert value.endswith(" +0200" if local < switch else " +0100"), value
            seen.add(value[-5:])
    assert seen == {"+0200", "+0100"}


def test_epg_title_escaping_and_element_order(dtd: etree.DTD) -> None:
    listing = iptv.ChannelListing(
        tvg_id="x.carillon", number=1, name=TRICKY, group="g",
        logo_url=f"{BASE}/logo.png?a=1&b=2", stream_url=f"{BASE}/live/x/master.m3u8",
        page_url=f"{BASE}/tv/", time_zone=PARIS,
    )  # fmt: skip
    summer = iptv.ProgrammeListing(
        start=dt.datetime(2026, 7, 14, 20, tzinfo=dt.UTC),
        stop=dt.datetime(2026, 7, 14, 21, 30, tzinfo=dt.UTC),
        title=TRICKY, sub_title="Épisode <1>", description="Feu d’artifice & bal\x07",
        category="Événements", icon_url=f"{BASE}/p.jpg?x=1&y=2",
    )  # fmt: skip
    body = iptv.xmltv([listing], {"x.carillon": [summer]}, generator="Carillon")
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = parse_xmltv(body, dtd)
    channel = root.find("channel")
    assert channel is not None
    assert [child.tag for child in channel] == ["display-name", "icon", "url"]
    assert channel.find("icon").get("src") == f"{BASE}/logo.png?a=1&b=2"  # type: ignore[union-attr]
    programme = root.find("programme")
    assert programme is not None
    assert [child.tag for child in programme] == ["title", "sub-title", "desc", "category", "icon"]
    assert all(child.get("lang") == "fr" for child in programme if child.tag != "icon")
    assert programme.findtext("title") == TRICKY
    assert programme.findtext("desc") == "Feu d’artifice & bal"
    assert (programme.get("start"), programme.get("stop")) == (
        "20260714220000 +0200",
        "20260714233000 +0200",
    )


def test_epg_default_window_and_bad_ranges(
    channel: Channel, client: Client, dtd: etree.DTD, monkeypatch: pytest.MonkeyPatch
) -> None:
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=WINTER)
    monkeypatch.setattr("django.utils.timezone.now", lambda: WINTER)
    root = parse_xmltv(client.get("/iptv/epg.xml").content, dtd)
    programmes = root.findall("programme")
    # IPTV apps and Plex expect a week: from 2 hours ago to the coming 7 days, on the cache grid.
    start, end = guide_window(WINTER - dt.timedelta(hours=2), WINTER + dt.timedelta(days=7))
    expected = guide(channel=channel, start=start, end=end)
    assert len(programmes) == len(expected)
    stops = [dt.datetime.strptime(p.get("stop", ""), "%Y%m%d%H%M%S %z") for p in programmes]
    assert max(stops) >= WINTER + dt.timedelta(days=7)
    assert client.get("/iptv/epg.xml", {"from": "hier"}).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"from": "9999-12-31T23:00:00"},
        {"from": "0001-01-01T00:00:00"},
        {"from": "2026-12-01T10:00", "to": "9999-12-31T23:59:59+00:00"},
    ],
)
def test_epg_refuses_the_ends_of_the_calendar(
    channel: Channel, client: Client, query: dict[str, str]
) -> None:
    response = client.get("/iptv/epg.xml", query)
    assert response.status_code == 400
    assert "between" in response.json()["error"]


def test_a_second_epg_request_is_served_from_the_cache_until_a_new_version(
    channel: Channel, client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    ReadyAssetFactory.create_batch(5)
    schedule_rebuild(channel=channel, now=WINTER, hours=24)
    query = {"from": "2026-12-01T10:00:00+01:00", "to": "2026-12-01T16:00:00+01:00"}
    with mock.patch("broadcasting.delivery.views_iptv.guide", wraps=guide) as computed:
        first = client.get("/iptv/epg.xml", query)
        with django_assert_max_num_queries(2) as queries:  # the channels, their latest versions
            second = client.get("/iptv/epg.xml", query)
        assert computed.call_count == 1
        assert not any("playlists_scheduleditem" in q["sql"] for q in queries.captured_queries)
        assert second.status_code == 200 and second.content == first.content
        schedule_rebuild(channel=channel, now=WINTER + dt.timedelta(minutes=30), hours=24)
        client.get("/iptv/epg.xml", query)
        assert computed.call_count == 2
