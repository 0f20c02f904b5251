"""``python manage.py playout [--once]``: publish every active channel's live window.

One process for all channels, and one such process active at a time: it holds a lease in Redis
(``broadcasting.live.lease``; a second process, e.g. ``playout-standby`` in docker-compose.yml,
waits as a hot standby and takes over within one segment when the first dies). Three threads:

- the loop (here) wakes before each boundary of every channel, each on its own grid (channels
  may have different epochs: ``broadcasting.live.wakes``), and publishes the channels due as of
  that boundary, so each segment is listed as it begins to air: first the playlists of every
  channel due (``publish_air``; the planner waits meanwhile), then the next segments
  (``publish_ahead``), the soonest to air first across every channel, until a channel falls
  due again. It publishes only while its lease has time left for a step, and from the plans the
  planner holds: it never waits for the database nor for Redis;
- the planner (``broadcasting.live.planner``) refreshes the plans from the database before each
  boundary, keeps them when the database fails (retrying with backoff), and writes the as-run
  log of what the loop published;
- the lease keeper renews the lease, or tries to take it.

Each published channel prints a line ``<slug> seq=<n> published=<k> slated=<s> unfilled=<u>
lead=<ms>ms`` (``lead``: how long before its boundary its playlists were written; ``published``:
the segments made for it in that round so far).

Before it publishes a channel for the first time, it makes sure the channel has a slate to air:
its own, else its built-in slate, generated and transcoded once (``broadcasting.live.slate``; up to
half a minute for the whole ladder). At start this is done before anything is published; for a
channel that appears later it runs beside the loop, and that channel is published once it is
done, so the channels already on air never wait for ffmpeg. Every channel is checked again every
``SLATE_RETRY`` (a slate deleted or failed meanwhile is made again; a channel that has one costs
a query or two). A standby taking over skips the check for channels whose plan has a slate.

SIGTERM and SIGINT stop it cleanly: its lease is released, so a standby takes over at once.
"""

import datetime as dt
import logging
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.utils import timezone

from broadcasting.live import lease as leases
from broadcasting.live.lease import Lease, LeaseKeeper, lease_client
from broadcasting.live.plan import ChannelPlan
from broadcasting.live.planner import PUBLISH_LEAD, Planner, grid_of
from broadcasting.live.playout import PublishReport, publish_ahead, publish_air, publish_window
from broadcasting.live.slate import slate_builtin_ensure
from broadcasting.live.wakes import Grid, Wakes
from broadcasting.live.wakes import boundary_to_publish as next_to_publish
from broadcasting.media.grid import segment_start
from playlists.models import Channel
from playlists.selectors import channels_on_air

logger = logging.getLogger(__name__)
SLATE_RETRY = dt.timedelta(minutes=30)
STEP = 0.5  # seconds of lease a publishing step needs left (a channel takes ~10-50 ms)
IDLE = 0.25  # the longest sleep: a lease taken or lost, a new channel, are seen this fast


def boundary_to_publish(
    *, channel: Channel, now: dt.datetime, last: dt.datetime | None
) -> dt.datetime:
    """The boundary the loop publishes ``channel`` for next (``broadcasting.live.wakes``)."""
    return next_to_publish(grid_of(channel), now=now, last=last, lead=PUBLISH_LEAD)


def _airs(plan: ChannelPlan, report: PublishReport, offset: int) -> dt.datetime:
    """When the segment ``offset`` after the one published by ``report`` airs."""
    channel = plan.channel
    return segment_start(report.sequence + offset, epoch=channel.epoch, segment_ms=plan.segment_ms)


