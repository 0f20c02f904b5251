"""The cache backend: Django's Redis cache, failing soft.

Django's ``RedisCache`` raises when Redis is away, and every page that touches the cache
(Wagtail keeps its site root paths there) answered 500. Here a Redis error makes the operation
behave as on a miss: reads find nothing, writes are dropped. The first error of an outage is
logged, once; then Redis is left alone for ``RETRY_SECONDS`` at a time, so that requests do not
each wait for it.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
Result = TypeVar("Result")


class Outage:
    """Whether the Redis of one location is known to be away. Shared by the process's cache
    objects for that location (Django makes one per thread, and one per request under ASGI)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down = False
        self.retry_at = 0.0

    def skips(self) -> bool:
        """Whether to answer without asking Redis: it is away and not yet due for a retry."""
        return self.down and time.monotonic() < self.retry_at

    def failed(self, err: RedisError) -> None:
        with self._lock:
            news, self.down = not self.down, True
            self.retry_at = time.monotonic() + RETRY_SECONDS
        if news:
            logger.warning("cache: Redis unavailable, pages are served without cache: %s", err)

    def answered(self) -> None:
        if not self.down:
            return
        with self._lock:
            news, self.down = self.down, False
        if news:
            logger.warning("cache: Redis answers again")


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def outage_of(location: str) -> Outage:
    with _outages_lock:
        return _outages.setdefault(location, Outage())


class FailSoftRedisCache(RedisCache):
    """``RedisCache`` where a Redis error is a cache miss (see the module's docstring)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._outage = outage_of(str(server))

    def _soft(self, fallback: Result, operation: Callable[[], Result]) -> Result:
        if self._outage.skips():
            return fallback
        try:
            result = operation()
        except RedisError as err:
            self._outage.failed(err)
            return fallback
        self._outage.answered()
        return result

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft(default, partial(super().get, key, default, version))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._soft({}, partial(super().get_many, keys, version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft(False, partial(super().has_key, key, version))

    def add(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        return self._soft(False, partial(super().add, key, value, timeout, version))

    def set(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        self._soft(None, partial(super().set, key, value, timeout, version))

    def set_many(
        self,
        data: dict[Any, Any],
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> list[Any]:
        return self._soft(list(data), partial(super().set_many, data, timeout, version))

    def touch(
        self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._soft(False, partial(super().touch, key, timeout, version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft(False, partial(super().delete, key, version))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._soft(None, partial(super().delete_many, keys, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        value: int | None = self._soft(None, partial(super().incr, key, delta, version))
        if value is None:  # a miss, as Django reports one
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")
        return value

    def clear(self) -> None:
        self._soft(None, super().clear)
