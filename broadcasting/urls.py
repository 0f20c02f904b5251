"""Routes of the broadcasting app: IPTV lists, HDHomeRun emulation, the live HLS (playlists and
segments, for deployments with nothing in front of public storage), and the editors' previews
of videos that are not public."""

from django.urls import path, re_path

from broadcasting.delivery import previews, stream, views_iptv, views_live

app_name = "broadcasting"
urlpatterns = [
    path("iptv/channels.m3u", views_iptv.channels_m3u, name="iptv-channels"),
    path("iptv/epg.xml", views_iptv.epg_xml, name="iptv-epg"),
    path("discover.json", views_iptv.discover_json, name="hdhomerun-discover"),
    path("lineup.json", views_iptv.lineup_json, name="hdhomerun-lineup"),
    path("lineup_status.json", views_iptv.lineup_status_json, name="hdhomerun-lineup-status"),
    path("live/<slug:slug>/stream.ts", stream.live_stream, name="live-stream"),
    path("live/<slug:slug>/master.m3u8", views_live.master_playlist, name="live-master"),
    path("live/<slug:slug>/<slug:rung>/index.m3u8", views_live.media_playlist, name="live-media"),
    re_path(
        r"^live/(?P<slug>[-\w]+)/(?P<rung>[-\w]+)/(?P<name>[0-9]+-[0-9a-f]+\.ts)$",
        views_live.segment,
        name="live-segment",
    ),
    path("device.xml", views_iptv.device_xml, name="hdhomerun-device"),
    path("previews/videos/<int:pk>/<path:name>", previews.video_preview, name="video-preview"),
]
