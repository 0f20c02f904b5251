"""Read queries of the programming app: the published timeline and the EPG built from it.

The guide's shapes for its readers (the schedule and now APIs, XMLTV) live here too: the
window a request asks for (``requested_range``) and one JSON form of a guide entry.

The EPG shows programmes; the idents, rolls, interstitials, card slots and slate between them
are folded into named slots so that a guide is readable.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasting.media.storage import public_storage
from playlists.models import Channel, ItemRole, ScheduledItem

PROGRAMME_ROLES = frozenset({ItemRole.PROGRAMME, ItemRole.EVENT})
MAX_RANGE = dt.timedelta(days=8)  # the longest guide one request may ask for
DEFAULT_RANGE = dt.timedelta(hours=24)


class BadRange(ValueError):
    """A requested guide window (``from``/``to``) cannot be used."""


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


def requested_range(
    raw_from: str | None, raw_to: str | None, *, zone: ZoneInfo, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """Parse and check the requested window (aware UTC instants)."""
    start = _instant(raw_from, zone) if raw_from else (now or timezone.now())
    end = _instant(raw_to, zone) if raw_to else start + DEFAULT_RANGE
    if end <= start:
        raise BadRange("'to' must be after 'from'")
    if end - start > MAX_RANGE:
        raise BadRange("the range is limited to 8 days")
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _instant(raw: str, zone: ZoneInfo) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError as err:
        raise BadRange(f"not an ISO 8601 date-time: {raw!r}") from err
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def entry_json(entry: GuideEntry, zone: ZoneInfo) -> dict[str, object]:
    """A guide entry as JSON, with UTC and local times (shared by the schedule and now APIs)."""
    return {
        "start": entry.start.isoformat(),
        "stop": entry.stop.isoformat(),
        "start_local": entry.start.astimezone(zone).isoformat(),
        "stop_local": entry.stop.astimezone(zone).isoformat(),
        "title": entry.title,
        "description": entry.description,
        "category": entry.category,
        "poster": entry.poster_url,
        "kind": entry.kind,
        "asset_id": entry.asset_id,
        "event_id": entry.event_id,
    }
