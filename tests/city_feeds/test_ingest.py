"""Payloads in: items upserted by external id, their expiry, the sources' health, alerts handed
over, citizen reports held for review, the ticker's lines, and ``ingest_feed``."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from city_feeds.items import FeedError, Item
from city_feeds.models import FeedItem, FeedSource, FeedStandard, ReviewState
from city_feeds.selectors import items_fresh, ticker_lines
from city_feeds.services import items_expire, payload_ingest, report_review
from city_feeds.signals import alert_items_received
from tests.city_feeds.feed_factories import FeedSourceFactory, payload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# The Chartres payloads were observed on 14 June 2025 around 12:00 UTC.
NOW = dt.datetime(2025, 6, 14, 12, 30, tzinfo=UTC)
PARKINGS = "ngsi-ld-notification-chartres-parkings.json"
CATHEDRALE = "urn:ngsi-ld:OffStreetParking:chartres-cathedrale"


def parkings_with(free_spaces: list[int]) -> bytes:
    """The Chartres NGSI-LD notification with its first car park repeated, once per count."""
    document = json.loads(payload(PARKINGS))
    first = document["data"][0]
    document["data"] = []
    for count in free_spaces:
        entity = json.loads(json.dumps(first))
        entity["availableSpotNumber"]["value"] = count
        document["data"].append(entity)
    return json.dumps(document).encode()


def free_spaces(item: FeedItem) -> object:
    return next(v["value"] for v in item.values if v["name"] == "free_spaces")


def test_a_payload_creates_items_and_the_same_ids_update_them() -> None:
    source = FeedSourceFactory()
    first = payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    assert (first.created, first.updated) == (2, 0)
    again = payload_ingest(source=source, data=parkings_with([12]), now=NOW)
    assert (again.created, again.updated) == (0, 1)
    assert FeedItem.objects.filter(source=source).count() == 2
    assert free_spaces(FeedItem.objects.get(external_id=CATHEDRALE)) == 12


def test_the_same_id_in_two_sources_makes_two_items() -> None:
    one, other = FeedSourceFactory(), FeedSourceFactory()
    payload_ingest(source=one, data=payload(PARKINGS), now=NOW)
    payload_ingest(source=other, data=payload(PARKINGS), now=NOW)
    assert FeedItem.objects.filter(external_id=CATHEDRALE).count() == 2


def test_duplicates_within_one_payload_keep_the_last() -> None:
    source = FeedSourceFactory()
    result = payload_ingest(source=source, data=parkings_with([5, 6, 7]), now=NOW)
    assert (result.created, result.updated) == (1, 0)
    assert free_spaces(FeedItem.objects.get(source=source)) == 7


def test_an_item_expires_at_its_observation_plus_the_sources_ttl() -> None:
    source = FeedSourceFactory(ttl_seconds=600)
    payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    item = FeedItem.objects.get(external_id=CATHEDRALE)
    assert item.observed_at is not None
    assert item.expires_at == item.observed_at + dt.timedelta(seconds=600)
    assert item in items_fresh(kind="parking", now=item.expires_at - dt.timedelta(seconds=1))
    assert item not in items_fresh(kind="parking", now=item.expires_at)


def test_an_item_with_a_validity_expires_at_its_end() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP, ttl_seconds=60)
    payload_ingest(source=source, data=payload("cap-chartres-orages.xml"), now=NOW)
    alert = FeedItem.objects.get(source=source, kind="alert")
    assert alert.expires_at == alert.valid_until == dt.datetime(2025, 6, 15, 4, tzinfo=UTC)


def test_an_item_without_observation_lives_ttl_from_its_arrival() -> None:
    source = FeedSourceFactory(standard=FeedStandard.OPEN311, ttl_seconds=900)
    payload_ingest(source=source, data=payload("open311-chartres-requests.json"), now=NOW)
    unobserved = FeedItem.objects.filter(source=source, observed_at__isnull=True)
    assert unobserved.exists()
    assert {item.expires_at for item in unobserved} == {NOW + dt.timedelta(seconds=900)}


def test_items_expire_deletes_only_items_expired_longer_than_kept() -> None:
    source = FeedSourceFactory(ttl_seconds=600)
    payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    expiries = sorted(FeedItem.objects.values_list("expires_at", flat=True))
    assert len(expiries) == 2 and expiries[0] < expiries[1]
    deleted = items_expire(now=expiries[0] + dt.timedelta(seconds=1), keep=dt.timedelta(0))
    assert deleted == 1
    assert FeedItem.objects.get().expires_at == expiries[1]
    assert items_expire(now=expiries[1] + dt.timedelta(hours=1)) == 0  # kept a day


def test_citizen_reports_await_review_and_an_approval_survives_updates() -> None:
    source = FeedSourceFactory(standard=FeedStandard.OPEN311)
    data = payload("open311-chartres-requests.json")
    payload_ingest(source=source, data=data, now=NOW)
    reports = FeedItem.objects.filter(source=source)
    assert reports and {r.review for r in reports} == {ReviewState.PENDING}
    assert not items_fresh(kind="citizen_report", now=NOW).exists()
    approved = reports.first()
    assert approved is not None
    report_review(item=approved, approve=True, editor=UserFactory())
    payload_ingest(source=source, data=data, now=NOW)
    approved.refresh_from_db()
    assert approved.review == ReviewState.APPROVED
    assert list(items_fresh(kind="citizen_report", now=NOW)) == [approved]


def test_an_unreadable_payload_is_recorded_and_the_items_stay() -> None:
    source = FeedSourceFactory()
    payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    with pytest.raises(FeedError):
        payload_ingest(source=source, data=b'{"data": [', now=NOW)
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    assert source.last_failure_at == NOW and "JSON" in source.last_failure_reason
    assert FeedItem.objects.filter(source=source).count() == 2
    payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    source.refresh_from_db()
    assert (source.consecutive_failures, source.last_success_at) == (0, NOW)


def test_a_payload_over_the_limit_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_FEED_MAX_BYTES = 100
    source = FeedSourceFactory()
    with pytest.raises(FeedError, match="too large"):
        payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    assert not FeedItem.objects.exists()


def test_a_source_is_disabled_after_the_limit_and_the_editors_told(
    settings,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    settings.CARILLON_FEED_MAX_FAILURES = 3
    editor = UserFactory(email="redaction@chartres.example")
    editor.groups.add(Group.objects.get(name="Éditeurs CMIN"))
    UserFactory(email="resident@chartres.example")
    source = FeedSourceFactory(name="Parkings de Chartres")
    payload_ingest(source=source, data=payload(PARKINGS), now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            with pytest.raises(FeedError):
                payload_ingest(source=source, data=b"not json", now=NOW)
            source.refresh_from_db()
            assert source.enabled == (source.consecutive_failures < 3)
    assert "3" in source.disabled_reason
    assert len(mail.outbox) == 1  # told once, not at every failure after the limit
    assert mail.outbox[0].to == ["redaction@chartres.example"]
    assert "Parkings de Chartres" in mail.outbox[0].subject
    # The last good data stay until they expire.
    assert FeedItem.objects.filter(source=source).count() == 2
    assert items_fresh(kind="parking", now=NOW).count() == 2


def test_alert_items_are_handed_to_the_receivers() -> None:
    received: list[tuple[FeedSource, tuple[Item, ...]]] = []

    def receiver(sender: object, source: FeedSource, items: tuple[Item, ...], **kwargs: object) -> None:  # fmt: skip
        received.append((source, items))

    def failing(**kwargs: object) -> None:
        raise RuntimeError("a broken receiver")

    source = FeedSourceFactory(standard=FeedStandard.CAP)
    alert_items_received.connect(receiver, dispatch_uid="test-receiver")
    alert_items_received.connect(failing, dispatch_uid="test-failing")
    try:
        result = payload_ingest(source=source, data=payload("cap-chartres-orages.xml"), now=NOW)
        payload_ingest(source=FeedSourceFactory(), data=payload(PARKINGS), now=NOW)
    finally:
        alert_items_received.disconnect(dispatch_uid="test-receiver")
        alert_items_received.disconnect(dispatch_uid="test-failing")
    assert result.alerts == 1
    assert len(received) == 1  # the parking payload carries no alert
    assert received[0][0] == source
    assert [item.alert.identifier for item in received[0][1] if item.alert] == [
        "FR-28-CHARTRES-2025-0614-001"
    ]
    assert FeedItem.objects.filter(source=source).exists()  # the failing receiver undid nothing


def test_a_cancel_ends_the_alert_it_refers_to_in_the_ticker() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    onset = dt.datetime(2025, 6, 14, 14, tzinfo=UTC)  # the storm warning is in force
    payload_ingest(source=source, data=payload("cap-chartres-orages.xml"), now=onset)
    with translation.override("en"):
        assert ticker_lines(now=NOW) == []  # not in force yet
        assert "Alert: Orages violents sur Chartres" in ticker_lines(now=onset)
        later = dt.datetime(2025, 6, 14, 21, 30, tzinfo=UTC)
        assert "Alert: Orages violents sur Chartres" in ticker_lines(now=later)
        payload_ingest(source=source, data=payload("cap-chartres-orages-cancel.xml"), now=later)
        assert not [line for line in ticker_lines(now=later) if line.startswith("Alert")]


def test_the_ticker_shows_fresh_items_in_short_lines() -> None:
    payload_ingest(source=FeedSourceFactory(), data=payload(PARKINGS), now=NOW)
    payload_ingest(
        source=FeedSourceFactory(standard=FeedStandard.NGSI_V2),
        data=payload("ngsiv2-orion-notification-chartres.json"),
        now=NOW,
    )
    with translation.override("en"):
        lines = ticker_lines(now=NOW)
    assert "Parking Cathédrale\u00a0: 117 free spaces" in lines
    assert "Chartres\u00a0: 21,4\u00a0°C" in lines
    assert lines.index("Chartres\u00a0: 21,4\u00a0°C") < lines.index(
        "Parking Cathédrale\u00a0: 117 free spaces"
    )  # weather first
    assert ticker_lines(now=NOW + dt.timedelta(days=1)) == []  # all expired


def test_the_ticker_shows_approved_reports_only_and_never_a_contact() -> None:
    source = FeedSourceFactory(standard=FeedStandard.OPEN311)
    payload_ingest(source=source, data=payload("open311-chartres-requests.json"), now=NOW)
    assert ticker_lines(now=NOW) == []
    report = FeedItem.objects.filter(source=source).first()
    assert report is not None
    report.title = "Lampadaire éteint, appeler Jean au 06 12 34 56 78 ou jean@example.org"
    report.save()
    report_review(item=report, approve=True, editor=UserFactory())
    with translation.override("en"):
        (line,) = ticker_lines(now=NOW)
    assert line == "Citizen report: Lampadaire éteint, appeler Jean au ou"
    assert "06" not in line and "@" not in line


def test_ingest_feed_prints_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    source = FeedSourceFactory(slug="parkings-chartres")
    call_command("ingest_feed", "parkings-chartres", str(Path(__file__).parent / "data" / PARKINGS))
    assert "2 created, 0 updated" in capsys.readouterr().out
    assert FeedItem.objects.filter(source=source).count() == 2


def test_ingest_feed_exits_1_with_the_reason(tmp_path: Path) -> None:
    """A CommandError is what makes ``manage.py`` exit with its returncode, the reason on
    stderr."""
    FeedSourceFactory(slug="parkings-chartres")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"data": [')
    with pytest.raises(CommandError, match="malformed JSON") as refused:
        call_command("ingest_feed", "parkings-chartres", str(broken))
    assert refused.value.returncode == 1
    with pytest.raises(CommandError, match="No data source"):
        call_command("ingest_feed", "unknown", str(broken))


def test_the_ticker_gives_a_forecasts_range_and_the_energy_saved() -> None:
    source = FeedSourceFactory()
    forecast = FeedItem.objects.create(
        source=source, kind="weather", external_id="forecast", title="Chartres",
        values=[{"name": "temperature_min", "value": 2, "unit": "Cel"},
                {"name": "temperature_max", "value": 9.5, "unit": "Cel"}],
        expires_at=NOW + dt.timedelta(hours=1),
    )  # fmt: skip
    FeedItem.objects.create(
        source=source, kind="energy", external_id="lighting", title="Éclairage public",
        values=[{"name": "energy_saved", "value": 18450, "unit": "kWh"}],
        expires_at=NOW + dt.timedelta(hours=1),
    )  # fmt: skip
    with translation.override("en"):
        lines = ticker_lines(now=NOW)
    assert f"{forecast.title}\u00a0: 2 to 9,5\u00a0°C" in lines
    assert "Éclairage public: 18\u202f450 kWh saved" in lines


def test_a_local_source_stores_news_and_events_only_and_only_its_own() -> None:
    """``local_items_store`` is for items this site makes (residents' posts): never an alert,
    never into a source fed from outside."""
    from city_feeds.items import Item, ItemKind
    from city_feeds.services import local_items_store, local_items_withdraw, residents_source

    local = residents_source()
    news = Item(kind=ItemKind.NEWS, external_id="post:abc", title="Fête de quartier")
    alert = Item(kind=ItemKind.ALERT, external_id="post:x", title="Évacuez")
    with pytest.raises(ValueError, match="alert"):
        local_items_store(source=local, items=[news, alert])
    with pytest.raises(ValueError, match="not a local source"):
        local_items_store(source=FeedSourceFactory(standard="rss"), items=[news])
    assert not FeedItem.objects.exists()
    assert local_items_store(source=local, items=[news]).created == 1
    assert local_items_withdraw(source=local, external_ids=["post:abc"]) == 1
    assert not FeedItem.objects.filter(expires_at__gt=timezone.now()).exists()
