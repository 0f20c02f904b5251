"""One active playout at a time: a lease in Redis, renewed all the time, with a fencing token.

Two playouts at once wrote the same as-run rows and fought over every boundary. Each playout
process now holds or waits for one lease: the holder publishes, the others wait as hot
standbys (they hold their plans, see ``broadcasting.live.planner``) and poll the lease; when the
holder dies its lease expires and a standby takes it, within one segment.

The store is Redis, not PostgreSQL: the playout must outlive a database outage (it publishes
from the plan it holds), and a lease kept in the database would stop it then.

- Acquire: one Lua script, atomically: if the key is absent, ``INCR`` the token counter and
  ``SET key "<token>:<owner>" PX ttl``. The token only grows: it names each tenure in the logs,
  and renewals and releases compare it, so a former holder can never extend or delete a new
  holder's lease.
- Renew (several times a second, and before each publishing step): ``PEXPIRE`` if the key still
  holds our value. Release (on a clean stop): ``DEL`` if it does, so a standby takes over at once.

Why two holders never publish at once. The holder reads its monotonic clock *before* sending
each successful acquire or renew (``sent``). Redis sets the expiry when the command arrives,
after ``sent``, to arrival + ttl by its own clock: the key cannot expire for anybody before
``sent + ttl`` (real time). The holder counts its lease valid only until::

    sent + ttl * (1 - DRIFT) - FSYNC_MS

``DRIFT`` (1 %) covers its clock running faster than Redis's; ``FSYNC_MS`` (1 s) covers a Redis
that crashes and restarts with ``appendfsync everysec`` and so loses its last second of writes
(the renewal) while the holder still counts on it. It checks that time before every publishing
step and stops publishing when a step could outlast it (``remaining() < step``). A standby
acquires only with ``SET NX``, that is, only once the key is gone; so by the time a standby can
publish, the former holder has stopped. While Redis cannot be reached nobody renews or
acquires: the holder publishes (from its plan) until its counted lease runs out, then stops;
the standbys keep waiting; so there are never two, and the air freezes only if Redis stays away
longer than the lease (about 2.5 s; players keep playing what they buffered, about three segments).
The margins assume what they say: clocks that drift less than 1 %, and a Redis that keeps
acknowledged writes (or loses at most its last second); a failover to a replica that lags more
than that could let two publish for that long. Their output would be the same bytes anyway
(segments are a pure function of the plan) and the as-run log has one entry per start.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)
KEY = "carillon:playout:lease"
TTL_MS = 3500  # a dead holder is replaced within TTL + a poll or two: under one 4.8-s segment
DRIFT = 0.01
FSYNC_MS = 1000
RENEW_EVERY = 0.5  # seconds
POLL_EVERY = 0.25  # seconds, a standby's attempts

_ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def lease_client() -> Redis:
    """A Redis client for the lease: short timeouts and no retry (redis-py retries three times
    with backoff by default: 4.6 s on a refused connection), so an unreachable Redis costs at
    most a fraction of a second per attempt; the keeper tries again soon anyway."""
    return Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=0.3,
        socket_connect_timeout=0.3,
        retry=Retry(NoBackoff(), 0),
    )


class Lease:
    """The lease as one process sees it: ``acquire``, ``renew``, ``release``, ``remaining``."""

    def __init__(
        self,
        *,
        client: Redis,
        key: str = KEY,
        ttl_ms: int = TTL_MS,
        owner: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = ttl_ms
        self.owner = owner
        self.clock = clock
        self.token: int | None = None
        self._valid_until = 0.0

    @property
    def _value(self) -> str:
        return f"{self.token}:{self.owner}"

    def _eval(self, script: str, keys: list[str], *args: str | int) -> int:
        return int(self.client.eval(script, len(keys), *keys, *[str(a) for a in args]))

    def _counted_until(self, sent: float) -> float:
        return sent + (self.ttl_ms * (1 - DRIFT) - FSYNC_MS) / 1000

    def acquire(self) -> bool:
        """Take the lease if nobody holds it: whether this process holds it now."""
        if self.token is not None:
            return self.renew()
        sent = self.clock()
        try:
            token = self._eval(_ACQUIRE, [self.key, f"{self.key}:token"], self.owner, self.ttl_ms)
        except RedisError as err:
            logger.debug("lease store unreachable key=%s: %s", self.key, err)
            return False
        if not token:
            return False
        self.token = token
        self._valid_until = self._counted_until(sent)
        logger.info("lease acquired key=%s token=%s owner=%s", self.key, token, self.owner)
        return True

    def renew(self) -> bool:
        """Extend the lease held: whether it was. An unreachable store is no renewal (the lease
        then runs out on its own); a lease found taken or gone is given up at once."""
        if self.token is None:
            return False
        sent = self.clock()
        try:
            renewed = self._eval(_RENEW, [self.key], self._value, self.ttl_ms)
        except RedisError as err:
            logger.warning(
                "lease not renewed key=%s token=%s: %s (%.1f s left)",
                self.key,
                self.token,
                err,
                self.remaining(),
            )
            return False
        if not renewed:
            logger.warning("lease lost key=%s token=%s", self.key, self.token)
            self._drop()
            return False
        self._valid_until = self._counted_until(sent)
        return True

    def release(self) -> None:
        """Give the lease back (a clean stop): a standby takes it at once."""
        if self.token is None:
            return
        try:
            self._eval(_RELEASE, [self.key], self._value)
        except RedisError as err:
            logger.warning("lease not released key=%s: %s (it expires)", self.key, err)
        logger.info("lease released key=%s token=%s", self.key, self.token)
        self._drop()

    def remaining(self) -> float:
        """Seconds this process may still act as the holder (0: it holds nothing, or its lease
        has run out on its own clock; a renewal that reaches Redis before the key expires
        gives it back, one that finds the key gone or taken gives it up)."""
        if self.token is None:
            return 0.0
        return max(0.0, self._valid_until - self.clock())

    def _drop(self) -> None:
        self.token = None
        self._valid_until = 0.0


class LeaseKeeper:
    """Holds the lease in a thread of its own, so the publishing loop never waits for Redis:
    renews it every ``RENEW_EVERY`` while held, tries to take it every ``POLL_EVERY`` while not
    (and only once ``ready()``: a process with nothing to publish yet, e.g. started while the
    database is away, leaves the lease to one that has). ``remaining()`` is what the loop asks
    before each publishing step."""

    def __init__(self, lease: Lease, *, ready: Callable[[], bool] = lambda: True) -> None:
        self.lease = lease
        self.ready = ready
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="playout-lease", daemon=True)

    def start(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def remaining(self) -> float:
        return self.lease.remaining()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.lease.token is None:
                if self.ready():
                    self.lease.acquire()
            else:
                self.lease.renew()
            self._stop.wait(RENEW_EVERY if self.lease.token is not None else POLL_EVERY)

    def stop(self) -> None:
        """Stop renewing and give the lease back (a standby takes over at once)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.lease.release()
