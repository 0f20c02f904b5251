"""Settings for the test suite: real PostgreSQL and Redis over real connections.

Under pytest-xdist every worker (``PYTEST_XDIST_WORKER``: ``gw0``, ``gw1``, ...) gets its own
PostgreSQL database (pytest-django adds ``_gw0``... to the test database's name) and its own
Redis database, below the configured one (``gw0``: 14, ``gw1``: 13, ...): its cache, its Celery
broker and so its queues, which a test may flush without touching another worker's. The child
processes a worker starts (a real Celery worker, ``manage.py`` commands) inherit the variable
and agree with it.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from config.storage import local_storages

from .base import *  # noqa: F403
from .base import DATABASES, PUBLIC_MEDIA_URL, VAR_DIR, env


def worker_redis_url(url: str, *, worker: str) -> str:
    """The Redis URL of an xdist ``worker``: ``url`` for ``gw0`` (and without xdist), the
    database N below ``url``'s for ``gwN``."""
    number = re.fullmatch(r"gw(\d+)", worker)
    if number is None:
        return url
    parts = urlsplit(url)
    configured = int(parts.path.strip("/") or 0)
    database = configured - int(number.group(1))
    if database < 0:
        raise ImproperlyConfigured(
            f"No Redis database left for xdist worker {worker} below {url}: "
            "set CARILLON_TEST_REDIS_URL to a higher database or run fewer workers."
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


DEBUG = False
SECRET_KEY = "carillon-tests-only"
DATABASES["default"] = env.db(
    "CARILLON_TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/carillon"
)
DATABASES["default"]["TEST"] = {"NAME": env("CARILLON_TEST_DATABASE_NAME", default="test_carillon")}
# Set by pytest-xdist in its workers (not a configuration variable).
CARILLON_TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REDIS_URL = worker_redis_url(
    env("CARILLON_TEST_REDIS_URL", default="redis://127.0.0.1:6379/14"),
    worker=CARILLON_TEST_WORKER,
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "carillon-test",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(env("CARILLON_MEDIA_ROOT", default=str(VAR_DIR / "test-media")))
STORAGES = local_storages(media_root=MEDIA_ROOT, public_url=PUBLIC_MEDIA_URL)
CARILLON_WORK_DIR = Path(env("CARILLON_WORK_DIR", default=str(VAR_DIR / "test-work")))
CARILLON_FEED_ALLOW_LOOPBACK = True  # the feed tests serve their payloads on 127.0.0.1
