"""``python manage.py playout [--once]``: publish every active channel's live window.

One process for all channels. It wakes about one second before each segment boundary (of the
first channel's grid; every channel shares the 4.8-s format here) and publishes each channel as
of that boundary, so the segment starting then is listed as it begins to air.
"""

import datetime as dt
import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from broadcasting.live import media_sequence, segment_start
from broadcasting.playout import publish_window
from playlists.models import Channel
from playlists.selectors import channels_on_air

logger = logging.getLogger(__name__)
LEAD = dt.timedelta(seconds=1)


def next_boundary(*, channel: Channel, now: dt.datetime) -> dt.datetime:
    """The start of the channel's next segment after ``now``."""
    segment_ms = channel.channel_format.segment_ms
    sequence = media_sequence(now, epoch=channel.epoch, segment_ms=segment_ms) + 1
    return segment_start(sequence, epoch=channel.epoch, segment_ms=segment_ms)


class Command(BaseCommand):
    help = "Publish the live HLS window of every channel on air, before each segment boundary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish once, now, and exit.")
        parser.add_argument("--ahead", type=int, default=3)
        parser.add_argument("--window", type=int, default=6)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self._publish_all(timezone.now(), options)
            return
        while True:
            channels = list(channels_on_air())
            if not channels:
                time.sleep(5)
                continue
            boundary = next_boundary(channel=channels[0], now=timezone.now())
            wait = (boundary - LEAD - timezone.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            self._publish_all(boundary, options)

    def _publish_all(self, at: dt.datetime, options: dict[str, Any]) -> None:
        for channel in channels_on_air():
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