class Command(BaseCommand):
    help = "Publish the live HLS window of every channel on air, before each segment boundary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish once, now, and exit.")
        parser.add_argument("--ahead", type=int, default=3)
        parser.add_argument("--window", type=int, default=6)
        parser.add_argument("--lease-key", default=leases.KEY, help="The lease's Redis key.")
        parser.add_argument("--lease-ttl-ms", type=int, default=leases.TTL_MS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slate_checked: dict[int, dt.datetime] = {}  # channel id → last check started
        self.slate_done: set[int] = set()  # channels whose first check has finished
        self.slate_threads: dict[int, threading.Thread] = {}
        self.stopping = threading.Event()
        self.started = False  # the first time the lease was held: slates made before publishing
        self.planner: Planner | None = None
        # per channel, the segments to make ahead: its last publication and the next offset
        self.ahead: dict[int, tuple[ChannelPlan, PublishReport, int]] = {}

    def handle(self, *args: Any, **options: Any) -> None:
        owner = f"{socket.gethostname()}:{os.getpid()}"
        lease = Lease(
            client=lease_client(), key=options["lease_key"], ttl_ms=options["lease_ttl_ms"],
            owner=owner,
        )  # fmt: skip
        if options["once"]:
            self._once(lease, options)
            return
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._stop)
        if lease.ttl_ms * (1 - leases.DRIFT) - leases.FSYNC_MS <= 2 * STEP * 1000:
            raise CommandError(f"--lease-ttl-ms {lease.ttl_ms} leaves no time to publish")
        planner = self.planner = Planner(lead=PUBLISH_LEAD, window=options["window"]).start()
        keeper = LeaseKeeper(lease, ready=lambda: bool(planner.channels)).start()
        self.stdout.write(f"playout {owner}: waiting for the lease {lease.key}")
        try:
            self._loop(keeper, planner, options)
        finally:
            planner.stop()
            keeper.stop()

    def _stop(self, number: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _once(self, lease: Lease, options: dict[str, Any]) -> None:
        if not lease.acquire():
            raise CommandError(f"another playout holds the lease {lease.key} (or Redis is away)")
        try:
            self.ensure_slates(list(channels_on_air()), wait=True)
            now = timezone.now()
            for channel in channels_on_air():
                try:
                    report = publish_window(
                        channel=channel, now=now, ahead=options["ahead"], window=options["window"]
                    )
                except Exception:  # noqa: BLE001 - one channel's failure must not take the others off
                    logger.exception("playout failed for %s", channel.slug)
                    continue
                self._report(report, lead=dt.timedelta(0))
        finally:
            lease.release()

    # --- the loop -------------------------------------------------------------------------------

    def _loop(self, keeper: LeaseKeeper, planner: Planner, options: dict[str, Any]) -> None:
        wakes = Wakes(lead=PUBLISH_LEAD)
        active = False
        while not self.stopping.is_set():
            channels = planner.channels
            if keeper.remaining() <= STEP or not channels:
                if active:
                    self.stdout.write("standby: the lease is not held")
                    wakes.forget()
                    self.ahead.clear()
                active = False
                self.stopping.wait(IDLE)
                continue
            if not active:
                active = True
                self.stdout.write(f"active: lease token {keeper.lease.token}")
                self._take_over(channels, planner)
            self.ensure_slates(channels, wait=False)  # new channels, and every SLATE_RETRY
            now = timezone.now()
            grids = {c.pk: grid_of(c) for c in channels}
            due = wakes.due(grids, now)
            if not due:
                wait = (wakes.next_wake(grids, now) - timezone.now()).total_seconds()
                self.stopping.wait(min(max(wait, 0.0), IDLE))
                continue
            by_pk = {c.pk: c for c in channels}
            self._publish_round(
                [(by_pk[k], b) for k, b in due], keeper, planner, wakes, grids, options
            )

    def _take_over(self, channels: list[Channel], planner: Planner) -> None:
        """The lease was just taken: channels whose plan has a slate need no check; the others
        are checked (made) before anything is published the first time, beside the loop after."""
        now = timezone.now()
        for channel in channels:
            plan = planner.plan(channel.pk)
            if plan is not None and plan.slate is not None:
                self.slate_done.add(channel.pk)
                self.slate_checked.setdefault(channel.pk, now)
        missing = [c for c in channels if c.pk not in self.slate_done]
        if missing and not self.started:
            self.ensure_slates(missing, wait=True)
            planner.reload(missing)  # their plans, with the slates just made
        elif missing:
            self.ensure_slates(missing, wait=False)
        self.started = True
        planner.refresh_soon()  # the plans a standby held may be a little old

    def _publish_round(
        self,
        due: list[tuple[Channel, dt.datetime]],
        keeper: LeaseKeeper,
        planner: Planner,
        wakes: Wakes,
        grids: dict[int, Grid],
        options: dict[str, Any],
    ) -> None:
        """Every channel due: its playlists first (all of them), then the next segments."""
        with planner.paused():
            published = self._publish_air(due, keeper, planner, wakes, options)
        for plan, report, _ in published:  # supersedes what was left of its previous round
            self.ahead[plan.channel.pk] = (plan, report, 1)
        self._publish_ahead(keeper, wakes, grids, options["ahead"])
        for _, report, lead in published:
            planner.record(report.as_run_records)
            self._report(report, lead=lead)

    def _publish_air(
        self,
        due: list[tuple[Channel, dt.datetime]],
        keeper: LeaseKeeper,
        planner: Planner,
        wakes: Wakes,
        options: dict[str, Any],
    ) -> list[tuple[ChannelPlan, PublishReport, dt.timedelta]]:
        """The playlists of every channel due; what was published, with its lead."""
        published: list[tuple[ChannelPlan, PublishReport, dt.timedelta]] = []
        for channel, boundary in due:
            wakes.published(channel.pk, boundary)
            plan = planner.plan(channel.pk)
            if plan is None or self.slate_pending(channel):
                continue
            if keeper.remaining() <= STEP:
                break  # the lease could run out during the step: stop publishing
            try:
                report = publish_air(
                    plan=plan, now=boundary, window=options["window"], backfill=False
                )
            except Exception:  # noqa: BLE001 - one channel's failure must not take the others off
                logger.exception("playout failed for %s", channel.slug)
                continue
            published.append((plan, report, boundary - timezone.now()))
        return published

    def _publish_ahead(
        self, keeper: LeaseKeeper, wakes: Wakes, grids: dict[int, Grid], ahead: int
    ) -> None:
        """The next segments of the channels published, the soonest to air first across them
        (every channel's next one, then the one after...), until a channel falls due again: its
        playlists come first, and what is left is made after them."""
        while self.ahead:
            now = timezone.now()
            if keeper.remaining() <= STEP or wakes.next_wake(grids, now) <= now:
                return
            key, (plan, report, offset) = min(
                self.ahead.items(), key=lambda task: _airs(task[1][0], task[1][1], task[1][2])
            )
            try:
                publish_ahead(plan=plan, now=now, report=report, ahead=offset, start=offset)
            except Exception:  # noqa: BLE001 - the segments on air are published already
                logger.exception("playout ahead failed for %s", report.channel)
            if offset < ahead:
                self.ahead[key] = (plan, report, offset + 1)
            else:
                del self.ahead[key]

    def _report(self, report: PublishReport, *, lead: dt.timedelta) -> None:
        self.stdout.write(
            f"{report.channel} seq={report.sequence} published={len(report.published)} "
            f"slated={len(report.slated)} unfilled={len(report.unfilled)} "
            f"lead={round(lead.total_seconds() * 1000)}ms"
        )

    # --- slates ---------------------------------------------------------------------------------

    def ensure_slates(self, channels: list[Channel], *, wait: bool) -> None:
        """Check the slate of each channel seen for the first time or not checked for
        ``SLATE_RETRY``: here if ``wait``, else in a thread beside the loop."""
        now = timezone.now()
        for channel in channels:
            running = self.slate_threads.get(channel.pk)
            last = self.slate_checked.get(channel.pk)
            if (running is not None and running.is_alive()) or (
                last is not None and now - last < SLATE_RETRY
            ):
                continue
            self.slate_checked[channel.pk] = now
            if wait:
                self._ensure_slate(channel)
                continue
            thread = threading.Thread(
                target=self._ensure_slate_apart, args=(channel,), name=f"slate-{channel.slug}"
            )
            thread.daemon = True
            self.slate_threads[channel.pk] = thread
            thread.start()

    def slate_pending(self, channel: Channel) -> bool:
        """Whether the channel's first slate check has not finished (it is not published yet)."""
        return channel.pk not in self.slate_done

    def _ensure_slate(self, channel: Channel) -> None:
        try:
            slate = slate_builtin_ensure(channel=channel)
        except Exception:  # noqa: BLE001 - a slate that cannot be made must not stop the playout
            logger.exception("built-in slate failed for %s", channel.slug)
            slate = None
        finally:
            self.slate_done.add(channel.pk)
        if slate is None:
            self.stderr.write(f"{channel.slug}: no slate to air")

    def _ensure_slate_apart(self, channel: Channel) -> None:
        try:
            self._ensure_slate(channel)
            if self.planner is not None:
                self.planner.refresh_soon()  # its plan, with the slate
        finally:
            try:
                connections.close_all()  # this thread's own connections
            except DatabaseError:
                logger.debug("slate thread: connection already gone")
