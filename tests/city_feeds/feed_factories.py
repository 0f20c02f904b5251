"""Factories and payloads shared by the ingestion tests (sources, push, fetch, MQTT)."""

from pathlib import Path

import factory

from city_feeds.models import FeedDelivery, FeedSource, FeedStandard

DATA = Path(__file__).parent / "data"


def payload(name: str) -> bytes:
    """A recorded payload of ``tests/city_feeds/data`` (see its PROVENANCE.md)."""
    return (DATA / name).read_bytes()


class FeedSourceFactory(factory.django.DjangoModelFactory[FeedSource]):
    class Meta:
        model = FeedSource

    name = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    standard = FeedStandard.NGSI_LD
    delivery = FeedDelivery.PUSH
    ttl_seconds = 3600
