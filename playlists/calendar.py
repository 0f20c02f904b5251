"""Calendar arithmetic for programming: French public holidays, day types, DST-safe local times.
The segment grid lives in ``broadcasting.media.grid``.

Pure functions (``zoneinfo`` only). Decision 5 of DESIGN.md: a local time that does not exist
(spring gap) resolves to the first instant after the gap; one that occurs twice (autumn) resolves
to its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from playlists.rules import WEEKDAYS


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of ``year`` (Gregorian computus, anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def french_holidays(year: int) -> frozenset[date]:
    """Return the 11 French public holidays of ``year`` (metropolitan France, no Alsace-Moselle)."""
    easter = easter_sunday(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    movable = [easter + timedelta(days=n) for n in (1, 39, 50)]  # Monday, Ascension, Whit Monday
    return frozenset([date(year, month, day) for month, day in fixed] + movable)


def french_holidays_for(years: Iterable[int]) -> frozenset[date]:
    """Return the French public holidays of every year in ``years``."""
    result: frozenset[date] = frozenset()
    for year in years:
        result |= french_holidays(year)
    return result


def day_type(day: date, holidays: frozenset[date]) -> str:
    """Return "holiday" when ``day`` is in ``holidays``, else its weekday ("mon".."sun")."""
    return "holiday" if day in holidays else WEEKDAYS[day.weekday()]


def resolve_local(day: date, at: time, tz: str) -> datetime:
    """Return the UTC instant of local wall time ``day`` ``at`` in zone ``tz``.

    Nonexistent times (spring gap) give the first instant after the gap; repeated times
    (autumn) give their first occurrence.
    """
    zone = zone_for(tz)
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """Return the transition instant of the gap that swallows ``wall`` (binary search, 1 s)."""
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # mapped with the later offset
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)  # mapped with the earlier offset
    low, high = min(before, after), max(before, after)
    new_offset = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


@lru_cache(maxsize=16)
def zone_for(tz: str) -> ZoneInfo:
    """Return the (cached) zone called ``tz``."""
    return ZoneInfo(tz)
