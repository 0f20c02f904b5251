"""HDHomeRun emulation: what Plex, Jellyfin and Emby read to add Carillon as a network tuner.

Pure functions of their inputs; ``broadcasting.delivery.views_iptv`` serves them as
``/discover.json``, ``/lineup.json``, ``/lineup_status.json`` and ``/device.xml``.

Field names follow SiliconDust's HTTP API as the media servers parse it (Jellyfin reads
``LineupURL`` from ``/discover.json``, then ``GuideNumber``, ``GuideName``, ``URL``,
``VideoCodec``, ``AudioCodec``, ``HD``, ``DRM`` and ``Favorite`` from each lineup entry).
"""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

FRIENDLY_NAME = "Carillon"
MANUFACTURER = "Silicondust"
MODEL_NUMBER = "HDTC-2US"
MODEL_NAME = "HDHomeRun EXTEND"
FIRMWARE_NAME = "hdhomeruntc_atsc"
FIRMWARE_VERSION = "20150826"
UPNP_DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
MEDIA_SERVER_TYPE = "urn:schemas-upnp-org:device:MediaServer:1"


@dataclass(frozen=True)
class Device:
    """The emulated tuner's identity."""

    device_id: str  # 8 upper-case hex digits
    base_url: str  # absolute, no trailing slash
    tuner_count: int


@dataclass(frozen=True)
class LineupChannel:
    """One channel of the tuner's lineup."""

    number: int
    name: str
    stream_url: str  # absolute continuous MPEG-TS URL


def device_auth(device: Device) -> str:
    """A stable opaque ``DeviceAuth`` token for the device. It is published with the device id,
    so it owes nothing to a secret: the device id itself is random (``config.secret_files``)."""
    return hashlib.sha256(f"carillon-hdhomerun-auth:{device.device_id}".encode()).hexdigest()[:24]


def device_uuid(device: Device) -> str:
    """The UPnP unique device name, stable for a device id."""
    return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'carillon-hdhomerun:{device.device_id}')}"


def discover(device: Device, *, auth: str) -> dict[str, object]:
    """The ``/discover.json`` body."""
    return {
        "FriendlyName": FRIENDLY_NAME,
        "Manufacturer": MANUFACTURER,
        "ModelNumber": MODEL_NUMBER,
        "FirmwareName": FIRMWARE_NAME,
        "FirmwareVersion": FIRMWARE_VERSION,
        "DeviceID": device.device_id,
        "DeviceAuth": auth,
        "BaseURL": device.base_url,
        "LineupURL": f"{device.base_url}/lineup.json",
        "TunerCount": device.tuner_count,
    }


def lineup(channels: Sequence[LineupChannel]) -> list[dict[str, object]]:
    """The ``/lineup.json`` body: one entry per channel, by channel number."""
    return [
        {
            "GuideNumber": str(channel.number),
            "GuideName": channel.name,
            "VideoCodec": "H264",
            "AudioCodec": "AAC",
            "URL": channel.stream_url,
            "HD": 1,
        }
        for channel in channels
    ]


def lineup_status() -> dict[str, object]:
    """The ``/lineup_status.json`` body: a cable tuner that is never scanning."""
    return {"ScanInProgress": 0, "ScanPossible": 1, "Source": "Cable", "SourceList": ["Cable"]}


def device_xml(device: Device) -> str:
    """The UPnP root device description served at ``/device.xml``."""
    root = etree.Element("root", nsmap={None: UPNP_DEVICE_NS})
    spec = etree.SubElement(root, "specVersion")
    _child(spec, "major", "1")
    _child(spec, "minor", "0")
    _child(root, "URLBase", device.base_url)
    node = etree.SubElement(root, "device")
    for tag, text in (
        ("deviceType", MEDIA_SERVER_TYPE),
        ("friendlyName", FRIENDLY_NAME),
        ("manufacturer", MANUFACTURER),
        ("modelName", MODEL_NAME),
        ("modelNumber", MODEL_NUMBER),
        ("serialNumber", device.device_id),
        ("UDN", device_uuid(device)),
    ):
        _child(node, tag, text)
    body: str = etree.tostring(root, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _child(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, f"{{{UPNP_DEVICE_NS}}}{tag}").text = text
