"""``manage.py mqtt_listen``: the MQTT listener process (see ``city_feeds.mqtt``)."""

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from city_feeds.mqtt import Listener, broker_address


class Command(BaseCommand):
    help = (
        "Subscribe to the MQTT sources' topics and ingest their payloads (never exits on errors)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="Broker URL (default: CARILLON_MQTT_URL).")
        parser.add_argument(
            "--reload-seconds", type=float, default=60.0, help="How often the sources are reloaded."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        broker = broker_address(options["url"] or settings.CARILLON_MQTT_URL)
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        Listener(broker=broker, reload_seconds=options["reload_seconds"]).run(stop)
