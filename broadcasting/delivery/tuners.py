"""Tuner slots: how many ``stream.ts`` viewers a channel has at once, across every web worker.

Each stream holds a slot: a member of the channel's Redis sorted set whose score is the instant
(Unix seconds) the slot expires. A running stream renews its slot every ``BEAT_SECONDS`` and
removes it when it ends; the slots of a worker killed without cleaning up stop being renewed
and expire after ``SLOT_TTL_SECONDS``, so the count heals by itself. Taking a slot is one Lua
script (drop the expired, count, add), so two workers never both take the last one.

The functions are synchronous (redis-py's thread-safe pool, usable from any event loop): the
async stream calls them in a worker thread. When Redis does not answer, streams are let through
(logged): the cap protects the server, it must not take the channel off the air.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SLOT_TTL_SECONDS = 30  # a slot not renewed for this long is free again
BEAT_SECONDS = 10  # how often a running stream renews its slot
RETRY_AFTER_SECONDS = 30  # what a refused client is told

# KEYS[1]: the channel's set; ARGV: now, expiry of the new slot, limit, member, key TTL.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True)
class Slot:
    """One stream's place among its channel's tuners."""

    key: str
    member: str


@cache
def _redis(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _client() -> Redis:
    return _redis(settings.REDIS_URL)


def slots_key(slug: str) -> str:
    return f"carillon:tuner-slots:{slug}"


def slot_take(*, slug: str, limit: int, now: float | None = None) -> Slot | None:
    """A slot for one more stream of channel ``slug``; ``None`` when ``limit`` are held."""
    now = time.time() if now is None else now
    slot = Slot(key=slots_key(slug), member=uuid.uuid4().hex)
    try:
        taken = _client().eval(
            _TAKE, 1, slot.key, now, now + SLOT_TTL_SECONDS, limit, slot.member, SLOT_TTL_SECONDS
        )
    except RedisError as err:
        logger.warning("tuner slots unavailable, stream of %s let through: %s", slug, err)
        return slot
    return slot if taken else None


def slot_beat(slot: Slot, *, now: float | None = None) -> None:
    """Renew a running stream's slot (only if it is still held)."""
    now = time.time() if now is None else now
    try:
        client = _client()
        client.zadd(slot.key, {slot.member: now + SLOT_TTL_SECONDS}, xx=True)
        client.expire(slot.key, SLOT_TTL_SECONDS)
    except RedisError as err:
        logger.warning("tuner slot not renewed %s: %s", slot.key, err)


def slot_release(slot: Slot) -> None:
    """Give the slot back (a stream that ended). Harmless if repeated."""
    try:
        _client().zrem(slot.key, slot.member)
    except RedisError as err:
        logger.warning("tuner slot not released %s (it will expire): %s", slot.key, err)


def slots_held(*, slug: str, now: float | None = None) -> int:
    """How many of channel ``slug``'s slots are held (not expired) at ``now``."""
    now = time.time() if now is None else now
    return int(_client().zcount(slots_key(slug), f"({now}", "+inf"))


def slots_clear(*, slug: str) -> None:
    """Free every slot of channel ``slug`` (tests, and an operator after a mass restart)."""
    _client().delete(slots_key(slug))
