"""The city data in the admin: sources' health, poll now, enable again, the item browser and
the citizen reports' approval, the dashboard's notice of disabled sources."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from city_feeds.models import FeedDelivery, FeedItem, FeedSource, FeedStandard, ReviewState
from city_feeds.selectors import items_fresh
from city_feeds.services import payload_ingest, source_failure_record
from tests.city_feeds.feed_factories import FeedSourceFactory, payload

pytestmark = pytest.mark.django_db


def test_the_sources_list_shows_their_health(admin_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_FEED_MAX_FAILURES = 1
    FeedSourceFactory(name="Parkings Chartres")
    failing = FeedSourceFactory(name="Météo Chartres")
    source_failure_record(source=failing, reason="HTTP 503 Service Unavailable")
    page = admin_client.get("/admin/feed_sources/").content.decode()
    assert "Parkings Chartres" in page and "Météo Chartres" in page
    assert "HTTP 503 Service Unavailable" in page  # the disabled reason
    assert f"/admin/feed_sources/enable/{failing.pk}/" in page
    dashboard = admin_client.get("/admin/").content.decode()
    assert "Météo Chartres" in dashboard and "HTTP 503" in dashboard


def test_enable_again_forgets_the_failures(admin_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_FEED_MAX_FAILURES = 1
    source = FeedSourceFactory()
    source_failure_record(source=source, reason="HTTP 500")
    assert not FeedSource.objects.get(pk=source.pk).enabled
    url = f"/admin/feed_sources/enable/{source.pk}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url).status_code == 302
    source.refresh_from_db()
    assert source.enabled and source.consecutive_failures == 0 and not source.disabled_reason


def test_poll_now_enqueues_a_poll(admin_client: Client) -> None:
    source = FeedSourceFactory(delivery=FeedDelivery.POLL, url="https://data.chartres.example/p")
    assert "Interroger maintenant" in admin_client.get("/admin/feed_sources/").content.decode()
    response = admin_client.post(f"/admin/feed_sources/poll/{source.pk}/", follow=True)
    assert "est en cours d’interrogation" in response.content.decode()


def test_a_resident_sees_no_source(client: Client) -> None:
    FeedSourceFactory()
    assert client.get("/admin/feed_sources/").status_code == 302  # to the login


def test_the_item_browser_filters_fresh_and_expired(admin_client: Client) -> None:
    source = FeedSourceFactory()
    now = timezone.now()
    payload_ingest(source=source, data=payload("ngsi-ld-notification-chartres-parkings.json"), now=now)  # fmt: skip
    FeedItem.objects.filter(title="Parking Cathédrale").update(
        expires_at=now - dt.timedelta(minutes=1)
    )
    FeedItem.objects.filter(title="Parking Hôtel de Ville").update(
        expires_at=now + dt.timedelta(minutes=10)
    )
    fresh = admin_client.get("/admin/feed_items/?freshness=fresh").content.decode()
    expired = admin_client.get("/admin/feed_items/?freshness=expired").content.decode()
    assert "Parking Hôtel de Ville" in fresh and "Parking Cathédrale" not in fresh
    assert "Parking Cathédrale" in expired and "Parking Hôtel de Ville" not in expired


def test_an_editor_approves_a_citizen_report_and_it_may_air(admin_client: Client) -> None:
    source = FeedSourceFactory(standard=FeedStandard.OPEN311)
    payload_ingest(source=source, data=payload("open311-chartres-requests.json"), now=timezone.now())  # fmt: skip
    report = FeedItem.objects.filter(source=source).first()
    assert report is not None
    pending = admin_client.get("/admin/feed_items/?review=pending").content.decode()
    assert f"/admin/feed_items/review/{report.pk}/approve/" in pending
    assert admin_client.post(f"/admin/feed_items/review/{report.pk}/approve/").status_code == 302
    report.refresh_from_db()
    assert report.review == ReviewState.APPROVED and report.reviewed_by is not None
    assert report in items_fresh(kind="citizen_report")
    admin_client.post(f"/admin/feed_items/review/{report.pk}/reject/")
    report.refresh_from_db()
    assert report.review == ReviewState.REJECTED
    assert report not in items_fresh(kind="citizen_report")


def test_items_cannot_be_added_by_hand(admin_client: Client) -> None:
    assert admin_client.get("/admin/feed_items/new/").status_code in (302, 403)
