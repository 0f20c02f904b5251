"""Tests of playlists.calendar: holidays, day types, DST-safe local times (the segment grid is
tested in ``tests/broadcasting/media/test_grid.py``)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.calendar import (
    day_type,
    easter_sunday,
    french_holidays,
    resolve_local,
)

PARIS = "Europe/Paris"


def utc_instants(first_year: int) -> st.SearchStrategy[datetime]:
    """Aware UTC instants from ``first_year`` to 2030 (hypothesis wants naive bounds)."""
    low, high = datetime(first_year, 1, 1), datetime(2030, 1, 1)  # noqa: DTZ001
    return st.datetimes(min_value=low, max_value=high, timezones=st.just(UTC))


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1818, date(1818, 3, 22)),
        (2000, date(2000, 4, 23)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday_matches_known_dates(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=1583, max_value=4099))
def test_easter_is_a_sunday_between_march_22_and_april_25(year: int) -> None:
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)


def test_french_holidays_2026() -> None:
    assert french_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Whit Monday
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    }


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(min_value=1900, max_value=2200))
def test_movable_holidays_fall_on_their_weekdays(year: int) -> None:
    easter = easter_sunday(year)
    holidays = french_holidays(year)
    assert len(holidays) in (10, 11)  # Ascension can fall on 8 May (2059)
    assert easter + timedelta(days=1) in holidays
    assert (easter + timedelta(days=39)).weekday() == 3  # Ascension, a Thursday
    assert (easter + timedelta(days=50)).weekday() == 0  # Whit Monday


def test_day_type_is_holiday_on_christmas_and_the_weekday_otherwise() -> None:
    holidays = french_holidays(2026)
    assert day_type(date(2026, 12, 25), holidays) == "holiday"
    assert day_type(date(2026, 12, 24), holidays) == "thu"
    assert day_type(date(2026, 12, 27), holidays) == "sun"


@pytest.mark.parametrize(
    ("day", "at", "expected_utc"),
    [
        (date(2026, 7, 1), time(12, 0), datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),
        (date(2026, 1, 15), time(12, 0), datetime(2026, 1, 15, 11, 0, tzinfo=UTC)),
        # spring 2027: 02:00-03:00 does not exist -> 03:00 CEST = 01:00 UTC
        (date(2027, 3, 28), time(1, 59), datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
        (date(2027, 3, 28), time(2, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        (date(2027, 3, 28), time(2, 30), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        (date(2027, 3, 28), time(2, 59, 59), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        (date(2027, 3, 28), time(3, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        # autumn 2026: 02:00-03:00 occurs twice -> the first (CEST)
        (date(2026, 10, 25), time(1, 59), datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),
        (date(2026, 10, 25), time(2, 0), datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),
        (date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (date(2026, 10, 25), time(3, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
    ],
)
def test_resolve_local_follows_decision_5(day: date, at: time, expected_utc: datetime) -> None:
    assert resolve_local(day, at, PARIS) == expected_utc


@settings(max_examples=300, deadline=None, database=None)
@given(
    day=st.sampled_from(
        [date(2026, 10, 25), date(2027, 3, 28), date(2026, 3, 29), date(2027, 1, 4)]
    ),
    first=st.times(),
    second=st.times(),
)
def test_resolve_local_is_monotonic_within_a_day(day: date, first: time, second: time) -> None:
    low, high = sorted((first, second))
    assert resolve_local(day, low, PARIS) <= resolve_local(day, high, PARIS)


@settings(max_examples=300, deadline=None, database=None)
@given(utc_instants(2026))
def test_resolve_local_inverts_utc_to_local_on_first_occurrences(instant: datetime) -> None:
    local = instant.astimezone(ZoneInfo(PARIS))
    if local.fold == 0:
        assert resolve_local(local.date(), local.time(), PARIS) == instant
