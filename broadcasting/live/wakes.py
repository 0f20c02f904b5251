"""When the playout wakes: before each boundary of every channel's own grid (issue 10).

Channels may have different epochs, so their 4.8-s boundaries fall at different instants. The
loop keeps, per channel, the last boundary it published; the next one to publish is due
``lead`` before it begins to air. Pure: no clock, no Django.

``boundary_to_publish`` picks the boundary a channel publishes as of: normally the one after
the last published; on a (re)start, or after a round that ran late, the segment on air now
(published at once, so its playlist lists it) unless the next boundary is already within the
lead (then that one, as usual).
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from broadcasting.media.grid import grid_floor, next_boundary


@dataclass(frozen=True)
class Grid:
    """A channel's segment grid."""

    epoch: dt.datetime
    segment_ms: int


def boundary_to_publish(
    grid: Grid, *, now: dt.datetime, last: dt.datetime | None, lead: dt.timedelta
) -> dt.datetime:
    """The boundary the channel publishes for next (see the module's docstring)."""
    upcoming = next_boundary(now, epoch=grid.epoch, segment_ms=grid.segment_ms)
    boundary = (
        upcoming
        if upcoming - lead <= now
        else grid_floor(now, epoch=grid.epoch, segment_ms=grid.segment_ms)
    )
    if last is not None and boundary <= last:
        boundary = next_boundary(last, epoch=grid.epoch, segment_ms=grid.segment_ms)
    return boundary


@dataclass
class Wakes:
    """Per channel (by id), the last boundary published; which are due now."""

    lead: dt.timedelta
    last: dict[int, dt.datetime] = field(default_factory=dict)

    def next_boundaries(
        self, grids: Mapping[int, Grid], now: dt.datetime
    ) -> dict[int, dt.datetime]:
        return {
            key: boundary_to_publish(grid, now=now, last=self.last.get(key), lead=self.lead)
            for key, grid in grids.items()
        }

    def due(self, grids: Mapping[int, Grid], now: dt.datetime) -> list[tuple[int, dt.datetime]]:
        """The channels to publish now and the boundary of each, soonest first."""
        found = [
            (key, boundary)
            for key, boundary in self.next_boundaries(grids, now).items()
            if boundary - self.lead <= now
        ]
        return sorted(found, key=lambda due: due[1])

    def next_wake(self, grids: Mapping[int, Grid], now: dt.datetime) -> dt.datetime:
        """When the next channel falls due (``now`` when one is due already or none is known:
        the caller bounds its sleep)."""
        boundaries = self.next_boundaries(grids, now).values()
        return min((boundary - self.lead for boundary in boundaries), default=now)

    def published(self, key: int, boundary: dt.datetime) -> None:
        self.last[key] = boundary

    def forget(self) -> None:
        """Publish every channel's segment on air at once next (the lease was just taken)."""
        self.last.clear()
