"""Read queries of the broadcasting app."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from broadcasting.models import ApprovalState, Asset, ChannelFormat, ProcessingState


def channel_format_default() -> ChannelFormat:
    return ChannelFormat.objects.get(is_default=True)


def assets_schedulable() -> QuerySet[Asset]:
    """Assets that may air: transcoded and approved."""
    return Asset.objects.filter(state=ProcessingState.READY, approval=ApprovalState.APPROVED)


def assets_visible_to(*, user: User | AnonymousUser) -> QuerySet[Asset]:
    """Editors see every asset; a resident sees only their own."""
    if user.is_staff:
        return Asset.objects.all()
    if isinstance(user, User):
        return Asset.objects.filter(owner=user)
    return Asset.objects.none()
