"""``python manage.py build_alert_clips [--format ID]``: make the generic alert clips ("Alerte —
Météo"...) of every channel format in use, so that an alert airs within one segment."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from broadcasting.models import ChannelFormat
from city_feeds.alert_clips import alert_clips_ensure
from playlists.models import Channel


class Command(BaseCommand):
    help = "Make the generic alert clip of every CAP category in the channels' formats."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", type=int, help="Only this channel format (its id).")

    def handle(self, *args: Any, **options: Any) -> None:
        formats = ChannelFormat.objects.filter(
            pk__in=Channel.objects.values("channel_format")
        ).order_by("pk")
        if options["format"] is not None:
            formats = ChannelFormat.objects.filter(pk=options["format"])
        for channel_format in formats:
            clips = alert_clips_ensure(channel_format=channel_format)
            states = ", ".join(f"{clip.title}: {clip.state}" for clip in clips)
            self.stdout.write(f"format {channel_format.pk}: {states}")
