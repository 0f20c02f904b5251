"""The demo's city data (``seed_demo``): one source per standard fed with recorded payloads
relocated to Chartres (``demo_payloads/``), the demo channel's area, and the replayer that
feeds the payloads again with their times moved to now (a beat task in ``make run`` only), so
cards and ticker never go stale while someone watches the demo.
"""

import datetime as dt
import io
import logging
import random
import re
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from city_feeds.cards.map import BoundingBox, project
from city_feeds.items import FeedError
from city_feeds.models import ChannelArea, FeedDelivery, FeedSource, FeedStandard, MapBackground
from playlists.models import Channel

logger = logging.getLogger(__name__)

PAYLOADS = Path(__file__).resolve().parent / "demo_payloads"
PARIS = ZoneInfo("Europe/Paris")

# Chartres: its INSEE commune code, its département (Eure-et-Loir), its NUTS3 region.
CHARTRES_GEOCODES = [["INSEE", "28085"], ["DEPARTEMENT", "28"], ["NUTS3", "FRB02"]]
# The commune's outline, simplified: a ring of (lat, lon).
CHARTRES_OUTLINE = [
    [48.4735, 1.4630], [48.4735, 1.5050], [48.4560, 1.5260], [48.4330, 1.5210],
    [48.4185, 1.5010], [48.4185, 1.4610], [48.4330, 1.4420], [48.4560, 1.4440],
    [48.4735, 1.4630],
]  # fmt: skip


@dataclass(frozen=True)
class DemoSource:
    slug: str
    name: str
    standard: str
    payload: str
    ttl_seconds: int = 1800
    item_kind: str = ""
    field_mapping: dict[str, str] = field(default_factory=dict)


DEMO_SOURCES = (
    DemoSource("demo-parkings", "Parkings de Chartres (NGSI-LD)", FeedStandard.NGSI_LD,
               "parking.ngsi-ld.json", ttl_seconds=900),
    DemoSource("demo-meteo", "Météo Chartres (NGSI-LD)", FeedStandard.NGSI_LD,
               "weather.ngsi-ld.json"),
    DemoSource("demo-air", "Qualité de l'air (NGSIv2)", FeedStandard.NGSI_V2, "air.ngsiv2.json"),
    DemoSource("demo-alertes", "Alertes (CAP)", FeedStandard.CAP, "alert-advisory.cap.xml"),
    DemoSource("demo-travaux", "Travaux et fermetures (DATEX II)", FeedStandard.DATEX2,
               "roadworks.datex2.xml", ttl_seconds=86400),
    DemoSource("demo-actualites", "Actualités de la ville (RSS)", FeedStandard.RSS,
               "news.rss.xml", ttl_seconds=86400, item_kind="news"),
    DemoSource("demo-agenda", "Agenda (iCalendar)", FeedStandard.ICALENDAR, "events.ics",
               ttl_seconds=86400),
    DemoSource("demo-filibus", "Bus Filibus (GTFS-RT)", FeedStandard.GTFS_RT,
               "buses.gtfs-rt.txt"),
    DemoSource("demo-signalements", "Signalements (Open311)", FeedStandard.OPEN311,
               "reports.open311.json", ttl_seconds=86400),
    DemoSource("demo-eclairage", "Éclairage intelligent (JSON)", FeedStandard.JSON,
               "energy.json", ttl_seconds=86400 * 31, item_kind="energy",
               field_mapping={"items": "results", "id": "id", "title": "label",
                              "value:energy_saved": "kwh_saved", "unit:energy_saved": "kWh",
                              "observed_at": "updated"}),
)  # fmt: skip

TOKEN = re.compile(r"\{\{(\w+)(?:([+-])(\d+)([mhd]))?\}\}|\{\{free:(\d+)-(\d+)\}\}")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def render(template: str, *, now: dt.datetime, rng: random.Random) -> str:
    """The payload with its time tokens (see ``demo_payloads/README.md``) filled in."""

    def fill(match: re.Match[str]) -> str:
        if match.group(5):
            return str(rng.randint(int(match.group(5)), int(match.group(6))))
        name, sign, amount, unit = match.group(1, 2, 3, 4)
        at = now
        if sign:
            delta = dt.timedelta(**{UNITS[unit]: int(amount)})
            at = now + delta if sign == "+" else now - delta
        return _format(name, at)

    return TOKEN.sub(fill, template)


