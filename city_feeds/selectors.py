"""Reads of the city data app: the items that may air now, and the ticker's lines.

An item may air while it is fresh: its validity has begun, it has not expired
(``expires_at``), and it needs no review or an editor approved it (citizen reports). A
source disabled after failures keeps its last items on air until they expire.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from city_feeds.items import ItemKind
from city_feeds.models import FeedItem, FeedSource, ReviewState
from playlists.models import Channel

TICKER_MAX_LINES = 30
TICKER_LINE_MAX_CHARS = 140
KIND_ORDER = (
    ItemKind.ALERT,
    ItemKind.WEATHER,
    ItemKind.PARKING,
    ItemKind.AIR,
    ItemKind.TRAFFIC,
    ItemKind.TRANSPORT,
    ItemKind.EVENT,
    ItemKind.CITIZEN_REPORT,
    ItemKind.ENERGY,
    ItemKind.NEWS,
)
SEVERITY_ORDER = ("Extreme", "Severe", "Moderate", "Minor", "Unknown", "")
# CAP messages that never show: tests, exercises, drafts, and the cancellations themselves.
ALERT_STATUSES_SHOWN = ("", "Actual")
ALERT_MSG_TYPES_HIDDEN = ("Cancel", "Ack", "Error")
# Contacts have no place on air, whatever a payload carries (names are kept out by the
# adapters, which never put a reporter's name in a title, and by the editors' review).
CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail addresses
    r"|(?:\+33\s?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b"  # French phone numbers
)

SPACES = re.compile(r"[ \t\r\n\f\v]+")  # not the no-break spaces of French typography


def items_fresh(
    *,
    kind: str | None = None,
    now: dt.datetime | None = None,
    source: FeedSource | None = None,
) -> QuerySet[FeedItem]:
    """The items that may air at ``now`` (of one kind, or of one source, when given)."""
    now = now or timezone.now()
    items = FeedItem.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=now),
        expires_at__gt=now,
        review__in=(ReviewState.NOT_NEEDED, ReviewState.APPROVED),
    )
    if kind is not None:
        items = items.filter(kind=kind)
    if source is not None:
        items = items.filter(source=source)
    return items.select_related("source")


def items_expired(*, now: dt.datetime | None = None) -> QuerySet[FeedItem]:
    """Items past their expiry, still kept for the item browser until ``items_expire``."""
    return FeedItem.objects.filter(expires_at__lte=now or timezone.now())


def reports_awaiting_review() -> QuerySet[FeedItem]:
    """Citizen reports the editors have not decided on yet, oldest first."""
    return FeedItem.objects.filter(review=ReviewState.PENDING).order_by("received_at")


def ticker_lines(*, channel: Channel | None = None, now: dt.datetime | None = None) -> list[str]:
    """Short French lines for the TV player's ticker, from the fresh items of every kind:
    alerts first (the most severe first), then weather, parking, air, traffic... Citizen
    reports only once approved; never a contact. The same lines for every channel today
    (``channel`` is there for per-channel sources)."""
    now = now or timezone.now()
    items = [item for item in items_fresh(now=now) if _shown(item)]
    items.sort(key=_ticker_rank)
    lines: list[str] = []
    for item in items:
        line = _line(item, now=now)
        if line and line not in lines:
            lines.append(line)
        if len(lines) >= TICKER_MAX_LINES:
            break
    return lines


def _shown(item: FeedItem) -> bool:
    if item.kind != ItemKind.ALERT:
        return True
    extra = item.extra or {}
    return (
        extra.get("alert_status", "") in ALERT_STATUSES_SHOWN
        and extra.get("alert_msg_type", "") not in ALERT_MSG_TYPES_HIDDEN
    )


def _ticker_rank(item: FeedItem) -> tuple[int, int, str]:
    kind = KIND_ORDER.index(ItemKind(item.kind)) if item.kind in KIND_ORDER else len(KIND_ORDER)
    severity = (
        SEVERITY_ORDER.index(item.severity)
        if item.severity in SEVERITY_ORDER
        else len(SEVERITY_ORDER)
    )
    return (kind, severity, item.title)


def _value(item: FeedItem, *names: str) -> float | int | str | None:
    for entry in item.values or []:
        if isinstance(entry, dict) and entry.get("name") in names:
            value: float | int | str | None = entry.get("value")
            return value
    return None


def _number(value: float | int | str) -> str:
    """A number as French writes it: 12,5 (and 117, not 117.0; 18 450 with a thin space)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, int | float):
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


