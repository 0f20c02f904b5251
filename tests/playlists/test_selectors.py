"""The guide window a request asks for: ``requested_range`` (pure, no database)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from playlists.selectors import MAX_RANGE, BadRange, requested_range

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)


def test_without_bounds_the_window_is_the_next_day_from_now() -> None:
    assert requested_range(None, None, zone=PARIS, now=NOW) == (NOW, NOW + dt.timedelta(hours=24))


def test_a_naive_bound_is_read_in_the_channels_zone() -> None:
    start, end = requested_range("2026-03-29T01:00", "2026-03-29T04:00", zone=PARIS)
    assert start == dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC)  # CET, before the change
    assert end == dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC)  # CEST, after it
    assert start.tzinfo is dt.UTC and end.tzinfo is dt.UTC


def test_an_offset_in_a_query_string_survives_its_plus_read_as_a_space() -> None:
    start, _ = requested_range("2026-03-29T03:00:00 02:00", None, zone=PARIS)
    assert start == dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "message"),
    [
        ("2026-03-29T04:00", "2026-03-29T04:00", "after"),
        ("2026-03-29T04:00", "2026-03-28T04:00", "after"),
        ("2026-03-01T00:00", "2026-03-09T00:00:01", "8 days"),
        ("demain", None, "ISO 8601"),
    ],
)
def test_a_window_that_cannot_be_served_is_refused(
    raw_from: str, raw_to: str | None, message: str
) -> None:
    with pytest.raises(BadRange, match=message):
        requested_range(raw_from, raw_to, zone=PARIS, now=NOW)


def test_the_longest_window_is_accepted() -> None:
    start, end = requested_range("2026-03-01T00:00", "2026-03-09T00:00", zone=PARIS)
    assert end - start == MAX_RANGE


@pytest.mark.parametrize(
    ("raw_from", "raw_to"),
    [
        ("9999-12-31T23:00:00", None),
        ("0001-01-01T00:00:00", None),
        ("9999-12-31T00:00:00+00:00", None),
        ("0001-01-01T05:00:00+00:00", None),
        ("2026-03-01T00:00", "9999-12-31T23:59:59"),
    ],
)
def test_an_instant_at_the_ends_of_the_calendar_is_refused_not_an_overflow(
    raw_from: str, raw_to: str | None
) -> None:
    with pytest.raises(BadRange, match="between"):
        requested_range(raw_from, raw_to, zone=PARIS, now=NOW)
