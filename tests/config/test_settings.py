"""Production settings are safe and strict; the embedded SQLite default lets processes
write at the same time."""

import subprocess
import sys
from pathlib import Path

from tests.support import MANAGE, ROOT, run, subprocess_env

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-enough-and-random-0123456789",
    "DJANGO_ALLOWED_HOSTS": "tv.chartres.fr",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/carillon",
    "CARILLON_BASE_URL": "https://tv.chartres.fr",
}


def test_production_settings_pass_check_deploy() -> None:
    result = run(
        [*MANAGE, "check", "--deploy", "--fail-level", "WARNING"], subprocess_env(**PRODUCTION)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_secret_key() -> None:
    env = subprocess_env(**{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    result = run([*MANAGE, "check", "--deploy"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts_or_database() -> None:
    for name in ("DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
        env = subprocess_env(**PRODUCTION)
        env.pop(name)
        result = run([*MANAGE, "check"], env)
        assert result.returncode != 0
        assert name in result.stderr


# The database settings alone (no application set up: that takes seconds per process).
WRITER = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
from django.db import connection, transaction
for i in range(int(sys.argv[1])):
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Read, then write in the same transaction: the pattern that fails with
            # "database is locked" under SQLite's default DEFERRED transactions.
            cursor.execute("SELECT COALESCE(MAX(n), 0) FROM counter")
            (last,) = cursor.fetchone()
            cursor.execute("INSERT INTO counter (n) VALUES (%s)", [last + 1])
"""


def test_embedded_sqlite_lets_several_processes_write_at_once(tmp_path: Path) -> None:
    database = tmp_path / "carillon.sqlite3"
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SECRET_KEY_FILE=str(tmp_path / "secret-key"),
    )
    setup = (
        "from django.db import connection;"
        "c = connection.cursor(); c.execute('CREATE TABLE counter (n INTEGER UNIQUE)');"
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    created = run([sys.executable, "-c", setup], env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "wal"

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "150"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [writer.communicate(timeout=240)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0, 0], errors

    count = run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.db import connection;"
            "c = connection.cursor(); c.execute('SELECT COUNT(*), MAX(n) FROM counter');"
            "print(*c.fetchone())",
        ],
        env,
    )
    assert count.stdout.split() == ["600", "600"]


def test_local_settings_use_french_and_paris_time() -> None:
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "fr"
    assert [code for code, _ in settings.LANGUAGES] == ["fr", "en"]
    assert settings.TIME_ZONE == "Europe/Paris"
    assert settings.USE_TZ is True
