"""The EPG as JSON: ``/api/v1/channels/<slug>/schedule?from=&to=``.

``from`` and ``to`` are ISO 8601 instants; without an offset they are read in the channel's
time zone. Defaults: now and 24 hours later; at most 8 days per request.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from playlists.models import Channel
from playlists.selectors import GuideEntry, guide

MAX_RANGE = dt.timedelta(days=8)
DEFAULT_RANGE = dt.timedelta(hours=24)


class BadRange(ValueError):
    """The request's ``from``/``to`` cannot be used."""


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


def requested_range(
    raw_from: str | None, raw_to: str | None, *, zone: ZoneInfo, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """Parse and check the requested window (aware UTC instants)."""
    start = _instant(raw_from, zone) if raw_from else (now or timezone.now())
    end = _instant(raw_to, zone) if raw_to else start + DEFAULT_RANGE
    if end <= start:
        raise BadRange("'to' must be after 'from'")
    if end - start > MAX_RANGE:
        raise BadRange("the range is limited to 8 days")
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _instant(raw: str, zone: ZoneInfo) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError as err:
        raise BadRange(f"not an ISO 8601 date-time: {raw!r}") from err
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def entry_json(entry: GuideEntry, zone: ZoneInfo) -> dict[str, object]:
    """A guide entry as JSON, with UTC and local times (shared by the schedule and now APIs)."""
    return {
        "start": entry.start.isoformat(),
        "stop": entry.stop.isoformat(),
        "start_local": entry.start.astimezone(zone).isoformat(),
        "stop_local": entry.stop.astimezone(zone).isoformat(),
        "title": entry.title,
        "description": entry.description,
        "category": entry.category,
        "poster": entry.poster_url,
        "kind": entry.kind,
        "asset_id": entry.asset_id,
        "event_id": entry.event_id,
    }
