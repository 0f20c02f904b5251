"""The live channel's playlists and segments served by the web process.

For deployments with no nginx in front of public storage, and as a CDN's origin:
``/live/<slug>/master.m3u8``, ``/live/<slug>/<rung>/index.m3u8`` and the content-addressed
segments they list. The playout publishes the files; these views only hand them out.

A playlist changes once per segment, so its bytes are kept in memory per (channel, rung) for the
sequence airing now: one storage read per segment and rung, then every viewer gets the same
bytes with no I/O. A media playlist is kept only when it is current (its last listed segment is
the one airing now); a late one is served but read again on the next request, so the new window
appears as soon as the playout has written it. The facts of a channel needed to compute the
sequence (epoch, segment length, rungs, on air) are kept for ``FACTS_TTL`` seconds, so a request
normally makes no database query.
"""

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.core.files.storage import Storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_safe

from broadcasting.live.store import master_name, playlist_name, read_file, rung_prefix
from broadcasting.media.grid import sequence_at
from broadcasting.media.storage import public_storage
from playlists.models import Channel

logger = logging.getLogger(__name__)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
SEGMENT_CACHE = "public, max-age=86400, immutable"
FACTS_TTL = 30.0  # seconds a channel's facts are trusted without asking the database
MAX_FACTS = 256  # bound on remembered slugs (unknown ones included)
MASTER = ""  # the memo's rung key of the master playlist

# Indirections the tests replace with a controllable clock.
clock: Callable[[], dt.datetime] = timezone.now
monotonic: Callable[[], float] = time.monotonic

