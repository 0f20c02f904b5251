"""An emergency alert end to end, as it runs in production: the real ``playout`` process
publishes a channel serving Chartres; a CAP alert for Chartres (INSEE 28085) arrives by a signed
webhook at ``/api/v1/feeds/<slug>/push``; from the first boundary the playout has not listed
(one segment and its publish lead at most) the live playlist carries the generic alert clip's
segment, the as-run log has it with reason ``alert``;
a signed Cancel ends it and the schedule resumes at wall clock. An unsigned push changes
nothing."""

import datetime as dt
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone

from broadcasting.live.published import last_published_sequence
from broadcasting.live.store import index_storage, read_index, rung_prefix
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.models import Asset, Override
from city_feeds.alert_clips import alert_clip_build
from city_feeds.models import Alert, AlertState, ChannelArea, FeedSource
from city_feeds.views import push_signature
from playlists.models import AsRunEntry, Channel, ScheduledItem
from tests.broadcasting.live.running import (
    PlayoutProcess,
    database_env,
    only_on_air,
    retime,
    wait_until,
)
from tests.broadcasting.live.test_playout import (  # noqa: F401 - fixtures used by name
    RUNG,
    SPEC,
    channel,
    encoded,
)

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]

DATA = Path(__file__).parent / "data"
SEG_S = SPEC.segment_ms / 1000
PUBLISH_LEAD_S = 1.0  # the playout lists a segment this long before it airs (PUBLISH_LEAD)
SLACK_S = 0.5  # for the test's own polling and a busy machine
TIMES = re.compile(r"<(sent|effective|onset|expires)>[^<]+</\1>")


def cap_payload(name: str, *, suffix: str, now: dt.datetime) -> bytes:
    """A recorded Chartres CAP message, its identifiers made unique and its times moved to
    now (expiring in three hours)."""
    text = (DATA / name).read_text()
    text = text.replace("FR-28-CHARTRES-2025-0614-", f"FR-28-CHARTRES-{suffix}-")

    def moved(match: re.Match[str]) -> str:
        at = now + (dt.timedelta(hours=3) if match[1] == "expires" else dt.timedelta(0))
        return f"<{match[1]}>{at.isoformat(timespec='seconds')}</{match[1]}>"

    return TIMES.sub(moved, text).encode()


def push(client: Client, source: FeedSource, body: bytes, *, sign: bool = True) -> int:
    headers: dict[str, str] = {}
    if sign:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "X-Carillon-Timestamp": timestamp,
            "X-Carillon-Nonce": nonce,
            "X-Carillon-Signature": push_signature(
                secret=source.hmac_secret, timestamp=timestamp, nonce=nonce, body=body
            ),
        }
    response = client.post(
        f"/api/v1/feeds/{source.slug}/push", body, content_type="application/xml", headers=headers
    )
    return int(response.status_code)


def listed(root: Path, slug: str) -> list[int]:
    """The sequences the rung's live playlist lists now."""
    try:
        text = (root / slug / RUNG.name / "index.m3u8").read_text()
    except OSError:
        return []
    found = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    return list(range(int(found[1]), int(found[1]) + text.count("#EXTINF"))) if found else []


def sources(on: Channel) -> dict[int, str]:
    """What each published sequence was made from (the rung's index)."""
    index = read_index(index_storage(), rung_prefix(on.slug, RUNG.name))
    return {n: entry.source for n, entry in index.items()}


def first_listed_from(root: Path, on: Channel, prefix: str, *, after: int = 0) -> int | None:
    """The first sequence (above ``after``) the live playlist lists made from ``prefix``."""
    made = sources(on)
    hits = [n for n in listed(root, on.slug) if n > after and made.get(n, "").startswith(prefix)]
    return min(hits, default=None)


def _at(on: Channel, sequence: int) -> float:
    return segment_start(sequence, epoch=on.epoch, segment_ms=SPEC.segment_ms).timestamp()


def _prefix(asset: Asset) -> str:
    return asset.renditions.get(name=RUNG.name).segment_prefix


def wall_clock_source(on: Channel, sequence: int) -> str:
    """The segment the schedule airs at ``sequence`` (at wall clock), or the slate's."""
    at = segment_start(sequence, epoch=on.epoch, segment_ms=SPEC.segment_ms)
    item = ScheduledItem.objects.filter(channel=on, start__lte=at, end__gt=at).first()
    if item is None or item.asset is None:
        assert on.slate is not None
        slate = on.slate
        return f"{_prefix(slate)}seg_{sequence % slate.segment_count:05d}.ts"
    index = sequence - sequence_at(item.start, epoch=on.epoch, segment_ms=SPEC.segment_ms)
    return f"{_prefix(item.asset)}seg_{index:05d}.ts"


