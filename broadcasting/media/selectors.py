"""Read queries of the broadcasting app."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from broadcasting.models import (
    ApprovalState,
    Asset,
    AssetKind,
    Category,
    ChannelFormat,
    ProcessingState,
)


def channel_format_default() -> ChannelFormat:
    return ChannelFormat.objects.get(is_default=True)


def assets_schedulable() -> QuerySet[Asset]:
    """Assets that may air: transcoded and approved."""
    return Asset.objects.filter(state=ProcessingState.READY, approval=ApprovalState.APPROVED)


def card_freshest(
    *, category: str, now: dt.datetime, channel_format_id: int | None = None
) -> Asset | None:
    """The newest ready, approved information card of ``category`` whose data are still true at
    ``now`` (what a card slot of that category airs; ``None``: the channel's ident airs), in
    the format ``channel_format_id`` when given."""
    cards = assets_schedulable().filter(
        Q(card_expires_at__isnull=True) | Q(card_expires_at__gt=now),
        kind=AssetKind.CARD,
        card_category=category,
        segment_count__gt=0,
    )
    if channel_format_id is not None:
        cards = cards.filter(channel_format_id=channel_format_id)
    return cards.order_by("-ready_at", "-pk").first()


def categories_active() -> QuerySet[Category]:
    """The categories offered to residents and editors, in the editors' order."""
    return Category.objects.filter(active=True).order_by("order", "name")


def categories_offered(*, keep: Iterable[str] = ()) -> QuerySet[Category]:
    """The active categories, plus the (inactive) ones of slugs in ``keep``: what a form that
    edits an existing choice offers, so that saving it does not drop a retired category."""
    return Category.objects.filter(Q(active=True) | Q(slug__in=list(keep))).order_by(
        "order", "name"
    )


def category_slugs() -> set[str]:
    """Every category's slug, active or not (rotations may still weight a retired one)."""
    return set(Category.objects.values_list("slug", flat=True))


def category_labels(*, slugs: Iterable[str]) -> dict[str, str]:
    """The names (in the request's language) of the categories of ``slugs``, by slug."""
    return {category.slug: category.label for category in Category.objects.filter(slug__in=slugs)}
