"""The cache fails soft: while Redis is away, pages still answer (slower), as on a cache miss."""

import logging
import socket

import pytest
from django.core.cache import caches
from django.test import Client

from cms.demo import channel_page_ensure
from cms.models import HomePage
from config.settings import base

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A port nothing listens on: connections are refused at once, as when Redis is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def redis_down(settings) -> str:  # type: ignore[no-untyped-def]
    """The cache configured as in every environment but test, pointing at a Redis that is down
    (a port of its own, so that its outage is news to the cache)."""
    location = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {"default": {**base.CACHES["default"], "LOCATION": location}}
    return location


@pytest.mark.usefixtures("redis_down")
@pytest.mark.parametrize("path", ["/", "/en/"])
def test_public_pages_answer_while_redis_is_down(client: Client, path: str) -> None:
    """The home page links to the live page: its URL comes from Wagtail's site root paths,
    which Wagtail keeps in the cache."""
    assert channel_page_ensure(home=HomePage.objects.get()) is not None
    response = client.get(path)
    assert response.status_code == 200
    assert client.get(path).status_code == 200


def test_a_cache_that_cannot_reach_redis_behaves_as_a_miss_and_logs_once(
    redis_down: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = caches["default"]
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        assert cache.get("key") is None
        assert cache.get("key", "default") == "default"
        cache.set("key", "value")
        assert cache.add("key", "value") is False
        assert cache.get_many(["a", "b"]) == {}
        assert cache.get_or_set("key", "computed") == "computed"
        assert cache.has_key("key") is False
        cache.delete("key")
        cache.set_many({"a": 1})
        cache.delete_many(["a"])
    warnings = [record for record in caplog.records if record.name == "config.cache"]
    assert len(warnings) == 1
    assert redis_down.split("//")[1].split("/")[0] in warnings[0].getMessage()


def test_the_cache_works_when_redis_answers(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {"default": {**base.CACHES["default"], "LOCATION": settings.REDIS_URL}}
    cache = caches["default"]
    cache.set("carillon-cache-test", "value", 30)
    assert cache.get("carillon-cache-test") == "value"
    assert cache.add("carillon-cache-test", "other") is False
    cache.delete("carillon-cache-test")
    assert cache.get("carillon-cache-test") is None