def _format(name: str, at: dt.datetime) -> str:
    utc = at.astimezone(dt.UTC)
    local = at.astimezone(PARIS)
    formats = {
        "now": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "now_cap": utc.strftime("%Y-%m-%dT%H:%M:%S+00:00"),  # CAP's schema refuses "Z"
        "today": local.strftime("%Y-%m-%d"),
        "now_epoch": str(int(utc.timestamp())),
        "now_rfc822": format_datetime(utc),
        "now_ical": utc.strftime("%Y%m%dT%H%M%SZ"),
        "today_ical": local.strftime("%Y%m%d"),
    }
    return formats[name]


def payload_bytes(source: DemoSource, *, now: dt.datetime, rng: random.Random) -> bytes:
    """The source's payload for ``now`` (GTFS-RT: serialised from its text format)."""
    text = render((PAYLOADS / source.payload).read_text(encoding="utf-8"), now=now, rng=rng)
    if source.standard == FeedStandard.GTFS_RT:
        from google.protobuf import text_format
        from google.transit import gtfs_realtime_pb2

        message = gtfs_realtime_pb2.FeedMessage()
        text_format.Parse(text, message)
        return bytes(message.SerializeToString())
    return text.encode("utf-8")


def demo_sources_ensure() -> list[FeedSource]:
    """One demo source per standard (pushed: the replayer feeds them)."""
    sources = []
    for demo in DEMO_SOURCES:
        source, _ = FeedSource.objects.update_or_create(
            slug=demo.slug,
            defaults={
                "name": demo.name,
                "standard": demo.standard,
                "delivery": FeedDelivery.PUSH,
                "ttl_seconds": demo.ttl_seconds,
                "item_kind": demo.item_kind,
                "field_mapping": demo.field_mapping,
                "area": "Chartres",
            },
        )
        sources.append(source)
    return sources


def channel_area_ensure(*, channel: Channel) -> ChannelArea:
    """The demo channel serves Chartres (alerts are matched against this)."""
    area, _ = ChannelArea.objects.update_or_create(
        channel=channel, defaults={"geocodes": CHARTRES_GEOCODES, "outline": CHARTRES_OUTLINE}
    )
    return area


def demo_feeds_replay(*, now: dt.datetime | None = None, seed: int | None = None) -> int:
    """Feed every demo source its payload again, times moved to ``now``: items stored."""
    from city_feeds.services import payload_ingest

    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - demo numbers, not secrets
    stored = 0
    for demo in DEMO_SOURCES:
        source = FeedSource.objects.filter(slug=demo.slug, enabled=True).first()
        if source is None:
            continue
        try:
            result = payload_ingest(
                source=source, data=payload_bytes(demo, now=now, rng=rng), now=now
            )
        except FeedError as err:  # recorded on the source's health; the others go on
            logger.warning("demo feed refused source=%s: %s", demo.slug, err)
            continue
        stored += result.total
    logger.info("demo feeds replayed items=%s", stored)
    return stored


# The demo map's box: the centre of Chartres (no map tiles here: the background is drawn).
DEMO_MAP_BOX = BoundingBox(south=48.4350, west=1.4650, north=48.4600, east=1.5130)


def map_background_ensure() -> MapBackground:
    """A plain background for the demo's map card: the commune's outline and the river Eure
    drawn over a light ground (a city uploads an OpenStreetMap export instead)."""
    existing = MapBackground.objects.filter(name="Chartres (démo)").first()
    if existing is not None:
        return existing
    size = (1920, 1080)
    picture = Image.new("RGB", size, "#eef1f4")
    draw = ImageDraw.Draw(picture)

    def at(lat: float, lon: float) -> tuple[float, float]:
        return project(lat, lon, box=DEMO_MAP_BOX, width=size[0], height=size[1])

    draw.polygon([at(lat, lon) for lat, lon in CHARTRES_OUTLINE], fill="#e2e7ec", outline="#9aa7b4")
    river = [(48.4600, 1.4905), (48.4520, 1.4930), (48.4470, 1.4950), (48.4420, 1.4930),
             (48.4350, 1.4960)]  # fmt: skip
    draw.line([at(lat, lon) for lat, lon in river], fill="#7fb2d9", width=18)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    background = MapBackground(
        name="Chartres (démo)", south=DEMO_MAP_BOX.south, west=DEMO_MAP_BOX.west,
        north=DEMO_MAP_BOX.north, east=DEMO_MAP_BOX.east,
    )  # fmt: skip
    background.image.save("chartres-demo.png", ContentFile(buffer.getvalue()), save=True)
    return background
