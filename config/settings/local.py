"""Settings for ``make run`` on a developer's or a small city's single machine.

Safe by default, as a city may run it as is: debug off unless ``DJANGO_DEBUG`` asks for it, and
a secret key of this installation's own, made once and kept in ``var/secret-key`` (mode 0600)
unless ``DJANGO_SECRET_KEY`` gives one.
"""

from pathlib import Path

from config.secret_files import new_secret_key, read_or_create

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or read_or_create(
    Path(env("DJANGO_SECRET_KEY_FILE", default=str(VAR_DIR / "secret-key"))),
    make=new_secret_key,
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
