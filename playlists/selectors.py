"""Read queries of the programming app: the published timeline and the EPG built from it.

The EPG shows programmes; the idents, rolls, interstitials, card slots and slate between them
are folded into named slots so that a guide is readable.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from broadcasting.media.storage import public_storage
from playlists.models import Channel, ItemRole, ScheduledItem

PROGRAMME_ROLES = frozenset({ItemRole.PROGRAMME, ItemRole.EVENT})


@dataclass
class GuideEntry:
    """One line of the programme guide."""

    start: dt.datetime
    stop: dt.datetime
    title: str
    description: str
    category: str
    poster_url: str
    kind: str  # "programme" or "slot"
    asset_id: int | None
    event_id: int | None


def channels_on_air() -> QuerySet[Channel]:
    return Channel.objects.filter(is_active=True).select_related("channel_format", "logo")


def scheduled_items(
    *, channel: Channel, start: dt.datetime, end: dt.datetime
) -> QuerySet[ScheduledItem]:
    """Items overlapping ``[start, end)`` in order."""
    return (
        ScheduledItem.objects.filter(channel=channel, end__gt=start, start__lt=end)
        .select_related("asset", "event")
        .order_by("start")
    )


def item_at(*, channel: Channel, at: dt.datetime) -> ScheduledItem | None:
    return scheduled_items(channel=channel, start=at, end=at + dt.timedelta(microseconds=1)).first()


def guide(*, channel: Channel, start: dt.datetime, end: dt.datetime) -> list[GuideEntry]:
    """The EPG of ``[start, end)``: programmes as they are, the rest folded into slots."""
    entries: list[GuideEntry] = []
    for item in scheduled_items(channel=channel, start=start, end=end):
        if item.role in PROGRAMME_ROLES and item.asset is not None:
            entries.append(_programme(item))
        elif entries and entries[-1].kind == "slot":
            _extend_slot(entries[-1], item)
        else:
            entries.append(_slot(item))
    return entries


def _programme(item: ScheduledItem) -> GuideEntry:
    asset = item.asset
    assert asset is not None  # noqa: S101 - checked by the caller
    title = item.event.title if item.event is not None else asset.title
    return GuideEntry(
        start=item.start,
        stop=item.end,
        title=title,
        description=asset.description,
        category=asset.get_category_display(),
        poster_url=public_storage().url(asset.poster) if asset.poster else "",
        kind="programme",
        asset_id=asset.pk,
        event_id=item.event_id,
    )


def _slot(item: ScheduledItem) -> GuideEntry:
    entry = GuideEntry(
        start=item.start,
        stop=item.end,
        title=_("Interlude"),
        description="",
        category="",
        poster_url="",
        kind="slot",
        asset_id=None,
        event_id=None,
    )
    _name_slot(entry, item)
    return entry


def _extend_slot(entry: GuideEntry, item: ScheduledItem) -> None:
    entry.stop = item.end
    _name_slot(entry, item)


def _name_slot(entry: GuideEntry, item: ScheduledItem) -> None:
    if item.role == ItemRole.CARD:
        entry.title = _("City information")
        entry.description = _("Weather, parking, air quality and news from the city.")
    elif item.role == ItemRole.SLATE and entry.title == _("Interlude"):
        entry.title = _("Carillon")
