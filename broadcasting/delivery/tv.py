"""The TV player (``/tv/`` and the channel page of the public site) and the data it follows:
``/api/v1/channels/<slug>/now`` and its server-sent events ``/api/v1/channels/<slug>/now/events``.

A page embeds the player's data as JSON (never an inline script: the site's CSP forbids them);
``static/tv/player.js`` plays each channel's live master playlist from public storage with
hls.js (or natively) and listens to the events (polling ``now`` where they are unavailable) for
the banner, the ticker and the weather corner. The payload lists the entries around the server's
now, because the picture the viewer sees is some seconds behind it: the player picks the entry
airing at the instant it is playing.
"""

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from broadcasting.live.store import master_url
from city_feeds.selectors import ticker_lines
from city_feeds.weather_corner import weather_now
from playlists.models import Channel
from playlists.selectors import channels_on_air, entry_json, guide_around

NOW_MAX_AGE = 2  # seconds: the banner and the ticker must follow the air closely
NEXT_COUNT = 3
BEHIND = dt.timedelta(minutes=2)  # how far behind the server's now a viewer's picture may be
LOOKAHEAD = dt.timedelta(hours=8)
POLL_SECONDS = 10

EVENTS_RETRY_MS = 5000  # how soon a browser reconnects a lost event stream
KEEPALIVE_SECONDS = 15.0  # a comment at least this often keeps proxies from closing the stream
RECHECK_SECONDS = 60.0  # re-read the schedule this often anyway (an editor may rebuild it)
WAKE_MARGIN_SECONDS = 0.05  # wake just after an instant, never just before it
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Indirections the tests replace with a controllable clock.
clock: Callable[[], dt.datetime] = timezone.now
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


# --- Now and next -----------------------------------------------------------------------------


def now_payload(channel: Channel, *, at: dt.datetime) -> dict[str, Any]:
    """What airs at ``at`` and after it, plus ``entries``: the entries of the last ``BEHIND``
    too, so that a player whose picture lags behind ``at`` finds what it is showing. Reads only
    those entries' items (a few LIMITed pages), never the whole ``LOOKAHEAD``."""
    zone = ZoneInfo(channel.time_zone)
    entries = guide_around(
        channel=channel, at=at, behind=BEHIND, following=NEXT_COUNT, ahead=LOOKAHEAD
    )
    current = next((entry for entry in entries if entry.start <= at < entry.stop), None)
    upcoming = [entry for entry in entries if entry.start > at][:NEXT_COUNT]
    known = [entry for entry in entries if entry.start <= at] + upcoming
    return {
        "channel": {"slug": channel.slug, "name": channel.name, "number": channel.number},
        "now": entry_json(current, zone) if current is not None else None,
        "next": [entry_json(entry, zone) for entry in upcoming],
        "entries": [entry_json(entry, zone) for entry in known],
        "ticker": ticker_lines(channel=channel, now=at),
        "weather": weather_now(now=at),
        "server_time": at.isoformat(),
    }


def payload_changes_at(payload: dict[str, Any], *, after: dt.datetime) -> dt.datetime | None:
    """The first instant after ``after`` at which ``payload`` goes stale: an entry starts, or
    an entry that ended leaves the ``BEHIND`` window (``None`` if the schedule is empty)."""
    instants: list[dt.datetime] = []
    for entry in payload["entries"]:
        instants.append(dt.datetime.fromisoformat(entry["start"]))
        instants.append(dt.datetime.fromisoformat(entry["stop"]) + BEHIND)
    return min((instant for instant in instants if instant > after), default=None)


