"""The demo's city data (``seed_demo``): one source per standard fed with recorded payloads
relocated to Chartres (``demo_payloads/``), the demo channel's area, and the replayer that
feeds the payloads again with their times moved to now (a beat task in ``make run`` only), so
cards and ticker never go stale while someone watches the demo.
"""

import datetime as dt
import logging
import random
import re
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone

from city_feeds.models import ChannelArea, FeedDelivery, FeedSource, FeedStandard
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
                              "value:kwh_saved": "kwh_saved", "unit:kwh_saved": "kWh",
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
        result = payload_ingest(source=source, data=payload_bytes(demo, now=now, rng=rng), now=now)
        stored += result.created + result.updated
    logger.info("demo feeds replayed items=%s", stored)
    return stored
