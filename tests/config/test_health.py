"""Operations endpoints talk to the real database and Redis."""

import pytest
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
