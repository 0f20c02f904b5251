"""The EPG as JSON: ``/api/v1/channels/<slug>/schedule?from=&to=``.

``from`` and ``to`` are ISO 8601 instants; without an offset they are read in the channel's
time zone. Defaults: now and 24 hours later; at most 8 days per request.
"""

from zoneinfo import ZoneInfo

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from playlists.models import Channel
from playlists.selectors import BadRange, entry_json, guide, requested_range


@require_GET
def channel_schedule(request: HttpRequest, slug: str) -> JsonResponse:
    channel = get_object_or_404(Channel, slug=slug, is_active=True)
    zone = ZoneInfo(channel.time_zone)
    try:
        start, end = requested_range(request.GET.get("from"), request.GET.get("to"), zone=zone)
    except BadRange as err:
        return JsonResponse({"error": str(err)}, status=400)
    body = {
        "channel": {"slug": channel.slug, "name": channel.name, "number": channel.number},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "time_zone": channel.time_zone,
        "entries": [
            entry_json(entry, zone) for entry in guide(channel=channel, start=start, end=end)
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response
