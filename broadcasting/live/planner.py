"""The playout's plans, refreshed from the database in a thread of their own (issue 10).

The publishing loop never queries the database: it publishes from the ``ChannelPlan`` this
thread holds for each channel (``broadcasting.live.plan``), and hands it what aired for the
as-run log. This thread reads the channels on air every ``CHANNELS_EVERY``, refreshes each
channel's plan ``PLAN_LEAD`` before the loop publishes its next boundary (``PUBLISH_LEAD``
before it airs), over ``HORIZON`` ahead, and writes the as-run records it was handed. A notice
that a channel's overrides changed (``broadcasting.live.notices``) has its plan read at once,
so an override started until just before the loop's round airs at that round's boundary.

When the database fails (an error, a terminated connection, a server that does not answer),
the plans held stay in use: the loop keeps publishing, a database outage shorter than the
horizon costs nothing on air, and the as-run records wait in memory (``MAX_PENDING``; writing
one twice changes nothing). The connections are closed and the thread tries again after a
delay that doubles from ``RETRY_FIRST`` to ``RETRY_MAX``. A database that hangs holds this
thread only, never the loop.
"""

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    connections,
)
from django.utils import timezone

from broadcasting.live.as_run import AsRunRecord, as_run_write
from broadcasting.live.notices import NoticeListener
from broadcasting.live.plan import ChannelPlan, plan_resolve
from broadcasting.live.wakes import Grid, Wakes
from broadcasting.media.grid import segment_start, sequence_at
from playlists.models import Channel
from playlists.selectors import channels_on_air

logger = logging.getLogger(__name__)
HORIZON = dt.timedelta(minutes=10)
NEAR = dt.timedelta(minutes=1)  # the items read again before each boundary
FULL_EVERY = 60.0  # seconds between two readings of the whole horizon
PUBLISH_LEAD = dt.timedelta(seconds=1)  # the loop lists a boundary's segment this long before
PLAN_LEAD = dt.timedelta(seconds=2)  # the plan of each round is read this long before the round
QUIET_MAX = 2.0  # seconds the planner waits at most for the loop's playlists to be written
CHANNELS_EVERY = 2.0  # seconds
RETRY_FIRST, RETRY_MAX = 0.5, 5.0  # seconds
MAX_PENDING = 20_000  # as-run records kept while the database is away (about a day)
WRITTEN_FOR = dt.timedelta(hours=1)  # records remembered as written (not sent again)


def grid_of(channel: Channel) -> Grid:
    return Grid(epoch=channel.epoch, segment_ms=channel.channel_format.segment_ms)


