"""The HDHomeRun TS stream: the pure helper, then the real view read by ffmpeg as a client
(tuner slots and the WSGI answer: ``test_tuners``).

The real test publishes the playout's window for 6 consecutive sequences, across item
boundaries, with a controllable clock; the view's clock starts at the first of them and
advances only when the stream sleeps (its ``sleep`` is replaced), so the stream sends each
segment as it airs without waiting in real time.
"""

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core import signals
from django.core.files.base import ContentFile
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.test import AsyncClient

from broadcasting.delivery import stream, tuners
from broadcasting.delivery.stream import Published, next_segments
from broadcasting.live.playout import publish_window
from broadcasting.live.store import Index, IndexEntry, index_storage
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import public_storage
from playlists.models import Channel
from tests.broadcasting.live.test_playout import EPOCH, SPEC, START, channel, encoded  # noqa: F401
from tests.broadcasting.live.test_tsrewrite import check_continuous, counter_jumps, ffmpeg_warnings


@pytest.fixture(autouse=True)
def _no_slots_held() -> Iterator[None]:
    """Tuner slots live in Redis, shared by every test of the run: each test starts with none."""
    tuners.slots_clear(slug="test-playout")
    yield
    tuners.slots_clear(slug="test-playout")


def test_next_segments_follows_the_sequence_up_to_the_first_gap() -> None:
    index = {n: IndexEntry(name=f"{n}-h.ts", source="s") for n in (7, 8, 9, 11)}
    assert next_segments(index, 6) == [Published(7, "7-h.ts"), Published(8, "8-h.ts"),
                                       Published(9, "9-h.ts")]  # fmt: skip
    assert next_segments(index, 8) == [Published(9, "9-h.ts")]
    assert next_segments(index, 9) == []  # 10 is missing: wait (or skip)
    assert next_segments(index, 10) == [Published(11, "11-h.ts")]
    assert next_segments({}, 0) == []


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0)


@pytest.mark.slow
@pytest.mark.django_db
def test_the_stream_reads_cleanly_across_item_boundaries(
    channel: Channel,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = START - 1  # a slate segment, then "landscape" (2 segments), then "four_by_three"
    for sequence in range(first, first + 6):
        publish_window(channel=channel, now=segment_start(sequence, epoch=EPOCH, segment_ms=4800))
    fake = FakeClock(segment_start(first, epoch=EPOCH, segment_ms=SPEC.segment_ms))
    monkeypatch.setattr(stream, "clock", fake)
    monkeypatch.setattr(stream, "sleep", fake.sleep)
    wanted = 4  # slate -> landscape -> four_by_three: 2 boundaries
    deadline = segment_start(first + wanted, epoch=EPOCH, segment_ms=SPEC.segment_ms)

    async def consume() -> tuple[dict[str, str], bytes]:
        """Through Django's ASGI handler: the client disconnects once sequence first + 4 airs."""
        headers: dict[str, str] = {}
        received = bytearray()
        gone = asyncio.Event()
        requests = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if requests:  # the request (no body), then wait for the disconnect
                return requests.pop()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                assert message["status"] == 200
                headers.update((k.decode(), v.decode()) for k, v in message["headers"])
            elif fake.now >= deadline:  # the stream waited for sequence first + 4 to air
                gone.set()
            else:
                received.extend(message["body"])

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": f"/live/{channel.slug}/stream.ts",
            "query_string": b"transcode=native", "headers": [(b"host", b"testserver")],
            "server": ("testserver", 80), "client": ("127.0.0.1", 1234),
        }  # fmt: skip
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            await asyncio.wait_for(ASGIHandler()(scope, receive, send), timeout=60)
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return headers, bytes(received)

    headers, data = async_to_sync(consume)()  # returns: the disconnect ended the stream
    assert tuners.slots_held(slug=channel.slug) == 0  # the viewer left: its slot is free
    assert headers["Content-Type"] == "video/mp2t"
    assert "no-store" in headers["Cache-Control"]
    assert len(data) % 188 == 0 and counter_jumps(data) == 0
    path = tmp_path / "stream.ts"
    path.write_bytes(data)
    assert ffmpeg_warnings(path) == ""
    check_continuous(path, wanted)


