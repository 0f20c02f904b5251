"""``POST /api/v1/feeds/<slug>/push``: signed pushes and NGSI brokers' tokens accepted, every
other request refused with nothing changed."""

import secrets
import time

import pytest
from django.test import Client

from city_feeds.models import FeedItem, FeedSource, FeedStandard, PushNonce
from city_feeds.views import push_signature
from tests.city_feeds.feed_factories import FeedSourceFactory, payload

pytestmark = pytest.mark.django_db

CAP = payload("cap-chartres-orages.xml")
NGSI_LD = payload("ngsi-ld-notification-chartres-parkings.json")


def url(source: FeedSource) -> str:
    return f"/api/v1/feeds/{source.slug}/push"


def signed_headers(
    source: FeedSource,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    signature = push_signature(
        secret=secret or source.hmac_secret, timestamp=stamp, nonce=nonce, body=body
    )
    return {
        "X-Carillon-Timestamp": stamp,
        "X-Carillon-Nonce": nonce,
        "X-Carillon-Signature": signature,
    }


def push(source: FeedSource, body: bytes, headers: dict[str, str], **kwargs: str) -> object:
    return Client().post(
        url(source), data=body, content_type="application/xml", headers=headers, **kwargs
    )


def assert_nothing_changed(source: FeedSource, *, nonces: int = 0) -> None:
    assert not FeedItem.objects.exists()
    assert PushNonce.objects.count() == nonces
    health = FeedSource.objects.values_list(
        "consecutive_failures", "last_failure_at", "last_success_at"
    ).get(pk=source.pk)
    assert health == (0, None, None)


def test_a_signed_push_is_accepted_and_its_items_stored() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    response = push(source, CAP, signed_headers(source, CAP))
    assert response.status_code == 202
    assert response.json() == {"created": 1, "updated": 0, "alerts": 1}
    assert FeedItem.objects.get(source=source).kind == "alert"
    source.refresh_from_db()
    assert source.last_success_at is not None


@pytest.mark.parametrize(
    "tamper",
    [
        "signature of another body",
        "signature with another key",
        "stale timestamp",
        "timestamp from the future",
        "missing signature",
        "missing nonce",
        "no headers",
        "uppercase garbage",
    ],
)
def test_a_badly_signed_push_is_refused_and_changes_nothing(tamper: str) -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    now = int(time.time())
    headers = {
        "signature of another body": signed_headers(source, CAP + b" "),
        "signature with another key": signed_headers(source, CAP, secret="not-the-secret"),
        "stale timestamp": signed_headers(source, CAP, timestamp=now - 301),
        "timestamp from the future": signed_headers(source, CAP, timestamp=now + 301),
        "missing signature": {
            k: v for k, v in signed_headers(source, CAP).items() if k != "X-Carillon-Signature"
        },
        "missing nonce": {
            k: v for k, v in signed_headers(source, CAP).items() if k != "X-Carillon-Nonce"
        },
        "no headers": {},
        "uppercase garbage": {**signed_headers(source, CAP), "X-Carillon-Signature": "Z" * 64},
    }[tamper]
    response = push(source, CAP, headers)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}
    assert_nothing_changed(source)


def test_a_replayed_nonce_is_refused() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    headers = signed_headers(source, CAP)
    assert push(source, CAP, headers).status_code == 202
    FeedItem.objects.all().delete()
    assert push(source, CAP, headers).status_code == 401
    assert not FeedItem.objects.exists()
    assert PushNonce.objects.filter(source=source).count() == 1


def test_a_signature_that_is_fine_at_the_edge_of_the_window_is_accepted() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    headers = signed_headers(source, CAP, timestamp=int(time.time()) - 290)
    assert push(source, CAP, headers).status_code == 202


def test_an_ngsi_ld_notification_with_the_sources_token_is_accepted() -> None:
    source = FeedSourceFactory(standard=FeedStandard.NGSI_LD)
    response = Client().post(
        url(source),
        data=NGSI_LD,
        content_type="application/json",
        headers={"X-Carillon-Token": source.push_token},
    )
    assert response.status_code == 202
    assert response.json()["created"] == 2
    assert set(FeedItem.objects.values_list("kind", flat=True)) == {"parking"}


def test_a_wrong_token_is_refused_and_changes_nothing() -> None:
    source = FeedSourceFactory(standard=FeedStandard.NGSI_LD)
    other = FeedSourceFactory(standard=FeedStandard.NGSI_LD)
    for token in ("", "x", other.push_token, source.push_token[:-1]):
        response = Client().post(
            url(source),
            data=NGSI_LD,
            content_type="application/json",
            headers={"X-Carillon-Token": token},
        )
        assert response.status_code == 401, token
    assert_nothing_changed(source)


def test_a_token_is_not_enough_for_a_source_that_is_not_ngsi() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    response = push(source, CAP, {"X-Carillon-Token": source.push_token})
    assert response.status_code == 401
    assert_nothing_changed(source)


def test_an_unknown_source_is_refused_like_a_bad_signature() -> None:
    response = Client().post("/api/v1/feeds/nobody/push", data=CAP, content_type="application/xml")
    assert response.status_code == 401


def test_a_payload_over_the_limit_is_refused_before_anything(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_FEED_MAX_BYTES = 1000
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    response = push(source, CAP, signed_headers(source, CAP))
    assert response.status_code == 413
    assert_nothing_changed(source)


def test_a_payload_the_adapter_refuses_is_a_400_recorded_on_the_source() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    body = b"<alert><identifier>broken"
    response = push(source, body, signed_headers(source, body))
    assert response.status_code == 400
    assert response.json()["error"]
    source.refresh_from_db()
    assert source.consecutive_failures == 1 and source.last_failure_reason
    assert not FeedItem.objects.exists()


def test_a_disabled_source_accepts_no_push() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP, enabled=False)
    response = push(source, CAP, signed_headers(source, CAP))
    assert response.status_code == 403
    assert not FeedItem.objects.exists()


def test_only_post_is_allowed() -> None:
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    assert Client().get(url(source)).status_code == 405


def test_a_source_with_no_key_refuses_what_anyone_could_sign() -> None:
    """A key left empty (a row written outside the admin) must not make every push "signed"."""
    source = FeedSourceFactory(standard=FeedStandard.CAP)
    FeedSource.objects.filter(pk=source.pk).update(hmac_secret="", push_token="")
    source.refresh_from_db()
    headers = signed_headers(source, CAP)
    headers["X-Carillon-Signature"] = push_signature(
        secret="", timestamp=headers["X-Carillon-Timestamp"],
        nonce=headers["X-Carillon-Nonce"], body=CAP,
    )  # fmt: skip
    assert push(source, CAP, headers).status_code == 401
    ngsi = FeedSourceFactory(standard=FeedStandard.NGSI_LD)
    FeedSource.objects.filter(pk=ngsi.pk).update(push_token="")
    response = Client().post(
        url(ngsi), data=NGSI_LD, content_type="application/json", headers={"X-Carillon-Token": ""}
    )
    assert response.status_code == 401
    assert not FeedItem.objects.exists()


def test_the_residents_posts_source_takes_no_push_even_signed() -> None:
    """Only this site writes the residents' posts: nobody may push news or an alert there."""
    from city_feeds.services import residents_source

    source = residents_source()
    assert push(source, CAP, signed_headers(source, CAP)).status_code == 401
    assert_nothing_changed(source)
