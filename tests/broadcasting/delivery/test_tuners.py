"""Tuner slots: ``stream.ts`` streams of a channel are capped across every web worker (counted
in Redis, healing when a worker dies), and a WSGI server gets a clear 503 instead of a stream
it cannot run."""

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from broadcasting.delivery import tuners
from broadcasting.delivery.stream import holding, rungs_by_preference
from broadcasting.live.store import IndexEntry, index_storage, rung_prefix, write_index
from playlists.models import Channel

SLUG = "carillon-chartres"
OTHER = "tuners-test"


@pytest.fixture(autouse=True)
def _no_slots_held() -> Iterator[None]:
    """Slots live in Redis, shared by every test of the run: each test starts with none."""
    for slug in (SLUG, OTHER):
        tuners.slots_clear(slug=slug)
    yield
    for slug in (SLUG, OTHER):
        tuners.slots_clear(slug=slug)


@pytest.fixture
def on_air(db: None) -> Channel:
    """The default channel with its highest rung's index published (as the playout does)."""
    channel = Channel.objects.select_related("channel_format").get(slug=SLUG)
    rung = rungs_by_preference(channel.channel_format.to_spec())[0]
    index = {1: IndexEntry(name="1-0123456789ab.ts", source="s")}
    write_index(index_storage(), rung_prefix(SLUG, rung), index)
    return channel


def test_slots_are_capped_and_heal_when_a_worker_dies() -> None:
    now = time.time()
    first = tuners.slot_take(slug=OTHER, limit=2, now=now)
    second = tuners.slot_take(slug=OTHER, limit=2, now=now)
    assert first is not None and second is not None and first.member != second.member
    assert tuners.slot_take(slug=OTHER, limit=2, now=now) is None
    assert tuners.slots_held(slug=OTHER, now=now) == 2
    tuners.slot_release(first)
    third = tuners.slot_take(slug=OTHER, limit=2, now=now)
    assert third is not None
    # A worker killed with its streams stops renewing them: its slots expire, others take them.
    later = now + tuners.SLOT_TTL_SECONDS + 1
    tuners.slot_beat(third, now=later - 2)  # this stream is alive
    assert tuners.slots_held(slug=OTHER, now=later) == 1
    assert tuners.slot_take(slug=OTHER, limit=2, now=later) is not None
    assert tuners.slot_take(slug=OTHER, limit=2, now=later) is None


def test_under_a_wsgi_server_the_stream_is_a_clear_503(on_air: Channel) -> None:
    """A WSGI server would run the endless async body in an event loop of its own (no byte,
    then a 500 "attached to a different loop" and leaked threads): the view says so instead."""
    response = Client().get(f"/live/{SLUG}/stream.ts")
    assert response.status_code == 503 and not response.streaming
    assert "ASGI" in response.content.decode()
    assert Client().head(f"/live/{SLUG}/stream.ts").status_code == 503
    assert tuners.slots_held(slug=SLUG) == 0


def test_streams_beyond_the_limit_are_a_503_with_retry_after(on_air: Channel, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_STREAMS_PER_CHANNEL = 2
    url = f"/live/{SLUG}/stream.ts"
    for _ in range(2):  # streams held by other web workers
        assert tuners.slot_take(slug=SLUG, limit=2) is not None
    refused = async_to_sync(AsyncClient().get)(url)
    assert refused.status_code == 503 and not refused.streaming
    assert int(refused["Retry-After"]) > 0
    assert async_to_sync(AsyncClient().head)(url).status_code == 200  # a probe holds no tuner
    tuners.slots_clear(slug=SLUG)
    dead = time.time() - tuners.SLOT_TTL_SECONDS - 1
    for _ in range(2):  # streams of workers killed a while ago: their slots stopped renewing
        assert tuners.slot_take(slug=SLUG, limit=2, now=dead) is not None
    admitted = async_to_sync(AsyncClient().get)(url)
    assert admitted.status_code == 200 and admitted.streaming
    assert tuners.slots_held(slug=SLUG) == 1
    admitted.close()  # the server closes the response when the stream ends
    assert tuners.slots_held(slug=SLUG) == 0


def test_a_stream_gives_its_slot_back_when_the_client_leaves() -> None:
    slot = tuners.slot_take(slug=OTHER, limit=1)
    assert slot is not None

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            yield b"\x47" * 188

    async def watch_then_leave() -> None:
        stream = holding(slot, chunks())
        assert await anext(stream) == b"\x47" * 188
        assert tuners.slots_held(slug=OTHER) == 1
        await stream.aclose()  # type: ignore[attr-defined]

    async_to_sync(watch_then_leave)()
    assert tuners.slots_held(slug=OTHER) == 0