def _parking(item: FeedItem, now: dt.datetime) -> str:
    free = _value(item, "free_spaces", "availableSpotNumber")
    if not isinstance(free, int | float):
        return item.title
    count = int(free)
    places = ngettext("%(count)s free space", "%(count)s free spaces", count) % {"count": count}
    return f"{item.title}\u00a0: {places}"


def _weather(item: FeedItem, now: dt.datetime) -> str:
    temperature = _value(item, "temperature")
    if isinstance(temperature, int | float):
        return f"{item.title}\u00a0: {_number(temperature)}\u00a0°C"
    low, high = _value(item, "temperature_min"), _value(item, "temperature_max")
    if isinstance(low, int | float) and isinstance(high, int | float):  # a forecast
        span = _("%(low)s to %(high)s") % {"low": _number(low), "high": _number(high)}
        return f"{item.title}\u00a0: {span}\u00a0°C"
    return item.title


def _energy(item: FeedItem, now: dt.datetime) -> str:
    saved = _value(item, "energy_saved")
    if not isinstance(saved, int | float):
        return item.title
    return _("%(title)s: %(kwh)s kWh saved") % {"title": item.title, "kwh": _number(saved)}


def _air(item: FeedItem, now: dt.datetime) -> str:
    index = _value(item, "aqi", "airQualityIndex")
    if index is None:
        return item.title
    return _("%(title)s: index %(index)s") % {"title": item.title, "index": _number(index)}


def _event(item: FeedItem, now: dt.datetime) -> str:
    if item.valid_from is None:
        return item.title
    local = timezone.localtime(item.valid_from)
    if local.date() != timezone.localtime(now).date():
        return item.title
    return _("Today %(time)s: %(title)s") % {
        "time": local.strftime("%H h %M").replace(" h 00", " h"),
        "title": item.title,
    }


def _alert(item: FeedItem, now: dt.datetime) -> str:
    return _("Alert: %(title)s") % {"title": item.title}


def _report(item: FeedItem, now: dt.datetime) -> str:
    return _("Citizen report: %(title)s") % {"title": item.title}


LINE_OF_KIND: dict[str, Callable[[FeedItem, dt.datetime], str]] = {
    ItemKind.PARKING: _parking,
    ItemKind.WEATHER: _weather,
    ItemKind.AIR: _air,
    ItemKind.EVENT: _event,
    ItemKind.ALERT: _alert,
    ItemKind.CITIZEN_REPORT: _report,
    ItemKind.ENERGY: _energy,
}


def _line(item: FeedItem, *, now: dt.datetime) -> str:
    if not item.title.strip():
        return ""
    line = LINE_OF_KIND.get(item.kind, lambda row, _now: row.title)(item, now)
    return _shorten(SPACES.sub(" ", CONTACT.sub("", line)).strip())


def _shorten(line: str) -> str:
    if len(line) <= TICKER_LINE_MAX_CHARS:
        return line
    return line[: TICKER_LINE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def sources_health(*, sources: Iterable[FeedSource] | None = None) -> list[FeedSource]:
    """Sources with failures first, then by name (the admin's health overview)."""
    rows = list(sources if sources is not None else FeedSource.objects.all())
    return sorted(rows, key=lambda s: (s.enabled, -s.consecutive_failures, s.name))
