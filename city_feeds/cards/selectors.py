"""Read queries of the cards: the fresh items a card shows, the newest card of a category, the
map's background."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from broadcasting.models import Asset, AssetKind, ProcessingState
from city_feeds.models import FeedItem, MapBackground


def items_for_cards(*, kinds: Iterable[str], now: dt.datetime) -> list[FeedItem]:
    """Items of ``kinds`` that are true at ``now``: not expired, in their validity (an event
    later today counts: it has begun to be announced), from an enabled source."""
    return list(
        FeedItem.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            kind__in=list(kinds),
            expires_at__gt=now,
            source__enabled=True,
        ).order_by("title", "pk")
    )


def card_latest(*, category: str) -> Asset | None:
    """The newest card of ``category`` that has not failed (ready or still transcoding)."""
    return (
        Asset.objects.filter(kind=AssetKind.CARD, card_category=category)
        .exclude(state=ProcessingState.FAILED)
        .order_by("-pk")
        .first()
    )


def map_background_latest() -> MapBackground | None:
    return MapBackground.objects.order_by("-created_at", "-pk").first()
