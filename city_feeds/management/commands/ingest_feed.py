"""``manage.py ingest_feed SOURCE_SLUG FILE``: feed a payload to a source as if it had been
received (operators replaying data; tests). Prints the items created and updated; exits with
status 1 and the reason when the payload cannot be read."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from city_feeds.items import FeedError
from city_feeds.models import FeedSource
from city_feeds.services import payload_ingest


class Command(BaseCommand):
    help = "Feed a payload file to a data source, as if the source had sent it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="The source's slug.")
        parser.add_argument("file", type=Path, help="The payload ('-' is not accepted).")

    def handle(self, *args: Any, **options: Any) -> None:
        source = FeedSource.objects.filter(slug=options["source"]).first()
        if source is None:
            raise CommandError(f"No data source {options['source']!r}.")
        path: Path = options["file"]
        limit = settings.CARILLON_FEED_MAX_BYTES
        try:
            with path.open("rb") as payload:
                data = payload.read(limit + 1)
        except OSError as err:
            raise CommandError(f"Cannot read {path}: {err.strerror}") from err
        try:
            result = payload_ingest(source=source, data=data)
        except FeedError as err:
            raise CommandError(f"Payload refused: {err}") from err
        self.stdout.write(
            f"{source.slug}: {result.created} created, {result.updated} updated"
            + (f", {result.alerts} alerts" if result.alerts else "")
        )
