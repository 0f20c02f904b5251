"""The segment grid: sequence = floor((t - epoch) / segment), over random instants, zones and
epochs, through DST changes and across large distances from the epoch."""

import datetime as dt
import math
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadcasting.media.grid import (
    grid_ceil,
    grid_floor,
    is_on_grid,
    next_boundary,
    offset_us,
    segment_index,
    segment_start,
    sequence_at,
    sequence_ceil,
)

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SEGMENT_MS = 4800
SEGMENT = dt.timedelta(milliseconds=SEGMENT_MS)
ONE_US = dt.timedelta(microseconds=1)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
GRID = {"epoch": EPOCH, "segment_ms": SEGMENT_MS}


def aware(
    low: int, high: int, zones: st.SearchStrategy[dt.tzinfo]
) -> st.SearchStrategy[dt.datetime]:
    """Aware instants from year ``low`` to ``high`` in ``zones`` (hypothesis wants naive bounds)."""
    return st.datetimes(
        min_value=dt.datetime(low, 1, 1),  # noqa: DTZ001
        max_value=dt.datetime(high, 1, 1),  # noqa: DTZ001
        timezones=zones,
        allow_imaginary=False,
    )


zones = st.sampled_from([dt.UTC, PARIS, zoneinfo.ZoneInfo("America/New_York")])
instants = aware(2025, 2040, zones)
segments = st.sampled_from([SEGMENT_MS, 2000, 6000, 1001])


# --- the rule ---------------------------------------------------------------------------------


@given(instants)
def test_the_sequence_is_the_floor_of_elapsed_segments(at: dt.datetime) -> None:
    sequence = sequence_at(at, **GRID)
    start = EPOCH + sequence * SEGMENT
    assert start <= at < start + SEGMENT
    elapsed_ms = (at.astimezone(dt.UTC) - EPOCH) // dt.timedelta(milliseconds=1)
    assert sequence == math.floor(elapsed_ms / SEGMENT_MS)


@given(instants, st.integers(min_value=0, max_value=10**7))
def test_the_sequence_follows_elapsed_time(at: dt.datetime, later_ms: int) -> None:
    later = at.astimezone(dt.UTC) + dt.timedelta(milliseconds=later_ms)  # absolute, not wall time
    a, b = sequence_at(at, **GRID), sequence_at(later, **GRID)
    assert b - a in (later_ms // SEGMENT_MS, later_ms // SEGMENT_MS + 1)


@given(instants, segments)
def test_floor_brackets_the_instant(at: dt.datetime, segment_ms: int) -> None:
    floor = grid_floor(at, epoch=EPOCH, segment_ms=segment_ms)
    assert floor <= at < floor + dt.timedelta(milliseconds=segment_ms)
    assert is_on_grid(floor, epoch=EPOCH, segment_ms=segment_ms)
    assert floor.tzinfo is dt.UTC


@given(instants, segments)
def test_ceil_is_the_smallest_grid_instant_at_or_after(at: dt.datetime, segment_ms: int) -> None:
    ceil = grid_ceil(at, epoch=EPOCH, segment_ms=segment_ms)
    assert ceil >= at and is_on_grid(ceil, epoch=EPOCH, segment_ms=segment_ms)
    assert ceil - dt.timedelta(milliseconds=segment_ms) < at  # the grid instant before is earlier
    assert (ceil == grid_floor(at, epoch=EPOCH, segment_ms=segment_ms)) == is_on_grid(
        at, epoch=EPOCH, segment_ms=segment_ms
    )
    assert sequence_ceil(at, epoch=EPOCH, segment_ms=segment_ms) == sequence_at(
        ceil, epoch=EPOCH, segment_ms=segment_ms
    )


@given(st.integers(min_value=-(10**9), max_value=10**9), segments)
def test_a_segment_starts_on_its_own_sequence(sequence: int, segment_ms: int) -> None:
    start = segment_start(sequence, epoch=EPOCH, segment_ms=segment_ms)
    assert sequence_at(start, epoch=EPOCH, segment_ms=segment_ms) == sequence
    assert sequence_at(start - ONE_US, epoch=EPOCH, segment_ms=segment_ms) == sequence - 1
    assert is_on_grid(start, epoch=EPOCH, segment_ms=segment_ms)
    assert offset_us(start, epoch=EPOCH) == sequence * segment_ms * 1000


@given(instants)
def test_the_next_boundary_is_strictly_after_the_instant(at: dt.datetime) -> None:
    boundary = next_boundary(at, **GRID)
    utc = at.astimezone(dt.UTC)  # steps in absolute time, not in the zone's wall time
    assert utc < boundary <= utc + SEGMENT
    assert boundary == grid_ceil(utc + ONE_US, **GRID)
    assert sequence_at(boundary, **GRID) == sequence_at(at, **GRID) + 1


@given(st.integers(min_value=0, max_value=10**8), st.integers(0, 5000), st.integers(0, 4_799_999))
def test_the_segment_index_inside_an_item(first: int, k: int, inside_us: int) -> None:
    start = segment_start(first, **GRID)
    at = start + k * SEGMENT + dt.timedelta(microseconds=inside_us)
    assert segment_index(at, start=start, segment_ms=SEGMENT_MS) == k
    assert segment_index(at, start=start, segment_ms=SEGMENT_MS) == (
        sequence_at(at, **GRID) - first
    )


def test_known_instants() -> None:
    odd = dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC)
    assert grid_ceil(odd, **GRID) == dt.datetime(2026, 1, 1, 0, 1, 2, 400000, tzinfo=dt.UTC)
    assert grid_floor(odd, **GRID) == dt.datetime(2026, 1, 1, 0, 0, 57, 600000, tzinfo=dt.UTC)
    assert is_on_grid(dt.datetime(2026, 10, 25, 2, 0, tzinfo=dt.UTC), **GRID)  # whole hours
    assert is_on_grid(dt.datetime(2027, 3, 28, 1, 58, tzinfo=dt.UTC), **GRID)  # even minutes
    assert not is_on_grid(dt.datetime(2027, 3, 28, 1, 59, tzinfo=dt.UTC), **GRID)
    assert segment_start(1_000_000, **GRID) == dt.datetime(2026, 2, 25, 13, 20, tzinfo=dt.UTC)
    assert sequence_at(EPOCH - ONE_US, **GRID) == -1  # before the epoch: negative, no error