class Planner:
    """Holds every channel's plan and the as-run records to write; ``start()`` runs it."""

    def __init__(self, *, lead: dt.timedelta, window: int, horizon: dt.timedelta = HORIZON):
        self.window = window
        self.horizon = horizon
        self.channels: list[Channel] = []  # on air, as last read
        self._plans: dict[int, ChannelPlan] = {}
        self._full_at: dict[int, float] = {}  # when each plan's whole horizon was last read
        self._wakes = Wakes(lead=lead + PLAN_LEAD)
        self._pending: deque[AsRunRecord] = deque(maxlen=MAX_PENDING)
        self._written: dict[tuple[int, dt.datetime, bool], dt.datetime] = {}
        self._channels_read = 0.0
        self._failures = 0
        self._retry_at = 0.0
        self._stop = threading.Event()
        self._nudge = threading.Event()
        self._quiet = threading.Event()  # clear while the loop writes playlists
        self._quiet.set()
        self._thread = threading.Thread(target=self._run, name="playout-planner", daemon=True)
        self._urgent: set[int | None] = set()  # plans to read at once (``None``: all of them)
        self._urgent_lock = threading.Lock()
        self.notices = NoticeListener(self.overrides_changed)

    # --- asked by the publishing loop ---------------------------------------------------------

    def plan(self, channel_id: int) -> ChannelPlan | None:
        return self._plans.get(channel_id)

    def record(self, records: Iterable[AsRunRecord]) -> None:
        """Queue what aired for the as-run log."""
        self._pending.extend(records)
        self._nudge.set()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """While the loop writes the playlists of a boundary, this thread waits between two
        pieces of work (bounded by ``QUIET_MAX``), leaving the loop the interpreter."""
        self._quiet.clear()
        try:
            yield
        finally:
            self._quiet.set()

    def refresh_soon(self) -> None:
        """Read every plan again now, whole (a standby taking over, a slate just made)."""
        self._full_at.clear()
        self._wakes.forget()
        self._nudge.set()

    def reload(self, channels: list[Channel]) -> None:
        """Read these channels' plans now, in the calling thread (kept as they are if the
        database fails)."""
        now = timezone.now()
        try:
            for channel in channels:
                self._plans[channel.pk] = self._resolve(channel, now)
        except DatabaseError as err:
            logger.warning("plans not reloaded: %s", err)

    def overrides_changed(self, channel_id: int | None) -> None:
        """A notice: read the channel's plan (``None``: every channel's) at once."""
        with self._urgent_lock:
            self._urgent.add(channel_id)
        self._nudge.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    # --- the thread ---------------------------------------------------------------------------

    def start(self) -> "Planner":
        self._thread.start()
        self.notices.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._nudge.set()
        self.notices.stop()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self.step()
                self._nudge.wait(delay)
                self._nudge.clear()
        finally:
            connections.close_all()

    def step(self) -> float:
        """Do what is due; seconds until something else is."""
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            return wait
        try:
            _close_connections(only_unusable=True)
            self._read_channels()
            self._refresh_plans()
            self._write_as_run()
        except DatabaseError as err:
            return self._failed(err)
        except Exception:  # noqa: BLE001 - a bug here must not leave the plans to age forever
            logger.exception("playout planner failed")
            return self._failed(None)
        if self._failures:
            logger.warning("database back after %s failed attempts", self._failures)
            self._failures = 0
        return self._until_next()

    def _read_channels(self) -> None:
        if time.monotonic() - self._channels_read < CHANNELS_EVERY and self.channels:
            return
        channels = list(channels_on_air())
        self._channels_read = time.monotonic()
        on_air = {c.pk for c in channels}
        for gone in set(self._plans) - on_air:
            del self._plans[gone]
        self.channels = channels

    def _refresh_plans(self) -> None:
        now = timezone.now()
        grids = {c.pk: grid_of(c) for c in self.channels}
        by_pk = {c.pk: c for c in self.channels}
        with self._urgent_lock:
            urgent, self._urgent = self._urgent, set()
        keys = sorted(by_pk) if None in urgent else sorted(k for k in urgent if k in by_pk)
        for done, key in enumerate(keys):
            try:
                self._quiet.wait(QUIET_MAX)
                self._plans[key] = self._resolve(by_pk[key], now)
            except Exception:
                with self._urgent_lock:  # read again at the next attempt
                    self._urgent.update(keys[done:])
                raise
        for key, boundary in self._wakes.due(grids, now):
            self._quiet.wait(QUIET_MAX)
            self._plans[key] = self._resolve(by_pk[key], now)
            self._wakes.published(key, boundary)

    def _resolve(self, channel: Channel, now: dt.datetime) -> ChannelPlan:
        """The channel's plan from the window on air: before each boundary its overrides, slate
        and next minute of items; every ``FULL_EVERY`` the whole horizon (a rebuilt timeline
        changes only items after the one on air, re-read here long before they air)."""
        segment_ms = channel.channel_format.segment_ms
        first = sequence_at(now, epoch=channel.epoch, segment_ms=segment_ms) - self.window - 2
        start = segment_start(first, epoch=channel.epoch, segment_ms=segment_ms)
        held = self._plans.get(channel.pk)
        full = self._full_at.get(channel.pk)
        if held is None or full is None or time.monotonic() - full > FULL_EVERY:
            self._full_at[channel.pk] = time.monotonic()
            return plan_resolve(channel=channel, start=start, end=now + self.horizon)
        return plan_resolve(
            channel=channel, start=start, end=held.end, held=held, items_until=now + NEAR
        )

    def _write_as_run(self) -> None:
        """Write the records queued, in order; one the database refuses (what it names was
        deleted meanwhile) is dropped, logged, rather than blocking the others for ever."""
        while self._pending:
            record = self._pending[0]
            if record.key not in self._written:
                self._quiet.wait(QUIET_MAX)
                try:
                    as_run_write(record)
                except (IntegrityError, DataError) as err:
                    logger.error("as-run record dropped %s: %s", record.key, err)
                self._written[record.key] = record.at
            self._pending.popleft()
        oldest = timezone.now() - WRITTEN_FOR
        for key in [k for k, at in self._written.items() if at < oldest]:
            del self._written[key]

    def _until_next(self) -> float:
        now = timezone.now()
        grids = {c.pk: grid_of(c) for c in self.channels}
        wake = (self._wakes.next_wake(grids, now) - now).total_seconds()
        return max(0.0, min(wake, CHANNELS_EVERY))

    def _failed(self, err: DatabaseError | None) -> float:
        """Keep the plans held, close the connections, try again later (doubling)."""
        self._failures += 1
        delay = min(RETRY_MAX, RETRY_FIRST * 2 ** (self._failures - 1))
        self._retry_at = time.monotonic() + delay
        if err is not None:
            logger.warning(
                "database unavailable (%s): publishing from the plans held (%s channels, "
                "%s as-run records waiting); next attempt in %.1f s",
                str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__,
                len(self._plans),
                len(self._pending),
                delay,
            )
        self._short_plans_warning()
        _close_connections(only_unusable=False)
        return delay

    def _short_plans_warning(self) -> None:
        now = timezone.now()
        short = [p.channel.slug for p in self._plans.values() if p.end < now + PLAN_LEAD * 30]
        if short:
            logger.error("plans held end within 30 s (the slate airs after): %s", short)


def _close_connections(*, only_unusable: bool) -> None:
    """This thread's connections: closed (a dead one is forgotten all the same), or only those
    broken or past ``CONN_MAX_AGE`` (Django's clean-up at the end of a request). Never inside a
    transaction (the tests run the planner in theirs)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        with suppress(DatabaseError):
            if only_unusable:
                connection.close_if_unusable_or_obsolete()
            else:
                connection.close()
