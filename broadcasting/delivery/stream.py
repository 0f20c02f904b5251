"""The HDHomeRun tuner stream: ``/live/<slug>/stream.ts``, the live segments concatenated as they air.

The playout already rewrites consecutive published segments to continuous timestamps and
continuity counters, so the stream is their bytes end to end: no ffmpeg per viewer. The view
starts with the segment airing now and sends each following sequence once it is on the air
(never ahead: a segment not yet airing may still be replaced by the playout), reading the
rung's index (shared by every viewer of the process for a fraction of a segment) and the files
from the live store (``broadcasting.live.store``) in worker threads. A sequence missing for two
segment durations is skipped: the stream resumes at the segment airing then (the timestamps
jump once, logged). Django's ASGI handler cancels the iterator when the client disconnects.

A channel has at most ``CARILLON_STREAMS_PER_CHANNEL`` streams at once across every web worker
(the HDHomeRun tuners announced, by default): each holds a tuner slot (``tuners``), renewed while
it runs and given back when it ends; one more is a 503 with ``Retry-After``. The stream needs an
ASGI server: under WSGI (``runserver``) the view answers a clear 503 instead of an endless body
that such a server cannot run.
"""

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_safe

from broadcasting.delivery import tuners
from broadcasting.live.store import (
    INDEX_NAME,
    Index,
    IndexEntry,
    index_storage,
    read_index,
    rung_prefix,
)
from broadcasting.media.formats import FormatSpec
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import public_storage
from playlists.models import Channel

logger = logging.getLogger(__name__)

CONTENT_TYPE = "video/mp2t"
CHUNK_BYTES = 64 * 1024
MAX_LAG_SEGMENTS = 2  # a sequence still missing this long after its start is skipped
POLL_FRACTION = 8  # while waiting for a due segment, poll every segment / POLL_FRACTION
INDEX_TTL = dt.timedelta(milliseconds=250)  # viewers of one process share an index read

# Indirections the tests replace with a controllable clock.
clock: Callable[[], dt.datetime] = timezone.now
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass(frozen=True)
class Published:
    sequence: int
    name: str  # relative to the rung's prefix


def next_segments(index: Mapping[int, IndexEntry], after: int) -> list[Published]:
    """The published sequences ``after + 1, after + 2, ...`` of a rung's ``index``, in order, up
    to the first one missing."""
    found: list[Published] = []
    sequence = after + 1
    while (entry := index.get(sequence)) is not None:
        found.append(Published(sequence=sequence, name=entry.name))
        sequence += 1
    return found


def rungs_by_preference(spec: FormatSpec) -> list[str]:
    """The format's rung names, highest first (as in the master playlist)."""
    ordered = sorted(spec.rungs, key=lambda r: (r.width * r.height, r.maxrate), reverse=True)
    return [rung.name for rung in ordered]


def _rung_index(prefix: str) -> Index:
    return read_index(index_storage(), prefix)


def _choose_rung(slug: str, spec: FormatSpec, requested: str | None) -> str | None:
    """``requested`` if the format has it, else the highest rung the playout has published."""
    names = rungs_by_preference(spec)
    if requested:
        return requested if requested in names else None
    storage = index_storage()
    return next((n for n in names if storage.exists(f"{rung_prefix(slug, n)}/{INDEX_NAME}")), None)


_read_index = sync_to_async(_rung_index, thread_sensitive=False)
_index_cache: dict[tuple[str, str], tuple[dt.datetime, Index]] = {}
_index_reads: dict[tuple[str, str], "asyncio.Future[Index]"] = {}


async def load_index(prefix: str) -> Index:
    """The rung's ``index.json``, read at most once per ``INDEX_TTL`` (of the stream's clock)
    for all the viewers of this process, so a storage such as S3 sees one read per tick, not
    one per viewer: viewers arriving while a read is under way wait for that read."""
    key = (str(getattr(index_storage(), "location", "")), prefix)
    now = clock()
    cached = _index_cache.get(key)
    if cached is not None and cached[0] <= now < cached[0] + INDEX_TTL:
        return cached[1]
    pending = _index_reads.get(key)
    if pending is None:
        pending = asyncio.ensure_future(_read_and_keep(key, prefix, now))
        _index_reads[key] = pending
    # A viewer leaving (cancelled) must not cancel the read the others wait for.
    return await asyncio.shield(pending)


async def _read_and_keep(key: tuple[str, str], prefix: str, now: dt.datetime) -> Index:
    try:
        index = await _read_index(prefix)
        _index_cache[key] = (now, index)
        return index
    finally:
        _index_reads.pop(key, None)


choose_rung = sync_to_async(_choose_rung, thread_sensitive=False)


async def _segment_chunks(name: str) -> AsyncIterator[bytes]:
    """The file's bytes in chunks (nothing if it has gone: pruned or never written)."""
    storage = public_storage()
    try:
        handle = await sync_to_async(storage.open, thread_sensitive=False)(name, "rb")
    except OSError:
        logger.warning("live stream: segment %s unreadable", name)
        return
    read = sync_to_async(handle.read, thread_sensitive=False)
    try:
        while chunk := await read(CHUNK_BYTES):
            yield chunk
    finally:
        await sync_to_async(handle.close, thread_sensitive=False)()


