"""Mounted under ``api/v1/feeds/`` (see ``config.urls``)."""

from django.urls import path

from city_feeds import views

app_name = "city_feeds"

urlpatterns = [
    path("<slug:slug>/push", views.feed_push, name="push"),
]
