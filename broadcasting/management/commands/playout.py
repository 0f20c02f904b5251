"""``python manage.py playout [--once]``: publish every active channel's live window.

One process for all channels. It wakes about one second before each segment boundary (of the
first channel's grid; every channel shares the 4.8-s format here) and publishes each channel as
of that boundary, so the segment starting then is listed as it begins to air.

Before it publishes a channel for the first time, it makes sure the channel has a slate to air:
its own, else its built-in slate, generated and transcoded once (``broadcasting.live.slate``; up to
half a minute for the whole ladder). At start this is done before anything is published; for a
channel that appears later it runs beside the loop, and that channel is published once it is
done, so the channels already on air never wait for ffmpeg. Every channel is checked again every
``SLATE_RETRY`` (a slate deleted or failed meanwhile is made again; a channel that has one costs
a query or two).
"""

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.utils import timezone

from broadcasting.live.playout import publish_window
from broadcasting.live.slate import slate_builtin_ensure
from broadcasting.media.grid import next_boundary
from playlists.models import Channel
from playlists.selectors import channels_on_air

logger = logging.getLogger(__name__)
LEAD = dt.timedelta(seconds=1)
SLATE_RETRY = dt.timedelta(minutes=30)


def boundary_to_publish(
    *, channel: Channel, now: dt.datetime, last: dt.datetime | None
) -> dt.datetime:
    """The boundary the loop publishes for next: the next one after ``now``, or, when that one
    was published already (publishing ends before the boundary it prepares), the one after it."""
    epoch, segment_ms = channel.epoch, channel.channel_format.segment_ms
    boundary = next_boundary(now, epoch=epoch, segment_ms=segment_ms)
    if last is not None and boundary <= last:
        boundary = next_boundary(last, epoch=epoch, segment_ms=segment_ms)
    return boundary


class Command(BaseCommand):
    help = "Publish the live HLS window of every channel on air, before each segment boundary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish once, now, and exit.")
        parser.add_argument("--ahead", type=int, default=3)
        parser.add_argument("--window", type=int, default=6)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slate_checked: dict[int, dt.datetime] = {}  # channel id → last check started
        self.slate_done: set[int] = set()  # channels whose first check has finished
        self.slate_threads: dict[int, threading.Thread] = {}

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.ensure_slates(list(channels_on_air()), wait=True)
            self._publish_all(timezone.now(), options)
            return
        started = False
        last: dt.datetime | None = None
        while True:
            channels = list(channels_on_air())
            if not channels:
                time.sleep(5)
                continue
            self.ensure_slates(channels, wait=not started)  # at start: before any publishing
            started = True
            boundary = boundary_to_publish(channel=channels[0], now=timezone.now(), last=last)
            wait = (boundary - LEAD - timezone.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            self._publish_all(boundary, options)
            last = boundary

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
        finally:
            connections.close_all()  # this thread's own connections

    def _publish_all(self, at: dt.datetime, options: dict[str, Any]) -> None:
        for channel in channels_on_air():
            if self.slate_pending(channel):
                continue
            try:
                report = publish_window(
                    channel=channel, now=at, ahead=options["ahead"], window=options["window"]
                )
            except Exception:  # noqa: BLE001 - one channel's failure must not take the others off
                logger.exception("playout failed for %s", channel.slug)
                continue
            self.stdout.write(
                f"{channel.slug} seq={report.sequence} published={len(report.published)} "
                f"slated={len(report.slated)} unfilled={len(report.unfilled)}"
            )
