"""Routes of the TV player and of the now/next API (and event stream) it follows."""

from django.urls import path

from broadcasting.delivery import tv

app_name = "tv"
urlpatterns = [
    path("tv/", tv.tv_page, name="tv"),
    path("api/v1/channels/<slug:slug>/now", tv.channel_now, name="channel-now"),
    path(
        "api/v1/channels/<slug:slug>/now/events",
        tv.channel_now_events,
        name="channel-now-events",
    ),
]
