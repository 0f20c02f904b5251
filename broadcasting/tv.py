"""The 10-foot TV player (``/tv/``) and the data it polls (``/api/v1/channels/<slug>/now``).

The page embeds the channels on air as JSON (never an inline script: the site's CSP forbids
them); ``static/tv/player.js`` plays each channel's live master playlist from public storage
with hls.js (or natively), and polls ``now`` for the banner, the ticker and the weather corner.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from broadcasting.media_store import public_storage
from playlists.api import entry_json
from playlists.models import Channel
from playlists.selectors import channels_on_air, guide

NOW_MAX_AGE = 2  # seconds: the banner and the ticker must follow the air closely
NEXT_COUNT = 3
LOOKAHEAD = dt.timedelta(hours=8)
POLL_SECONDS = 10


def master_url(channel: Channel) -> str:
    """Where the playout publishes the channel's live master playlist (storage or CDN)."""
    return public_storage().url(f"live/{channel.slug}/master.m3u8")


def now_payload(channel: Channel, *, at: dt.datetime) -> dict[str, Any]:
    zone = ZoneInfo(channel.time_zone)
    entries = guide(channel=channel, start=at, end=at + LOOKAHEAD)
    current = entries[0] if entries and entries[0].start <= at < entries[0].stop else None
    upcoming = entries[1:] if current is not None else entries
    return {
        "channel": {"slug": channel.slug, "name": channel.name, "number": channel.number},
        "now": entry_json(current, zone) if current is not None else None,
        "next": [entry_json(entry, zone) for entry in upcoming[:NEXT_COUNT]],
        "ticker": [],  # filled by the city feeds (a later issue)
        "weather": None,
        "server_time": at.isoformat(),
    }


@require_GET
def channel_now(request: HttpRequest, slug: str) -> JsonResponse:
    channel = get_object_or_404(Channel, slug=slug, is_active=True)
    response = JsonResponse(
        now_payload(channel, at=timezone.now()), json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = f"public, max-age={NOW_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _language(request: HttpRequest) -> str:
    """French unless ``?lang=`` asks for another site language (TVs' Accept-Language lies)."""
    wanted = request.GET.get("lang", "")
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@require_GET
def tv_page(request: HttpRequest) -> HttpResponse:
    channels = list(channels_on_air().order_by("number"))
    wanted = request.GET.get("channel")
    if wanted and not any(channel.slug == wanted for channel in channels):
        raise Http404("no such channel on air")
    language = _language(request)
    with translation.override(language):
        data = {
            "channels": [
                {
                    "slug": channel.slug,
                    "name": channel.name,
                    "number": channel.number,
                    "time_zone": channel.time_zone,
                    "master": master_url(channel),
                    "now_url": reverse("tv:channel-now", args=[channel.slug]),
                    "schedule_url": reverse("playlists:channel-schedule", args=[channel.slug]),
                }
                for channel in channels
            ],
            "initial": wanted or (channels[0].slug if channels else None),
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
        response = render(
            request,
            "broadcasting/tv.html",
            {"tv_data": data, "hls_url": static("vendor/hls/hls.min.js"), "language": language},
        )
    response["Cache-Control"] = "no-cache"
    return response
