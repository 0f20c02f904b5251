"""The playout wakes for every channel's own boundaries (channels may have different epochs):
simulated over a few minutes with three channels 1.1 s and 2.4 s apart, each boundary of each
channel is published once, before it airs, within the lead."""

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from broadcasting.live.wakes import Grid, Wakes, boundary_to_publish
from broadcasting.media.grid import segment_start, sequence_at

SEGMENT_MS = 4800
LEAD = dt.timedelta(seconds=1)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def simulate(
    grids: dict[int, Grid], start: dt.datetime, seconds: float, took: dt.timedelta
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Run the loop's scheduling against a clock: (channel, boundary, published at) in order.
    Each publishing round takes ``took`` per channel."""
    wakes = Wakes(lead=LEAD)
    now, end = start, start + dt.timedelta(seconds=seconds)
    done: list[tuple[int, dt.datetime, dt.datetime]] = []
    while now < end:
        due = wakes.due(grids, now)
        if not due:
            now = max(now, wakes.next_wake(grids, now))
            continue
        for key, boundary in due:
            now += took
            done.append((key, boundary, now))
            wakes.published(key, boundary)
    return done


def test_three_epochs_each_channel_is_published_before_each_of_its_boundaries() -> None:
    grids = {
        1: Grid(epoch=EPOCH, segment_ms=SEGMENT_MS),
        2: Grid(epoch=EPOCH + dt.timedelta(seconds=1.1), segment_ms=SEGMENT_MS),
        3: Grid(epoch=EPOCH + dt.timedelta(seconds=2.4), segment_ms=SEGMENT_MS),
    }
    start = EPOCH + dt.timedelta(days=40, seconds=0.3)
    done = simulate(grids, start, 120, took=dt.timedelta(milliseconds=30))
    for key, grid in grids.items():
        mine = [(boundary, at) for k, boundary, at in done if k == key]
        sequences = [sequence_at(b, epoch=grid.epoch, segment_ms=SEGMENT_MS) for b, _ in mine]
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))  # each once
        assert len(mine) >= 120 / 4.8 - 1
        for boundary, at in mine[1:]:  # the first may be the segment on air at start
            assert boundary - LEAD <= at < boundary, (key, boundary, at)


@given(
    offsets=st.lists(st.integers(0, SEGMENT_MS - 1), min_size=1, max_size=6),
    start_ms=st.integers(0, 10 * SEGMENT_MS),
    took_ms=st.integers(0, 120),
)
@example(offsets=[0, 0, 0, 0, 0], start_ms=13200, took_ms=120)  # a late round after a start
def test_any_epochs_every_boundary_is_published_once_and_in_time(
    offsets: list[int], start_ms: int, took_ms: int
) -> None:
    grids = {
        i: Grid(epoch=EPOCH + dt.timedelta(milliseconds=offset), segment_ms=SEGMENT_MS)
        for i, offset in enumerate(offsets)
    }
    start = EPOCH + dt.timedelta(days=3, milliseconds=start_ms)
    done = simulate(grids, start, 30, took=dt.timedelta(milliseconds=took_ms))
    for key, grid in grids.items():
        mine = [(b, at) for k, b, at in done if k == key]
        boundaries = [b for b, _ in mine]
        assert boundaries == sorted(set(boundaries))
        first = sequence_at(boundaries[0], epoch=grid.epoch, segment_ms=SEGMENT_MS)
        assert boundaries == [
            segment_start(first + i, epoch=grid.epoch, segment_ms=SEGMENT_MS)
            for i in range(len(boundaries))
        ]
        # The first round may publish the segments on air at start (at once, all channels),
        # which delays the round after it; from then on, no boundary is late unless a round
        # outlasts the lead.
        steady = mine[2:] if boundaries[0] <= start else mine[1:]
        late = [(b, at) for b, at in steady if at >= b]
        assert not late or took_ms * len(grids) >= 1000


def test_the_first_boundary_is_the_segment_on_air_or_the_next_within_the_lead() -> None:
    grid = Grid(epoch=EPOCH, segment_ms=SEGMENT_MS)
    boundary = segment_start(500, epoch=EPOCH, segment_ms=SEGMENT_MS)
    mid = boundary + dt.timedelta(seconds=2)
    assert boundary_to_publish(grid, now=mid, last=None, lead=LEAD) == boundary
    close = boundary - dt.timedelta(milliseconds=400)
    assert boundary_to_publish(grid, now=close, last=None, lead=LEAD) == boundary