@pytest.fixture
def playouts() -> Iterator[list[PlayoutProcess]]:
    started: list[PlayoutProcess] = []
    yield started
    for process in started:
        process.stop()


def test_a_pushed_cap_alert_preempts_the_channel_at_once_and_a_cancel_ends_it(
    channel: Channel,  # noqa: F811
    playouts: list[PlayoutProcess],
    tmp_path: Path,
    settings: LazySettings,
) -> None:
    live = retime(channel, (timezone.now() + dt.timedelta(seconds=30)).replace(microsecond=0))
    only_on_air(live)
    chartres = json.loads((DATA / "chartres_area.json").read_text())
    ChannelArea.objects.create(
        channel=live, geocodes=chartres["geocodes"], outline=chartres["outline"]
    )
    clip = alert_clip_build(category="Met", channel_format=live.channel_format)  # real encode
    assert clip.state == "ready" and clip.segment_count == 1
    source = FeedSource.objects.create(
        name="Ville de Chartres — alertes", slug="chartres-alertes", standard="cap", delivery="push"
    )
    root = Path(settings.MEDIA_ROOT) / "public" / "live"
    playout = PlayoutProcess(tmp_path / "playout.log", lease_key=uuid.uuid4().hex, **database_env())
    playouts.append(playout.start())
    wait_until(lambda: listed(root, live.slug), timeout=60, what="a first publication")

    client, suffix = Client(), uuid.uuid4().hex[:8]
    alert_xml = cap_payload("cap-chartres-orages.xml", suffix=suffix, now=timezone.now())
    # Unsigned, and signed with another key: refused, nothing stored, nothing on air.
    assert push(client, source, alert_xml, sign=False) == 401
    forged = FeedSource(slug=source.slug, hmac_secret="not-the-secret")
    assert push(client, forged, alert_xml) == 401
    assert not Alert.objects.exists() and not Override.objects.exists()

    seen_then = last_published_sequence(channel=live), time.time()
    assert push(client, source, alert_xml) == 202
    accepted = time.time()
    alert = Alert.objects.get(identifier=f"FR-28-CHARTRES-{suffix}-001")
    assert alert.state == AlertState.ACTIVE and alert.category == "Met", alert.state_reason
    (override,) = Override.objects.filter(reason="alert", channel=live)
    first = sequence_at(override.start, epoch=live.epoch, segment_ms=SPEC.segment_ms)
    wait_until(
        lambda: first_listed_from(root, live, _prefix(clip)) is not None,
        timeout=4 * SEG_S,
        what="the alert clip in the live playlist",
        every=0.02,
    )
    latency = time.time() - accepted
    aired = first_listed_from(root, live, _prefix(clip))
    assert aired is not None
    starts = (override.start.timestamp() - accepted, _at(live, aired) - accepted)
    # The override's notice has the playout read its plan at once, and the round of the first
    # boundary no playlist lists makes that segment again: within one segment and the lead.
    assert latency <= SEG_S + PUBLISH_LEAD_S + SLACK_S, (latency, starts)
    assert aired == first, (starts, seen_then, accepted)  # its start is true
    wait_until(
        lambda: AsRunEntry.objects.filter(channel=live, reason="alert").exists(),
        timeout=3 * SEG_S,
        what="the alert in the as-run log",
    )
    entry = AsRunEntry.objects.get(channel=live, reason="alert")
    assert entry.asset_id == clip.pk and entry.actual_start == segment_start(
        aired, epoch=live.epoch, segment_ms=SPEC.segment_ms
    )

    assert push(client, source, cap_payload("cap-chartres-orages-cancel.xml", suffix=suffix,
                                            now=timezone.now())) == 202  # fmt: skip
    alert.refresh_from_db()
    override.refresh_from_db()
    assert alert.state == AlertState.CANCELLED and override.end is not None
    resumed = sequence_at(override.end, epoch=live.epoch, segment_ms=SPEC.segment_ms)
    wait_until(
        lambda: max(listed(root, live.slug), default=0) >= resumed + 1,
        timeout=4 * SEG_S,
        what="the boundaries after the cancel",
    )
    made = sources(live)
    assert all(made[n].startswith(_prefix(clip)) for n in range(aired, resumed))
    for n in (resumed, resumed + 1):  # the schedule, at wall clock
        assert made[n] == wall_clock_source(live, n), (n, made[n])
    assert playout.alive, playout.output()
