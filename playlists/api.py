"""The EPG as JSON: ``/api/v1/channels/<slug>/schedule?from=&to=``.

``from`` and ``to`` are ISO 8601 instants between 1970 and 9998; without an offset they are
read in the channel's time zone. Defaults: now and 24 hours later; at most 8 days per request.
The window served is the one asked for widened to the guide's cache grid (``from`` and ``to``
in the answer say which); the answer is cached per channel, timeline version and window.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from playlists.models import Channel
from playlists.selectors import (
    BadRange,
    entry_json,
    guide,
    guide_cache_key,
    guide_cached,
    guide_window,
    requested_range,
)


@require_GET
def channel_schedule(request: HttpRequest, slug: str) -> HttpResponse:
    channel = get_object_or_404(Channel, slug=slug, is_active=True)
    zone = ZoneInfo(channel.time_zone)
    try:
        start, end = requested_range(request.GET.get("from"), request.GET.get("to"), zone=zone)
    except BadRange as err:
        return JsonResponse({"error": str(err)}, status=400)
    start, end = guide_window(start, end)
    key = guide_cache_key(kind="schedule", channels=[channel], start=start, end=end)
    body = guide_cached(key=key, render=lambda: _schedule_json(channel, start, end))
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _schedule_json(channel: Channel, start: dt.datetime, end: dt.datetime) -> bytes:
    zone = ZoneInfo(channel.time_zone)
    body = {
        "channel": {"slug": channel.slug, "name": channel.name, "number": channel.number},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "time_zone": channel.time_zone,
        "entries": [
            entry_json(entry, zone) for entry in guide(channel=channel, start=start, end=end)
        ],
    }
    return json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
