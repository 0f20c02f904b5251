"""``create_demo_admin`` keeps its credentials private from the first byte, and under production
settings never changes an account that already exists."""

import stat
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support import MANAGE, run, subprocess_env

pytestmark = pytest.mark.django_db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_credentials_file_is_private_from_the_start(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """No later chmod may be needed: between a write and its chmod, others could read it."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(Path, "chmod", lambda *args, **kwargs: None)
    call_command("create_demo_admin", stdout=StringIO())
    credentials = tmp_path / "demo-admin.txt"
    assert credentials.read_text().strip()
    assert mode(credentials) == 0o600


def test_an_existing_readable_credentials_file_is_made_private(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    call_command("create_demo_admin", stdout=StringIO())
    credentials = tmp_path / "demo-admin.txt"
    credentials.chmod(0o644)  # as an earlier version left it
    call_command("create_demo_admin", stdout=StringIO())
    assert mode(credentials) == 0o600


def test_production_settings_refuse_to_change_an_existing_user(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    settings.CARILLON_PRODUCTION = True
    user = get_user_model().objects.create_user("admin", "ops@chartres.fr", "their-own-password")
    with pytest.raises(CommandError, match="admin"):
        call_command("create_demo_admin", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("their-own-password")
    assert not user.is_superuser and not user.is_staff
    assert not (tmp_path / "demo-admin.txt").exists()


def test_production_settings_still_create_a_missing_demo_admin(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    settings.CARILLON_PRODUCTION = True
    out = StringIO()
    call_command("create_demo_admin", stdout=out)
    password = out.getvalue().split("password '")[1].split("'")[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("create_demo_admin", stdout=StringIO())  # its own account, unchanged: fine


def test_only_production_settings_say_they_are_production() -> None:
    from django.conf import settings

    assert settings.CARILLON_PRODUCTION is False
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="a-production-secret-key-that-is-long-enough-and-random-0123456789",
        DJANGO_ALLOWED_HOSTS="tv.chartres.fr",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/carillon",
    )
    result = run(
        [*MANAGE, "shell", "--no-imports", "-c",
         "from django.conf import settings; print(settings.CARILLON_PRODUCTION)"],
        env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
