"""Read queries of the broadcasting app."""

from django.db.models import QuerySet

from broadcasting.models import ApprovalState, Asset, ChannelFormat, ProcessingState


def channel_format_default() -> ChannelFormat:
    return ChannelFormat.objects.get(is_default=True)


def assets_schedulable() -> QuerySet[Asset]:
    """Assets that may air: transcoded and approved."""
    return Asset.objects.filter(state=ProcessingState.READY, approval=ApprovalState.APPROVED)
