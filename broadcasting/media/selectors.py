"""Read queries of the broadcasting app."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from broadcasting.models import ApprovalState, Asset, Category, ChannelFormat, ProcessingState


def channel_format_default() -> ChannelFormat:
    return ChannelFormat.objects.get(is_default=True)


def assets_schedulable() -> QuerySet[Asset]:
    """Assets that may air: transcoded and approved."""
    return Asset.objects.filter(state=ProcessingState.READY, approval=ApprovalState.APPROVED)


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
