"""The channel's segment grid: every instant ``epoch + n * segment`` and the arithmetic around it.

The rule (DESIGN.md, decisions 1 and 2): segment ``n`` of a channel airs from
``epoch + n * segment``, and the sequence airing at instant ``t`` is
``floor((t - epoch) / segment)``. It is counted from the channel's epoch and never resets:
restarts, schedule rebuilds and DST changes change nothing. Every instant is an aware datetime,
converted to UTC before any subtraction (two datetimes of one zone would otherwise subtract in
wall time, an hour off across a DST change), and the arithmetic runs on whole microseconds, so
no float ever rounds an instant to the wrong segment. Instants returned are in UTC.

The one place for this arithmetic: the live playlists, the playout, overrides, the web views
and the timeline builder all call it. Pure: no Django, no I/O.
"""

import datetime as dt

_ONE_US = dt.timedelta(microseconds=1)


def offset_us(at: dt.datetime, *, epoch: dt.datetime) -> int:
    """``at - epoch`` in whole microseconds (absolute time, whatever the zones)."""
    return (at.astimezone(dt.UTC) - epoch.astimezone(dt.UTC)) // _ONE_US


def sequence_at(at: dt.datetime, *, epoch: dt.datetime, segment_ms: int) -> int:
    """The media sequence airing at ``at``: ``floor((at - epoch) / segment)``."""
    return offset_us(at, epoch=epoch) // (segment_ms * 1000)


def sequence_ceil(at: dt.datetime, *, epoch: dt.datetime, segment_ms: int) -> int:
    """The first sequence starting at or after ``at``: ``ceil((at - epoch) / segment)``."""
    return -(-offset_us(at, epoch=epoch) // (segment_ms * 1000))


def segment_start(sequence: int, *, epoch: dt.datetime, segment_ms: int) -> dt.datetime:
    """When segment ``sequence`` starts airing: ``epoch + sequence * segment``, in UTC."""
    return epoch.astimezone(dt.UTC) + dt.timedelta(milliseconds=sequence * segment_ms)


def grid_floor(at: dt.datetime, *, epoch: dt.datetime, segment_ms: int) -> dt.datetime:
    """The last grid instant at or before ``at`` (the start of the segment airing then)."""
    sequence = sequence_at(at, epoch=epoch, segment_ms=segment_ms)
    return segment_start(sequence, epoch=epoch, segment_ms=segment_ms)


def grid_ceil(at: dt.datetime, *, epoch: dt.datetime, segment_ms: int) -> dt.datetime:
    """The first grid instant at or after ``at``."""
    sequence = sequence_ceil(at, epoch=epoch, segment_ms=segment_ms)
    return segment_start(sequence, epoch=epoch, segment_ms=segment_ms)


def next_boundary(at: dt.datetime, *, epoch: dt.datetime, segment_ms: int) -> dt.datetime:
    """The start of the segment after the one airing at ``at`` (strictly after ``at``)."""
    sequence = sequence_at(at, epoch=epoch, segment_ms=segment_ms) + 1
    return segment_start(sequence, epoch=epoch, segment_ms=segment_ms)


def is_on_grid(at: dt.datetime, *, epoch: dt.datetime, segment_ms: int) -> bool:
    """Whether ``at`` is exactly a grid instant (a segment boundary)."""
    return offset_us(at, epoch=epoch) % (segment_ms * 1000) == 0


def segment_index(at: dt.datetime, *, start: dt.datetime, segment_ms: int) -> int:
    """The segment airing at ``at`` of an item that started at ``start`` (0 for its first)."""
    return sequence_at(at, epoch=start, segment_ms=segment_ms)