async def stream_segments(
    *,
    prefix: str,
    epoch: dt.datetime,
    segment_ms: int,
    tick: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """The rung's segments from the one airing now, each once it airs, forever; ``tick`` is
    awaited at least once a segment, sending or waiting (it renews the tuner slot)."""
    seconds = segment_ms / 1000

    def airing() -> int:
        return sequence_at(clock(), epoch=epoch, segment_ms=segment_ms)

    after = airing() - 1  # the last sequence sent
    while True:
        if tick is not None:
            await tick()
        current = airing()
        ready = [p for p in next_segments(await load_index(prefix), after) if p.sequence <= current]
        for published in ready:
            async for chunk in _segment_chunks(f"{prefix}/{published.name}"):
                yield chunk
            after = published.sequence
        wanted = after + 1
        current = airing()
        if wanted <= current and ready:
            continue  # sending took a while: the next one may be on the air already
        if current - wanted >= MAX_LAG_SEGMENTS:
            logger.warning(
                "live stream %s: sequence %d missing, skipping to %d", prefix, wanted, current
            )
            after = current - 1
            continue
        if wanted > current:
            start = segment_start(wanted, epoch=epoch, segment_ms=segment_ms)
            delay = (start - clock()).total_seconds() + 0.05
            await sleep(max(delay, 0.05))
        else:
            await sleep(seconds / POLL_FRACTION)


# --- Tuner slots ------------------------------------------------------------------------------

take_slot = sync_to_async(tuners.slot_take, thread_sensitive=False)
_renew_slot = sync_to_async(tuners.slot_beat, thread_sensitive=False)
_release_slot = sync_to_async(tuners.slot_release, thread_sensitive=False)


def slot_keeper(slot: tuners.Slot) -> Callable[[], Awaitable[None]]:
    """A ``tick`` for ``stream_segments`` renewing ``slot`` every ``tuners.BEAT_SECONDS``."""
    renewed = time.monotonic()

    async def keep() -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= tuners.BEAT_SECONDS:
            renewed = time.monotonic()
            await _renew_slot(slot)

    return keep


async def holding(slot: tuners.Slot, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks``, giving the slot back when the stream ends (the client left)."""
    try:
        async with aclosing(chunks):  # type: ignore[type-var]
            async for chunk in chunks:
                yield chunk
    finally:
        await _release_slot(slot)


class TunerStreamResponse(StreamingHttpResponse):
    """A stream holding a tuner slot, also given back when the server closes the response."""

    def __init__(
        self, streaming_content: AsyncIterator[bytes], *, slot: tuners.Slot, **kwargs: Any
    ) -> None:
        super().__init__(streaming_content, **kwargs)
        self.slot = slot

    def close(self) -> None:
        tuners.slot_release(self.slot)
        super().close()


def unavailable(message: str, *, retry_after: int | None = None) -> HttpResponse:
    response = HttpResponse(f"{message}\n", status=503, content_type="text/plain; charset=utf-8")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


# --- The view ---------------------------------------------------------------------------------


@require_safe
async def live_stream(request: HttpRequest, slug: str) -> HttpResponseBase:
    """A continuous MPEG-TS of channel ``slug`` (``?rung=``; HDHomeRun's ``?transcode=`` ignored)."""
    if not isinstance(request, ASGIRequest):  # a WSGI server cannot run an endless async body
        return unavailable(
            "stream.ts needs an ASGI server (gunicorn with uvicorn workers); this one is WSGI. "
            f"The channel plays from /live/{slug}/master.m3u8."
        )
    query = Channel.objects.filter(is_active=True).select_related("channel_format")
    channel = await query.filter(slug=slug).afirst()
    if channel is None:
        raise Http404("no such channel")
    spec = channel.channel_format.to_spec()
    rung = await choose_rung(channel.slug, spec, request.GET.get("rung"))
    if rung is None:
        raise Http404("no such rung on the air")
    prefix = rung_prefix(channel.slug, rung)
    response: HttpResponseBase
    if request.method == "HEAD":  # a probe (no tuner): an endless body would run until it left
        response = HttpResponse(content_type=CONTENT_TYPE)
    else:
        limit = settings.CARILLON_STREAMS_PER_CHANNEL
        slot = await take_slot(slug=channel.slug, limit=limit)
        if slot is None:
            logger.info("live stream %s: all %d tuners in use", channel.slug, limit)
            return unavailable(
                f"All {limit} tuners of this channel are in use.",
                retry_after=tuners.RETRY_AFTER_SECONDS,
            )
        segments = stream_segments(
            prefix=prefix, epoch=channel.epoch, segment_ms=spec.segment_ms, tick=slot_keeper(slot)
        )
        response = TunerStreamResponse(
            holding(slot, segments), slot=slot, content_type=CONTENT_TYPE
        )
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx must pass the bytes on as they come
    response["Access-Control-Allow-Origin"] = "*"
    return response
