"""IPTV and HDHomeRun endpoints: load channels and guide, render with the pure modules.

``/iptv/channels.m3u`` and ``/iptv/epg.xml`` for IPTV apps; ``/discover.json``,
``/lineup.json``, ``/lineup_status.json`` and ``/device.xml`` for Plex, Jellyfin and Emby.
URLs are absolute, built from ``settings.CARILLON_BASE_URL``. The XMLTV guide covers the coming
week (IPTV apps and Plex expect 7 days) and is cached per channel timeline version and window
(``playlists.selectors.guide_cached``): a viewer's request costs no rebuild.
"""

import datetime as dt
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from broadcasting.delivery import hdhomerun, iptv
from broadcasting.live.store import master_name
from broadcasting.models import Asset
from config.secret_files import hdhomerun_device_id
from playlists.models import Channel
from playlists.selectors import (
    BadRange,
    GuideEntry,
    channels_on_air,
    guide,
    guide_cache_key,
    guide_cached,
    guide_window,
    requested_range,
)

M3U_CONTENT_TYPE = "audio/x-mpegurl; charset=utf-8"
XML_CONTENT_TYPE = "application/xml; charset=utf-8"
DEVICE_XML_CONTENT_TYPE = "text/xml; charset=utf-8"
EPG_BEFORE = dt.timedelta(hours=2)
EPG_AFTER = dt.timedelta(days=7)
CACHE_SECONDS = 60


def base_url() -> str:
    """The site's absolute base URL without a trailing slash."""
    return str(settings.CARILLON_BASE_URL).rstrip("/")


def absolute(url: str) -> str:
    """``url`` made absolute against the base URL (absolute URLs are kept as they are)."""
    return urljoin(f"{base_url()}/", url) if url else ""


def live_master_url(slug: str) -> str:
    """The live master playlist's absolute URL (``/live/...`` mirrors the live store's names)."""
    return f"{base_url()}/{master_name(slug)}"


def live_stream_url(slug: str) -> str:
    return f"{base_url()}/live/{slug}/stream.ts"


def channel_listing(channel: Channel) -> iptv.ChannelListing:
    """A channel as the IPTV renderers take it."""
    logo = channel.logo
    return iptv.ChannelListing(
        tvg_id=iptv.tvg_id(channel.slug),
        number=channel.number,
        name=channel.name,
        group=channel.group_title,
        logo_url=absolute(logo.file.url) if logo is not None and logo.file else "",
        stream_url=live_master_url(channel.slug),
        page_url=f"{base_url()}/tv/",
        time_zone=channel.time_zone,
    )


def programme_listings(entries: list[GuideEntry]) -> list[iptv.ProgrammeListing]:
    """Guide entries as XMLTV programmes; an event's video title becomes its sub-title."""
    asset_titles = _asset_titles(entries)
    return [
        iptv.ProgrammeListing(
            start=entry.start,
            stop=entry.stop,
            title=entry.title,
            sub_title=_sub_title(entry, asset_titles),
            description=entry.description,
            category=entry.category,
            icon_url=absolute(entry.poster_url),
        )
        for entry in entries
    ]


def _asset_titles(entries: list[GuideEntry]) -> dict[int, str]:
    ids = {e.asset_id for e in entries if e.event_id is not None and e.asset_id is not None}
    if not ids:
        return {}
    return dict(Asset.objects.filter(pk__in=ids).values_list("pk", "title"))


def _sub_title(entry: GuideEntry, asset_titles: dict[int, str]) -> str:
    if entry.event_id is None or entry.asset_id is None:
        return ""
    title = asset_titles.get(entry.asset_id, "")
    return "" if title == entry.title else title


def epg_window(request: HttpRequest) -> tuple[dt.datetime, dt.datetime]:
    """``?from=&to=`` (ISO 8601, as the schedule API reads them) or now − 2 h to now + 7 days,
    widened to the guide's cache grid."""
    raw_from, raw_to = request.GET.get("from"), request.GET.get("to")
    if raw_from or raw_to:
        return guide_window(*requested_range(raw_from, raw_to, zone=ZoneInfo(settings.TIME_ZONE)))
    now = timezone.now()
    return guide_window(now - EPG_BEFORE, now + EPG_AFTER)


def _cached(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def channels_m3u(request: HttpRequest) -> HttpResponse:
    listings = [channel_listing(channel) for channel in channels_on_air()]
    body = iptv.channels_m3u(listings, epg_url=f"{base_url()}/iptv/epg.xml")
    return _cached(HttpResponse(body, content_type=M3U_CONTENT_TYPE))


@require_safe
def epg_xml(request: HttpRequest) -> HttpResponse:
    try:
        start, end = epg_window(request)
    except BadRange as err:
        return JsonResponse({"error": str(err)}, status=400)
    channels = list(channels_on_air())
    key = guide_cache_key(kind=f"xmltv {base_url()}", channels=channels, start=start, end=end)
    body = guide_cached(key=key, render=lambda: _xmltv(channels, start, end))
    return _cached(HttpResponse(body, content_type=XML_CONTENT_TYPE))


def _xmltv(channels: list[Channel], start: dt.datetime, end: dt.datetime) -> bytes:
    listings = [channel_listing(channel) for channel in channels]
    programmes = {
        iptv.tvg_id(channel.slug): programme_listings(guide(channel=channel, start=start, end=end))
        for channel in channels
    }
    return iptv.xmltv(listings, programmes, generator="Carillon", source=base_url())


def tuner() -> hdhomerun.Device:
    """The emulated tuner: the configured device id, else this installation's random one."""
    return hdhomerun.Device(
        device_id=hdhomerun_device_id(),
        base_url=base_url(),
        tuner_count=settings.CARILLON_HDHOMERUN_TUNER_COUNT,
    )


@require_safe
def discover_json(request: HttpRequest) -> JsonResponse:
    device = tuner()
    body = hdhomerun.discover(device, auth=hdhomerun.device_auth(device))
    return JsonResponse(body)


@require_safe
def lineup_json(request: HttpRequest) -> JsonResponse:
    channels = [
        hdhomerun.LineupChannel(
            number=channel.number, name=channel.name, stream_url=live_stream_url(channel.slug)
        )
        for channel in channels_on_air()
    ]
    return JsonResponse(
        hdhomerun.lineup(channels), safe=False, json_dumps_params={"ensure_ascii": False}
    )


@require_safe
def lineup_status_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(hdhomerun.lineup_status())


@require_safe
def device_xml(request: HttpRequest) -> HttpResponse:
    return HttpResponse(hdhomerun.device_xml(tuner()), content_type=DEVICE_XML_CONTENT_TYPE)
