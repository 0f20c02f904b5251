"""Settings for the test suite: real PostgreSQL and Redis over real connections."""

from pathlib import Path

from config.storage import local_storages

from .base import *  # noqa: F403
from .base import DATABASES, PUBLIC_MEDIA_URL, VAR_DIR, env

DEBUG = False
SECRET_KEY = "carillon-tests-only"
DATABASES["default"] = env.db(
    "CARILLON_TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/carillon"
)
DATABASES["default"]["TEST"] = {"NAME": env("CARILLON_TEST_DATABASE_NAME", default="test_carillon")}
REDIS_URL = env("CARILLON_TEST_REDIS_URL", default="redis://127.0.0.1:6379/14")
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