@pytest.mark.django_db
def test_an_unknown_channel_or_rung_is_404(channel: Channel) -> None:  # noqa: F811
    async def get(url: str) -> int:
        return (await AsyncClient().get(url)).status_code

    assert async_to_sync(get)("/live/nope/stream.ts") == 404
    # nothing published yet: no rung on the air
    assert async_to_sync(get)(f"/live/{channel.slug}/stream.ts") == 404
    assert async_to_sync(get)(f"/live/{channel.slug}/stream.ts?rung=../../x") == 404
    publish_window(channel=channel, now=segment_start(START, epoch=EPOCH, segment_ms=4800))
    assert async_to_sync(get)(f"/live/{channel.slug}/stream.ts") == 200  # not consumed
    assert async_to_sync(get)(f"/live/{channel.slug}/stream.ts?rung=360p") == 200
    head = async_to_sync(AsyncClient().head)(f"/live/{channel.slug}/stream.ts")
    assert head.status_code == 200 and head["Content-Type"] == "video/mp2t" and not head.streaming
    assert async_to_sync(get)(f"/live/{channel.slug}/stream.ts?rung=1080p") == 404


def test_a_missing_sequence_is_skipped_after_two_segments(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    storage = public_storage()
    prefix = "live/test-skip/360p"
    index = {str(n): {"name": f"{n}-x.ts", "source": "s"} for n in (10, 11, 14, 15)}
    for n in index:
        storage.save(f"{prefix}/{n}-x.ts", ContentFile(n.encode() * 3))
    index_storage().save(f"{prefix}/index.json", ContentFile(json.dumps(index).encode()))
    fake = FakeClock(segment_start(10, epoch=EPOCH, segment_ms=4800) + dt.timedelta(seconds=1))
    monkeypatch.setattr(stream, "clock", fake)
    monkeypatch.setattr(stream, "sleep", fake.sleep)

    async def take(count: int) -> list[tuple[bytes, int]]:
        segments = stream.stream_segments(prefix=prefix, epoch=EPOCH, segment_ms=4800)
        taken = []
        async for chunk in segments:
            taken.append((chunk, sequence_at(fake.now, epoch=EPOCH, segment_ms=4800)))
            if len(taken) == count:
                break
        await segments.aclose()  # type: ignore[attr-defined]
        return taken

    with caplog.at_level(logging.WARNING, logger="broadcasting.delivery.stream"):
        taken = async_to_sync(take)(4)
    # each segment is sent while it airs; 12 waits two segment durations, then 14 follows
    assert taken == [(b"101010", 10), (b"111111", 11), (b"141414", 14), (b"151515", 15)]
    assert "sequence 12 missing, skipping to 14" in caplog.text


def test_viewers_of_one_process_share_an_index_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many viewers polling the same rung cost one storage read per ``INDEX_TTL``."""
    clock = FakeClock(dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))
    reads: list[str] = []

    async def counting_read(prefix: str) -> Index:
        reads.append(prefix)
        await asyncio.sleep(0.01)  # the other viewers arrive while the read is under way
        return {len(reads): IndexEntry(name=f"{len(reads)}-h.ts", source="s")}

    monkeypatch.setattr(stream, "clock", clock)
    monkeypatch.setattr(stream, "_read_index", counting_read)
    monkeypatch.setattr(stream, "_index_cache", {})

    async def viewers() -> list[Index]:
        return list(await asyncio.gather(*(stream.load_index("live/x/360p") for _ in range(50))))

    first = async_to_sync(viewers)()
    assert len(reads) == 1 and all(index == first[0] for index in first)
    clock.now += stream.INDEX_TTL / 2
    async_to_sync(stream.load_index)("live/x/360p")
    assert len(reads) == 1
    clock.now += stream.INDEX_TTL
    assert async_to_sync(stream.load_index)("live/x/360p") == {
        2: IndexEntry(name="2-h.ts", source="s")
    }
    async_to_sync(stream.load_index)("live/y/360p")  # another rung: its own read
    assert reads == ["live/x/360p", "live/x/360p", "live/y/360p"]
