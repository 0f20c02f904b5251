"""Operations endpoints talk to the real database and Redis."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_readyz_checks_database_and_redis(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_fails_when_redis_is_unreachable(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] != "ok"


def test_metrics_are_prometheus_text(client: Client) -> None:
    body = client.get("/metrics").content.decode()
    assert "carillon_up 1" in body
    assert 'carillon_dependency_up{dependency="database"} 1' in body


def test_readyz_tells_anonymous_clients_pass_or_fail_but_not_the_error(
    client: Client, settings, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "checks": {"database": "ok", "redis": "fail"}}
    assert "127.0.0.1" not in response.content.decode()
    assert "Connection refused" in caplog.text  # the detail is logged for the operators


def test_readyz_shows_the_error_to_staff(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    staff = get_user_model().objects.create_user("ops", "ops@chartres.fr", "x", is_staff=True)
    client.force_login(staff)
    body = client.get("/readyz").json()
    assert body["ready"] is False and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] not in ("ok", "fail")  # the error itself
