"""The playout loop as it runs in production (``manage.py playout`` in its own process, real
PostgreSQL and Redis): it survives a database outage and keeps publishing from the plan it holds,
one playout publishes while a second waits as a hot standby and takes over within one segment
when the first is killed, and channels on different epochs are each published before each of
their boundaries."""

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import connection
from django.utils import timezone

from broadcasting.live.overrides import override_start
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.models import Asset
from playlists.models import AsRunEntry, Channel
from tests.broadcasting.live.running import (
    PlayoutProcess,
    TcpProxy,
    copy_on_epoch,
    database_env,
    first_listed,
    only_on_air,
    retime,
    terminate_other_backends,
    wait_until,
)
from tests.broadcasting.live.test_playout import (  # noqa: F401 - fixtures used by name
    SPEC,
    START,
    channel,
    encoded,
)

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]

SEG_S = SPEC.segment_ms / 1000


@pytest.fixture
def processes() -> Iterator[list[PlayoutProcess]]:
    """The playouts a test starts, stopped at its end whatever happens."""
    started: list[PlayoutProcess] = []
    yield started
    for process in started:
        process.stop()


def _at(on: Channel, sequence: int) -> float:
    return segment_start(sequence, epoch=on.epoch, segment_ms=SPEC.segment_ms).timestamp()


def _start_at(seconds: float) -> dt.datetime:
    return (timezone.now() + dt.timedelta(seconds=seconds)).replace(microsecond=0)


def test_the_playout_survives_a_database_outage_and_airs_its_held_plan(
    channel: Channel,  # noqa: F811
    processes: list[PlayoutProcess],
    tmp_path: Path,
) -> None:
    """A terminated PostgreSQL connection used to kill the playout (and, under ``make run``,
    every process with it). Here its connection is terminated, then the database is unreachable
    for about three segments while the first items air: it keeps publishing each boundary from
    the plan it holds, logs the as-run entries once the database is back, and sees an override
    started after that."""
    live = retime(channel, _start_at(16))
    only_on_air(live)
    db = connection.settings_dict
    with TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))) as proxy:
        playout = PlayoutProcess(
            tmp_path / "playout.log", lease_key=uuid.uuid4().hex, **database_env(proxy.port)
        ).start()
        processes.append(playout)
        wait_until(lambda: playout.published(), timeout=40, what="a first publication")
        assert time.time() < _at(live, START - 1), "started too late for the test's timeline"
        wait_until(  # the playout's connection(s), whenever it holds one
            lambda: terminate_other_backends() >= 1, timeout=10, what="a connection to end"
        )
        proxy.cut()
        wait_until(lambda: time.time() > _at(live, START + 2) + 0.5, timeout=40, what="the outage")
        assert playout.alive, playout.output()
        aired = [p.sequence for p in playout.published() if p.slug == live.slug]
        assert set(range(START - 1, START + 3)) <= set(aired), aired  # every boundary
        assert not AsRunEntry.objects.filter(channel=live).exists()  # the log waits
        proxy.restore()
        wait_until(
            lambda: AsRunEntry.objects.filter(channel=live).count() >= 2,
            timeout=20,
            what="the as-run entries of the outage",
        )
        runs = AsRunEntry.objects.filter(channel=live).order_by("actual_start")
        assert [(r.title, r.reason) for r in runs[:2]] == [
            ("landscape", "as_planned"),  # from the held plan, not the slate
            ("four_by_three", "as_planned"),
        ]
        assert [
            sequence_at(r.actual_start, epoch=live.epoch, segment_ms=4800) for r in runs[:2]
        ] == [
            START,
            START + 2,
        ]
        clip = Asset.objects.filter(title="loud", channel_format=live.channel_format).first()
        assert clip is not None
        override_start(channel=live, asset=clip, note="after the outage")
        wait_until(
            lambda: AsRunEntry.objects.filter(channel=live, reason="override").exists(),
            timeout=4 * SEG_S,
            what="the override started after the outage",
        )
        assert playout.alive
        sequences = sorted({p.sequence for p in playout.published() if p.slug == live.slug})
        assert sequences == list(range(sequences[0], sequences[-1] + 1))  # no boundary missed


def test_one_playout_publishes_and_the_standby_takes_over_within_one_segment(
    channel: Channel,  # noqa: F811
    processes: list[PlayoutProcess],
    tmp_path: Path,
) -> None:
    """Two playouts at once used to write duplicate as-run rows, then fail on every boundary.
    One holds the lease and publishes; the other waits; killed (SIGKILL, no clean-up), the
    first is replaced within one segment."""
    live = retime(channel, _start_at(20))
    only_on_air(live)
    lease = uuid.uuid4().hex
    first = PlayoutProcess(tmp_path / "a.log", lease_key=lease, **database_env()).start()
    second = PlayoutProcess(tmp_path / "b.log", lease_key=lease, **database_env()).start()
    processes += [first, second]
    wait_until(lambda: first.published() or second.published(), timeout=40, what="a publication")
    time.sleep(2 * SEG_S)
    active, standby = (first, second) if first.published() else (second, first)
    assert active.published() and not standby.published(), (active.output(), standby.output())
    assert len({p.sequence for p in active.published()}) >= 2
    active.kill()
    killed = time.time()
    last = max(p.sequence for p in active.published())
    wait_until(lambda: standby.published(), timeout=3 * SEG_S, what="the standby's takeover")
    took_over = standby.published()[0]
    print(f"standby published {took_over.seen - killed:.2f} s after the kill")  # noqa: T201
    assert took_over.seen - killed <= SEG_S
    assert took_over.sequence <= last + 2  # the air never lacked more than one boundary
    time.sleep(SEG_S)
    sequences = sorted({p.sequence for p in standby.published()})
    assert sequences == list(range(sequences[0], sequences[-1] + 1))
    assert standby.alive


def test_each_channel_is_published_before_each_of_its_boundaries(
    channel: Channel,  # noqa: F811
    processes: list[PlayoutProcess],
    tmp_path: Path,
    settings: LazySettings,
) -> None:
    """The loop woke on the first channel's boundaries only: a channel whose epoch is 2.4 s
    later had each new segment listed 1.4 s after it began to air."""
    first = retime(channel, _start_at(12))
    channels = [
        first,
        copy_on_epoch(first, slug="decale-1-1", shift=dt.timedelta(seconds=1.1)),
        copy_on_epoch(first, slug="decale-2-4", shift=dt.timedelta(seconds=2.4)),
    ]
    only_on_air(*channels)
    playout = PlayoutProcess(
        tmp_path / "playout.log", lease_key=uuid.uuid4().hex, **database_env()
    ).start()
    processes.append(playout)
    wait_until(
        lambda: {p.slug for p in playout.published()} == {c.slug for c in channels},
        timeout=40,
        what="every channel published",
    )
    by_slug = {c.slug: c for c in channels}
    live_root = Path(settings.MEDIA_ROOT) / "public" / "live"
    watched = list(first_listed(list(by_slug), time.time() + 3 * SEG_S, live_root))
    late = []
    for slug, sequence, seen in watched[len(by_slug) :]:  # the first sight of each is no news
        if seen >= _at(by_slug[slug], sequence):
            late.append((slug, sequence, round(seen - _at(by_slug[slug], sequence), 2)))
    assert not late, late
    for slug in by_slug:
        mine = [sequence for s, sequence, _ in watched if s == slug]
        assert len(mine) >= 3 and mine == list(range(mine[0], mine[0] + len(mine)))
