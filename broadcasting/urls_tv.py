"""Routes of the TV player and of the now/next API it polls."""

from django.urls import path

from broadcasting import tv

app_name = "tv"
urlpatterns = [
    path("tv/", tv.tv_page, name="tv"),
    path("api/v1/channels/<slug:slug>/now", tv.channel_now, name="channel-now"),
]
