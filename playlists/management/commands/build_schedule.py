"""Build a channel's timeline now and print a summary of what was published."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from playlists.models import Channel, ScheduledItem
from playlists.services import ScheduleError, schedule_rebuild


class Command(BaseCommand):
    help = "Build the timeline of a channel (default: every channel on air) and summarise it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--channel", help="Slug of the channel (default: every channel on air)."
        )
        parser.add_argument("--start", help="ISO 8601 instant to build from (default: now).")
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="How far ahead to build (default: the horizon, CARILLON_SCHEDULE_HORIZON_DAYS).",
        )

    def handle(self, *args: object, **options: object) -> None:
        start = self._start(options["start"])
        for channel in self._channels(options["channel"]):
            try:
                version = schedule_rebuild(
                    channel=channel, now=start, hours=_hours(options["hours"]),
                    reason="build_schedule command",
                )  # fmt: skip
            except ScheduleError as err:
                raise CommandError(f"{channel.slug}: {err}") from err
            self._summary(channel, version.window_start, version.window_end, version.number)

    def _start(self, raw: object) -> dt.datetime:
        if not raw:
            return timezone.now()
        try:
            value = dt.datetime.fromisoformat(str(raw))
        except ValueError as err:
            raise CommandError(f"--start is not an ISO 8601 date-time: {raw}") from err
        return value if value.tzinfo else timezone.make_aware(value)

    def _channels(self, slug: object) -> list[Channel]:
        channels = Channel.objects.select_related("channel_format").filter(is_active=True)
        if slug:
            channels = channels.filter(slug=str(slug))
            if not channels:
                raise CommandError(f"No channel on air with slug {slug!r}")
        return list(channels)

    def _summary(self, channel: Channel, start: dt.datetime, end: dt.datetime, number: int) -> None:
        items = ScheduledItem.objects.filter(channel=channel, start__gte=start, start__lt=end)
        seconds: dict[str, float] = {}
        for role, item_start, item_end in items.values_list("role", "start", "end"):
            seconds[role] = seconds.get(role, 0.0) + (item_end - item_start).total_seconds()
        local = timezone.localtime
        self.stdout.write(
            f"{channel.slug}: version {number}, {local(start):%Y-%m-%d %H:%M:%S %Z} → "
            f"{local(end):%Y-%m-%d %H:%M:%S %Z}, {items.count()} items"
        )
        for role, total in sorted(seconds.items(), key=lambda pair: -pair[1]):
            self.stdout.write(f"  {role:<13} {total / 3600:7.2f} h")


def _hours(raw: object) -> float | None:
    return None if raw is None else float(raw)  # type: ignore[arg-type]
