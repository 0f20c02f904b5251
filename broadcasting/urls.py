"""Public routes of the broadcasting app: IPTV lists and HDHomeRun emulation."""

from django.urls import path

from broadcasting import stream, views_iptv

app_name = "broadcasting"
urlpatterns = [
    path("iptv/channels.m3u", views_iptv.channels_m3u, name="iptv-channels"),
    path("iptv/epg.xml", views_iptv.epg_xml, name="iptv-epg"),
    path("discover.json", views_iptv.discover_json, name="hdhomerun-discover"),
    path("lineup.json", views_iptv.lineup_json, name="hdhomerun-lineup"),
    path("lineup_status.json", views_iptv.lineup_status_json, name="hdhomerun-lineup-status"),
    path("live/<slug:slug>/stream.ts", stream.live_stream, name="live-stream"),
    path("device.xml", views_iptv.device_xml, name="hdhomerun-device"),
]
