"""Public API of the programming app (mounted under ``/api/v1/``)."""

from django.urls import path

from playlists import api

app_name = "playlists"
urlpatterns = [
    path("channels/<slug:slug>/schedule", api.channel_schedule, name="channel-schedule"),
]
