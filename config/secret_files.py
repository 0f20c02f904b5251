"""Values of one installation kept in files readable by their owner only (mode 0600): the
secret key of ``make run``, the HDHomeRun device id, the demo administrator's password.

``python -m config.secret_files`` makes this installation's files now: ``scripts/run.sh`` runs
it before the processes that read them start together.
"""

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only from the first byte (the
    text is written to a private temporary file that then takes the name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _private_temporary(path, text)
    os.replace(temporary, path)


def read_or_create(path: Path, *, make: Callable[[], str]) -> str:
    """The value kept in ``path``; made with ``make`` and kept there first if there is none.

    Safe when several processes start together: each writes its own private temporary file and
    links it to ``path``, which fails for all but the first; all then read the first's value.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _private_temporary(path, make())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    value = path.read_text().strip()
    if not value:
        raise ImproperlyConfigured(f"{path} is empty: remove it to have a new value made.")
    return value


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_device_id() -> str:
    """A random HDHomeRun device id: 8 upper-case hex digits."""
    return secrets.token_hex(4).upper()


def hdhomerun_device_id() -> str:
    """The configured HDHomeRun device id, else this installation's random one, made once."""
    configured: str = settings.CARILLON_HDHOMERUN_DEVICE_ID
    return configured or read_or_create(
        Path(settings.CARILLON_HDHOMERUN_DEVICE_FILE), make=new_device_id
    )


def _private_temporary(path: Path, text: str) -> Path:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
    return Path(name)


def main() -> None:
    """Make the files of this installation that are still missing (the local settings have
    read the secret key, or made it, when they were loaded)."""
    if not settings.SECRET_KEY:
        raise ImproperlyConfigured("No secret key: set DJANGO_SECRET_KEY.")
    hdhomerun_device_id()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    main()
