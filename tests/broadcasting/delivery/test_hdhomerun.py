"""HDHomeRun emulation: the shapes Plex, Jellyfin and Emby read from a network tuner."""

import hashlib
import re
import stat
from pathlib import Path

import pytest
from django.test import Client
from django.urls import resolve
from lxml import etree

from broadcasting.delivery import hdhomerun
from playlists.models import Channel

pytestmark = pytest.mark.django_db
BASE = "http://127.0.0.1:8000"
UPNP = {"u": hdhomerun.UPNP_DEVICE_NS}
DISCOVER_TYPES = {
    "FriendlyName": str,
    "Manufacturer": str,
    "ModelNumber": str,
    "FirmwareName": str,
    "FirmwareVersion": str,
    "DeviceID": str,
    "DeviceAuth": str,
    "BaseURL": str,
    "LineupURL": str,
    "TunerCount": int,
}


@pytest.fixture(autouse=True)
def _device_file(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The tuner's random id is kept under this test's folder, not the installation's var/."""
    settings.CARILLON_HDHOMERUN_DEVICE_FILE = tmp_path / "hdhomerun-device-id"


@pytest.fixture
def channel() -> Channel:
    return Channel.objects.select_related("channel_format").get(slug="carillon-chartres")


def test_discover_has_the_fields_and_types_media_servers_read(client: Client) -> None:
    response = client.get("/discover.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert {key: type(value) for key, value in body.items()} == DISCOVER_TYPES
    assert body["FriendlyName"] == "Carillon"
    assert body["ModelNumber"] == "HDTC-2US" and body["FirmwareName"] == "hdhomeruntc_atsc"
    assert re.fullmatch(r"[0-9A-F]{8}", body["DeviceID"])
    assert body["BaseURL"] == BASE and body["LineupURL"] == f"{BASE}/lineup.json"
    assert resolve("/lineup.json").url_name == "hdhomerun-lineup"
    assert body["TunerCount"] >= 1
    assert client.get("/discover.json").json() == body  # stable


def test_the_device_id_is_random_kept_private_and_owes_nothing_to_the_secret_key(
    client: Client, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Published ids derived from the secret key told anyone whether a site ran the default
    key: the tuner has a random id of its own, made once and kept (mode 0600)."""
    first = client.get("/discover.json").json()
    kept = tmp_path / "hdhomerun-device-id"
    assert kept.read_text().strip() == first["DeviceID"]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    second = client.get("/discover.json").json()
    assert second == first  # a new secret key does not make Plex pair again
    for secret in ("another-secret-key-for-this-test", "carillon-tests-only"):
        derived = hashlib.sha256(f"carillon-hdhomerun:{secret}".encode()).hexdigest()
        assert first["DeviceID"] != derived[:8].upper()  # as earlier versions derived it
    settings.CARILLON_HDHOMERUN_DEVICE_FILE = tmp_path / "another-installation"
    assert client.get("/discover.json").json()["DeviceID"] != first["DeviceID"]
    settings.CARILLON_HDHOMERUN_DEVICE_ID = "1234ABCD"
    assert client.get("/discover.json").json()["DeviceID"] == "1234ABCD"


def test_lineup_lists_active_channels_with_their_ts_streams(
    channel: Channel, client: Client
) -> None:
    Channel.objects.create(
        name="Beauce « Été » & co", slug="beauce", number=12,
        channel_format=channel.channel_format,
    )  # fmt: skip
    Channel.objects.create(
        name="Hors antenne", slug="off", number=9, channel_format=channel.channel_format,
        is_active=False,
    )  # fmt: skip
    response = client.get("/lineup.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    lineup = response.json()
    assert isinstance(lineup, list)
    assert [entry["GuideNumber"] for entry in lineup] == [str(channel.number), "12"]
    for entry in lineup:
        assert isinstance(entry["GuideNumber"], str) and isinstance(entry["GuideName"], str)
        assert entry["HD"] == 1 and isinstance(entry["URL"], str)
    assert lineup[0]["GuideName"] == channel.name
    assert lineup[0]["URL"] == f"{BASE}/live/carillon-chartres/stream.ts"
    assert lineup[1]["GuideName"] == "Beauce « Été » & co"
    assert lineup[1]["URL"] == f"{BASE}/live/beauce/stream.ts"


def test_lineup_status_is_an_idle_cable_tuner(client: Client) -> None:
    response = client.get("/lineup_status.json")
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "ScanInProgress": 0,
        "ScanPossible": 1,
        "Source": "Cable",
        "SourceList": ["Cable"],
    }


def test_device_xml_is_a_upnp_media_server_description(client: Client) -> None:
    response = client.get("/device.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{hdhomerun.UPNP_DEVICE_NS}}}root"
    assert root.findtext("u:specVersion/u:major", namespaces=UPNP) == "1"
    assert root.findtext("u:URLBase", namespaces=UPNP) == BASE
    device = root.find("u:device", UPNP)
    assert device is not None
    text = {child.tag.split("}")[1]: child.text for child in device}
    assert text["deviceType"] == "urn:schemas-upnp-org:device:MediaServer:1"
    assert text["friendlyName"] == "Carillon"
    assert text["manufacturer"] and text["modelName"]
    discover = client.get("/discover.json").json()
    assert text["serialNumber"] == discover["DeviceID"]
    assert re.fullmatch(r"uuid:[0-9a-f-]{36}", text["UDN"] or "")
    assert client.get("/device.xml").content == response.content  # stable


def test_pure_lineup_types() -> None:
    entries = hdhomerun.lineup(
        [hdhomerun.LineupChannel(number=3, name="Trois", stream_url=f"{BASE}/live/t/stream.ts")]
    )
    assert entries == [
        {
            "GuideNumber": "3",
            "GuideName": "Trois",
            "VideoCodec": "H264",
            "AudioCodec": "AAC",
            "URL": f"{BASE}/live/t/stream.ts",
            "HD": 1,
        }
    ]