# --- DST -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "local_before",
    [
        dt.datetime(2026, 3, 29, 1, 59, 58, tzinfo=PARIS),
        dt.datetime(2026, 10, 25, 2, 59, 58, tzinfo=PARIS),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_the_sequence_never_resets_across_dst(local_before: dt.datetime) -> None:
    """Stepping 1 s at a time through a DST change in Paris local time: +1 or +0 each step."""
    at = local_before
    previous = sequence_at(at, **GRID)
    for _ in range(7200):
        at = (at.astimezone(dt.UTC) + dt.timedelta(seconds=1)).astimezone(PARIS)
        current = sequence_at(at, **GRID)
        assert current - previous in (0, 1)
        previous = current
    assert previous - sequence_at(local_before, **GRID) in (1500, 1501)


@settings(max_examples=300)
@given(aware(2025, 2030, st.just(PARIS)))
def test_an_epoch_in_local_time_counts_absolute_time(at: dt.datetime) -> None:
    """Epoch and instant in the same zone (Paris) subtract in absolute time, not wall time: a
    summer instant is counted exactly as its UTC twin, an hour of DST changes nothing."""
    local_epoch = dt.datetime(2026, 1, 1, tzinfo=PARIS)  # winter: 2025-12-31 23:00 UTC
    utc_epoch = local_epoch.astimezone(dt.UTC)
    sequence = sequence_at(at, epoch=local_epoch, segment_ms=SEGMENT_MS)
    assert sequence == sequence_at(at.astimezone(dt.UTC), epoch=utc_epoch, segment_ms=SEGMENT_MS)
    start = segment_start(sequence, epoch=local_epoch, segment_ms=SEGMENT_MS)
    assert start == segment_start(sequence, epoch=utc_epoch, segment_ms=SEGMENT_MS)
    assert start <= at < start + SEGMENT
    assert grid_ceil(at, epoch=local_epoch, segment_ms=SEGMENT_MS) == grid_ceil(
        at, epoch=utc_epoch, segment_ms=SEGMENT_MS
    )


def test_a_day_with_a_dst_change_has_its_true_number_of_segments() -> None:
    """23 h on the spring change, 25 h on the autumn one: 17,250 and 18,750 segments."""
    for day, hours in ((dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)):
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
        count = sequence_at(next_midnight, **GRID) - sequence_at(midnight, **GRID)
        assert count == hours * 750


# --- far from the epoch ----------------------------------------------------------------------


@settings(max_examples=300)
@given(aware(1971, 9000, zones), st.integers(min_value=-5000, max_value=5000))
def test_the_arithmetic_is_exact_far_from_the_epoch(at: dt.datetime, step: int) -> None:
    """From a 1970 epoch to instants seven thousand years later: integers, no float drift."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    grid = {"epoch": epoch, "segment_ms": SEGMENT_MS}
    sequence = sequence_at(at, **grid)
    assert sequence == offset_us(at, epoch=epoch) // 4_800_000
    start = segment_start(sequence, **grid)
    assert start <= at < start + SEGMENT
    assert sequence_at(segment_start(sequence + step, **grid), **grid) == sequence + step
    assert segment_start(sequence + step, **grid) - start == step * SEGMENT