def payload_content(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without its time stamp: what a viewer would see change."""
    return {key: value for key, value in payload.items() if key != "server_time"}


@require_GET
def channel_now(request: HttpRequest, slug: str) -> JsonResponse:
    channel = get_object_or_404(Channel, slug=slug, is_active=True)
    response = JsonResponse(
        now_payload(channel, at=timezone.now()), json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = f"public, max-age={NOW_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- Now and next as server-sent events -------------------------------------------------------


def _release_connection() -> None:
    """Give the database connection back (unless inside a transaction): a long-lived stream
    must hold none between two reads."""
    if not connection.in_atomic_block:
        connection.close()


def _active_channel(slug: str) -> Channel | None:
    try:
        return Channel.objects.filter(slug=slug, is_active=True).first()
    finally:
        _release_connection()


def _current_payload(channel: Channel, language: str) -> dict[str, Any]:
    """``now_payload`` at the clock's now."""
    try:
        with translation.override(language):
            return now_payload(channel, at=clock())
    finally:
        _release_connection()


def sse_event(payload: dict[str, Any], *, retry_ms: int | None = None) -> str:
    """One ``now`` event: its id is the server time in milliseconds, its data one JSON line."""
    at = dt.datetime.fromisoformat(payload["server_time"])
    lines = [f"retry: {retry_ms}"] if retry_ms is not None else []
    lines += [
        f"id: {(at - EPOCH) // dt.timedelta(milliseconds=1)}",
        "event: now",
        f"data: {json.dumps(payload, ensure_ascii=False)}",
    ]
    return "\n".join(lines) + "\n\n"


async def now_events(*, channel: Channel, language: str) -> AsyncIterator[str]:
    """The payload at once, then each time it changes, with a keepalive comment in between."""
    read = sync_to_async(_current_payload)
    payload = await read(channel, language)
    yield sse_event(payload, retry_ms=EVENTS_RETRY_MS)
    sent = payload_content(payload)
    last_write = last_read = clock()
    while True:
        now = clock()
        due = payload_changes_at(payload, after=now)
        recheck = last_read + dt.timedelta(seconds=RECHECK_SECONDS)
        keepalive = last_write + dt.timedelta(seconds=KEEPALIVE_SECONDS)
        wake = min(instant for instant in (due, recheck, keepalive) if instant is not None)
        await sleep(max((wake - now).total_seconds(), 0.0) + WAKE_MARGIN_SECONDS)
        now = clock()
        if (due is not None and now >= due) or now >= recheck:
            payload, last_read = await read(channel, language), now
            if payload_content(payload) != sent:
                sent, last_write = payload_content(payload), now
                yield sse_event(payload)
                continue
        if now >= last_write + dt.timedelta(seconds=KEEPALIVE_SECONDS):
            last_write = now
            yield ": keepalive\n\n"


@require_GET
async def channel_now_events(request: HttpRequest, slug: str) -> HttpResponseBase:
    """``text/event-stream`` of channel ``slug``'s now/next (an async view: no worker held).
    Under a WSGI server (``runserver``) it answers 204, which tells browsers not to retry."""
    channel = await sync_to_async(_active_channel)(slug)
    if channel is None:
        raise Http404("no such channel on air")
    if not isinstance(request, ASGIRequest):  # a WSGI server would wait for an endless body
        return HttpResponse(status=204)  # EventSource gives up; the player polls instead
    response = StreamingHttpResponse(
        now_events(channel=channel, language=translation.get_language() or "fr"),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx must pass each event on as it comes
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- The player's pages -----------------------------------------------------------------------


def _language(request: HttpRequest) -> str:
    """French unless ``?lang=`` asks for another site language (TVs' Accept-Language lies)."""
    wanted = request.GET.get("lang", "")
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "slug": channel.slug,
        "name": channel.name,
        "number": channel.number,
        "time_zone": channel.time_zone,
        "master": master_url(channel.slug),
        "now_url": reverse("tv:channel-now", args=[channel.slug]),
        "events_url": reverse("tv:channel-now-events", args=[channel.slug]),
        "schedule_url": reverse("playlists:channel-schedule", args=[channel.slug]),
    }


def player_data(
    *, channels: Sequence[Channel], initial: str | None, language: str, embedded: bool
) -> dict[str, Any]:
    """The JSON a page embeds for ``static/tv/player.js``: full screen (``/tv/``, every
    channel, remote keys) or ``embedded`` in a page (one channel, keys when it has focus)."""
    with translation.override(language):
        return {
            "channels": [_channel_json(channel) for channel in channels],
            "initial": initial or (channels[0].slug if channels else None),
            "embedded": embedded,
            "language": language,
            "time_zone": settings.TIME_ZONE,
            "poll_seconds": POLL_SECONDS,
            "labels": {
                "now": _("Now"),
                "next": _("Next"),
                "guide": _("Programme guide"),
                "no_information": _("No programme information"),
                "reconnecting": _("Reconnecting…"),
                "no_channel": _("No channel is on air."),
                "weather": _("Weather"),
            },
        }


@require_GET
def tv_page(request: HttpRequest) -> HttpResponse:
    channels = list(channels_on_air().order_by("number"))
    wanted = request.GET.get("channel")
    if wanted and not any(channel.slug == wanted for channel in channels):
        raise Http404("no such channel on air")
    language = _language(request)
    data = player_data(channels=channels, initial=wanted, language=language, embedded=False)
    with translation.override(language):
        response = render(request, "broadcasting/tv.html", {"tv_data": data, "language": language})
    response["Cache-Control"] = "no-cache"
    return response