_SEQUENCE_LINE = re.compile(rb"^#EXT-X-MEDIA-SEQUENCE:(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ChannelFacts:
    """What a playlist request needs to know about a channel."""

    epoch: dt.datetime
    segment_ms: int
    rungs: frozenset[str]

    def sequence_at(self, at: dt.datetime) -> int:
        return sequence_at(at, epoch=self.epoch, segment_ms=self.segment_ms)

    @property
    def max_age(self) -> int:
        """Half a segment, in whole seconds: a viewer never misses a window."""
        return self.segment_ms // 2000

    @property
    def retry_after(self) -> int:
        return math.ceil(self.segment_ms / 1000)


# slug -> (facts or None for "no such channel on air", monotonic expiry)
_facts: dict[str, tuple[ChannelFacts | None, float]] = {}
# (slug, rung or MASTER) -> (sequence, bytes): only the latest sequence per key
_memo: dict[tuple[str, str], tuple[int, bytes]] = {}


def forget() -> None:
    """Drop every remembered fact and playlist (tests; a process never needs it)."""
    _facts.clear()
    _memo.clear()


def last_listed_sequence(playlist: bytes) -> int | None:
    """The sequence of the last segment a media playlist lists (``None`` if it lists none)."""
    found = _SEQUENCE_LINE.search(playlist)
    if found is None:
        return None
    uris = [line for line in playlist.splitlines() if line.strip() and not line.startswith(b"#")]
    if not uris:
        return None
    return int(found.group(1)) + len(uris) - 1


def _load_facts(slug: str) -> ChannelFacts | None:
    channel = (
        Channel.objects.select_related("channel_format").filter(slug=slug, is_active=True).first()
    )
    if channel is None:
        return None
    spec = channel.channel_format.to_spec()
    return ChannelFacts(
        epoch=channel.epoch,
        segment_ms=spec.segment_ms,
        rungs=frozenset(rung.name for rung in spec.rungs),
    )


async def channel_facts(slug: str) -> ChannelFacts | None:
    """The channel's facts, from memory when fetched less than ``FACTS_TTL`` seconds ago."""
    now = monotonic()
    known = _facts.get(slug)
    if known is not None and known[1] > now:
        return known[0]
    facts = await sync_to_async(_load_facts, thread_sensitive=True)(slug)
    if len(_facts) >= MAX_FACTS:
        _facts.clear()
    _facts[slug] = (facts, now + FACTS_TTL)
    return facts


async def _published(name: str) -> bytes | None:
    return await sync_to_async(read_file, thread_sensitive=False)(public_storage(), name)


@dataclass(frozen=True)
class Served:
    """A playlist answer, independent of Django's response classes: the Django views and the
    ASGI front (``broadcasting.delivery.asgi``) send the same status, bytes and headers."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


def _playlist(data: bytes, facts: ChannelFacts) -> Served:
    return Served(
        200,
        data,
        (
            ("Content-Type", PLAYLIST_TYPE),
            ("Cache-Control", f"public, max-age={facts.max_age}"),
            ("Access-Control-Allow-Origin", "*"),
        ),
    )


def _not_yet(facts: ChannelFacts) -> Served:
    return Served(
        503,
        b"not published yet\n",
        (
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Retry-After", str(facts.retry_after)),
            ("Cache-Control", "no-store"),
            ("Access-Control-Allow-Origin", "*"),
        ),
    )


async def serve_playlist(slug: str, rung: str | None) -> Served | None:
    """The master playlist (``rung`` None) or a rung's media playlist as published now, or
    ``None`` when the channel or the rung is not on air. The master is remembered per
    sequence; a media playlist only once current (its last listed segment airs now)."""
    facts = await channel_facts(slug)
    if facts is None or (rung is not None and rung not in facts.rungs):
        return None
    sequence = facts.sequence_at(clock())
    key = (slug, MASTER if rung is None else rung)
    hit = _memo.get(key)
    if hit is not None and hit[0] == sequence:
        return _playlist(hit[1], facts)
    data = await _published(master_name(slug) if rung is None else playlist_name(slug, rung))
    if not data:
        return _not_yet(facts)
    if rung is None or last_listed_sequence(data) == sequence:
        _memo[key] = (sequence, data)
    else:
        logger.debug("live playlist not current slug=%s rung=%s seq=%s", slug, rung, sequence)
    return _playlist(data, facts)


def _response(served: Served | None) -> HttpResponse:
    if served is None:
        raise Http404("no such channel or rung on air")
    response = HttpResponse(served.body, status=served.status)
    for header, value in served.headers:
        response[header] = value
    return response


async def _known(slug: str, rung: str) -> ChannelFacts:
    facts = await channel_facts(slug)
    if facts is None or rung not in facts.rungs:
        raise Http404("no such channel or rung on air")
    return facts


@require_safe
async def master_playlist(request: HttpRequest, slug: str) -> HttpResponse:
    """``/live/<slug>/master.m3u8``: read once per segment."""
    return _response(await serve_playlist(slug, None))


@require_safe
async def media_playlist(request: HttpRequest, slug: str, rung: str) -> HttpResponse:
    """``/live/<slug>/<rung>/index.m3u8``: remembered once current, for the sequence airing."""
    return _response(await serve_playlist(slug, rung))


def _segment_response(storage: Storage, name: str) -> HttpResponseBase:
    """The segment's file when storage is local, else a redirect to its public URL."""
    try:
        path = storage.path(name)
    except NotImplementedError:
        redirect = HttpResponseRedirect(storage.url(name))
        redirect["Access-Control-Allow-Origin"] = "*"
        return redirect
    try:
        handle = open(path, "rb")  # FileResponse closes it
    except FileNotFoundError as err:
        raise Http404("segment not published") from err
    response = FileResponse(handle, content_type=SEGMENT_TYPE)
    response["Cache-Control"] = SEGMENT_CACHE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
async def segment(request: HttpRequest, slug: str, rung: str, name: str) -> HttpResponseBase:
    """``/live/<slug>/<rung>/<n>-<hash>.ts``: content-addressed, so cached for good."""
    await _known(slug, rung)
    target = f"{rung_prefix(slug, rung)}/{name}"
    return await sync_to_async(_segment_response, thread_sensitive=False)(public_storage(), target)
