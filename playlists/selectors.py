"""Read queries of the programming app: the published timeline and the EPG built from it.

The guide's shapes for its readers (the schedule and now APIs, XMLTV) live here too: the
window a request asks for (``requested_range``) and one JSON form of a guide entry.

The EPG shows programmes; the idents, rolls, interstitials, card slots and slate between them
are folded into named slots so that a guide is readable.

What viewers ask for costs no rebuild: the now/next answer reads only the items it returns
(``guide_around``: pages of ``NOW_PAGE`` items), and a rendered guide (the schedule JSON, the
XMLTV document) is kept in the cache under a key naming each channel's latest timeline version,
the window widened to ``GUIDE_GRID`` and the guides' generation (``guide_cache_key``,
``guide_cached``): a new version makes new keys, the old ones expire. A video taken down must
leave the guides at once, before any rebuild: ``guide_cache_forget`` starts a new generation.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Max, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from broadcasting.media.storage import published_url
from broadcasting.models import DEFAULT_CATEGORY, Category
from playlists.models import Channel, ItemRole, Rotation, ScheduledItem, ScheduleVersion

PROGRAMME_ROLES = frozenset({ItemRole.PROGRAMME, ItemRole.EVENT})
MAX_RANGE = dt.timedelta(days=8)  # the longest guide one request may ask for
DEFAULT_RANGE = dt.timedelta(hours=24)
# Instants a request may name: far enough from the calendar's ends for any arithmetic on them.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
GUIDE_GRID = dt.timedelta(minutes=15)  # cached windows start and end on this grid
GUIDE_CACHE_SECONDS = 300  # bounds how long an edited title or poster may show its old value
NOW_PAGE = 40  # items read at a time around now
GUIDE_GENERATION_KEY = "guide:generation"  # a random value, changed to forget every guide


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
    asset_id: int | None  # internal: never in a public answer (``video`` is)
    event_id: int | None
    video: str | None = None  # the video's public key (``Asset.public_key``), never its id


def channels_on_air() -> QuerySet[Channel]:
    return Channel.objects.filter(is_active=True).select_related("channel_format", "logo")


def scheduled_items(
    *, channel: Channel, start: dt.datetime, end: dt.datetime
) -> QuerySet[ScheduledItem]:
    """Items overlapping ``[start, end)`` in order."""
    return (
        ScheduledItem.objects.filter(channel=channel, end__gt=start, start__lt=end)
        .select_related("asset__category", "event")
        .order_by("start")
    )


def item_at(*, channel: Channel, at: dt.datetime) -> ScheduledItem | None:
    return scheduled_items(channel=channel, start=at, end=at + dt.timedelta(microseconds=1)).first()


def guide(*, channel: Channel, start: dt.datetime, end: dt.datetime) -> list[GuideEntry]:
    """The EPG of ``[start, end)``: programmes as they are, the rest folded into slots."""
    return _fold(scheduled_items(channel=channel, start=start, end=end))


def guide_around(
    *, channel: Channel, at: dt.datetime, behind: dt.timedelta, following: int, ahead: dt.timedelta
) -> list[GuideEntry]:
    """The guide from ``at - behind`` to the ``following`` entries starting after ``at`` (none
    beyond ``at + ahead``), read ``NOW_PAGE`` items at a time: what a now/next answer shows,
    never the whole lookahead. Entries after those may be incomplete."""
    query = scheduled_items(channel=channel, start=at - behind, end=at + ahead)
    items: list[ScheduledItem] = []
    while True:
        page = list((query.filter(start__gt=items[-1].start) if items else query)[:NOW_PAGE])
        items += page
        entries = _fold(items)
        if len(page) < NOW_PAGE or sum(entry.start > at for entry in entries) > following:
            return entries


def _fold(items: Iterable[ScheduledItem]) -> list[GuideEntry]:
    entries: list[GuideEntry] = []
    for item in items:
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
        category=asset.category.label,
        poster_url=published_url(asset_id=asset.pk, public_key=asset.public_key, name=asset.poster),
        kind="programme",
        asset_id=asset.pk,
        event_id=item.event_id,
        video=asset.public_key,
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
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    try:
        instant = aware.astimezone(dt.UTC)
    except OverflowError:  # a time next to year 1 or 9999 with no UTC instant
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise BadRange(f"date-times must lie between {EARLIEST.year} and {LATEST.year - 1}")
    return instant


def guide_window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` widened to whole ``GUIDE_GRID`` steps, so that nearby requests share
    one cached guide."""
    first = start - (start - EARLIEST) % GUIDE_GRID
    steps = -((first - end) // GUIDE_GRID)  # the ceiling of (end - first) / GUIDE_GRID
    return first, first + steps * GUIDE_GRID


def guide_cache_key(
    *, kind: str, channels: Sequence[Channel], start: dt.datetime, end: dt.datetime
) -> str:
    """The cache key of one rendering (``kind``) of ``channels``' guide over ``[start, end)``:
    it names each channel's latest timeline version, so a new version makes a new key."""
    versions = {
        row["channel_id"]: (row["number"], row["latest"], row["built"].isoformat())
        for row in ScheduleVersion.objects.filter(channel__in=[c.pk for c in channels])
        .values("channel_id")
        .annotate(number=Max("number"), latest=Max("id"), built=Max("built_at"))
        .order_by()
    }
    facts: list[object] = [kind, translation.get_language(), start.isoformat(), end.isoformat()]
    facts.append(_guide_generation())
    facts += [
        (c.pk, c.slug, c.name, c.number, c.time_zone, c.group_title, c.logo_id, versions.get(c.pk))
        for c in channels
    ]
    return f"guide:{hashlib.sha256(repr(facts).encode()).hexdigest()}"


def _guide_generation() -> str:
    """The guides' current generation (one is made when there is none, e.g. after a flush)."""
    return str(cache.get_or_set(GUIDE_GENERATION_KEY, _new_generation, timeout=None))


def _new_generation() -> str:
    return secrets.token_hex(8)


def guide_cache_forget() -> None:
    """Forget every cached guide: a new generation, so that no key made before is read again
    (those entries expire). For a change that no timeline version records (a take-down)."""
    cache.set(GUIDE_GENERATION_KEY, _new_generation(), timeout=None)


def guide_cached(*, key: str, render: Callable[[], bytes]) -> bytes:
    """The rendering cached under ``key``, made by ``render`` when missing (the cache fails
    soft: without Redis every request renders)."""
    cached = cache.get(key)
    if isinstance(cached, bytes):
        return cached
    body = render()
    cache.set(key, body, GUIDE_CACHE_SECONDS)
    return body


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
        "video": entry.video,
        "event": entry.event_id is not None,  # a programmed event, not its internal id
    }


# Categories ----------------------------------------------------------------------------------


def rotations_naming_category(*, slug: str) -> list[Rotation]:
    """The rotations that pick or weight the category ``slug`` (filtered here rather than in SQL:
    JSON lists are not searched alike on SQLite and PostgreSQL, and rotations are few)."""
    return [
        rotation
        for rotation in Rotation.objects.order_by("name")
        if slug in (rotation.categories or ()) or slug in (rotation.weights or {})
    ]


def category_uses(*, category: Category) -> list[str]:
    """Why ``category`` cannot be deleted, in words for editors (empty: it can be)."""
    uses = []
    if category.slug == DEFAULT_CATEGORY:
        uses.append(_("it is the category of new videos."))
    videos = category.assets.count()
    if videos:
        message = ngettext("%(count)d video has it.", "%(count)d videos have it.", videos)
        uses.append(message % {"count": videos})
    rotations = rotations_naming_category(slug=category.slug)
    if rotations:
        names = ", ".join(rotation.name for rotation in rotations)
        uses.append(_("rotations pick or weight it: %(names)s.") % {"names": names})
    return uses
