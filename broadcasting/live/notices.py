"""Notices to the playout: a channel's overrides changed, so its plan is read again at once.

An override started or ended (an emergency alert, an editor's take-over) must air at the first
boundary the playout has not listed yet, not at the planner's next reading of the plan
(``PLAN_LEAD`` before each round, issue 12). Whoever changes an override announces it once the
change is committed (``overrides_changed_announce``); the playout's planner listens
(``NoticeListener``, a thread of its own) and reads that channel's plan at once.

Notices travel by Redis publish/subscribe and are not kept: one sent while no playout listens,
or while Redis is away, is lost, and the change airs from the planner's next reading as it did
without notices (a boundary later). After the listener (re)subscribes it asks for every plan,
since notices may have been missed meanwhile. Redis's channels are shared by all its databases:
the channel's name carries ``REDIS_URL``'s database, so that two deployments (or two test
workers) on one server do not hear each other.
"""

import logging
import threading
from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

import redis
from django.conf import settings

logger = logging.getLogger(__name__)
TIMEOUT = 1.0  # seconds: an absent Redis must not hold a request (or the listener) long
RETRY_FIRST, RETRY_MAX = 0.5, 5.0  # seconds between two subscriptions, doubling

# What the listener calls: a channel's id, or ``None`` for every channel (notices missed).
OnNotice = Callable[[int | None], None]


def notice_channel(url: str | None = None) -> str:
    """The Redis channel the notices of this deployment travel on."""
    database = urlsplit(url or settings.REDIS_URL).path.strip("/") or "0"
    return f"carillon:{database}:live:overrides-changed"


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


def overrides_changed_announce(channel_id: int) -> None:
    """Tell the playout that the channel's overrides changed (never raises: without the notice
    the change airs a little later)."""
    url = settings.REDIS_URL
    try:
        _client(url).publish(notice_channel(url), str(channel_id))
    except redis.RedisError as err:
        logger.warning("override notice not sent channel=%s: %s", channel_id, err)


def parse_notice(data: object) -> int | None:
    """The channel id a notice names (``None``: not a channel id; it is ignored)."""
    text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
    return int(text) if text.isdigit() else None


class NoticeListener:
    """Subscribes to the notices and calls ``on_notice`` for each, in a thread of its own;
    survives Redis going away (it subscribes again, doubling its delay)."""

    def __init__(self, on_notice: OnNotice, *, url: str | None = None) -> None:
        self.on_notice = on_notice
        self.url = url or settings.REDIS_URL
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="playout-notices", daemon=True)

    def start(self) -> "NoticeListener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * TIMEOUT + 1)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except (redis.RedisError, OSError) as err:
                failures += 1
                delay = min(RETRY_MAX, RETRY_FIRST * 2 ** (failures - 1))
                if failures == 1:
                    logger.warning("override notices unavailable (%s): plans read on time", err)
                self._stop.wait(delay)
            finally:
                self.subscribed.clear()

    def _listen(self) -> None:
        client = redis.Redis.from_url(
            self.url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT + 1
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(notice_channel(self.url))
            pubsub.get_message(timeout=TIMEOUT)  # the subscription's own confirmation
            self.subscribed.set()
            self.on_notice(None)  # notices may have been missed before this subscription
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=TIMEOUT)
                if message is None or message.get("type") != "message":
                    continue
                channel_id = parse_notice(message.get("data"))
                if channel_id is not None:
                    self.on_notice(channel_id)
        finally:
            pubsub.close()
            client.close()
