"""`make run`'s settings are safe by default: debug off, a secret key of this installation's
own (made once, kept private), and the local host names still served."""

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

from config import secret_files
from tests.support import ROOT, run, subprocess_env

# Prints what a process of `make run` would use (reading the settings loads them alone: the
# applications need not be set up for that, which takes seconds).
REPORT = """
import json
from django.conf import settings
print(json.dumps({"debug": settings.DEBUG, "secret_key": settings.SECRET_KEY}))
"""

# The Django test client under the local settings, without the test runner's "testserver".
GET_AS_HOST = """
import sys, django
django.setup()
from django.test import Client
for host in sys.argv[1:]:
    print(host, Client(HTTP_HOST=host).get("/healthz").status_code)
"""


def local_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_SECRET_KEY_FILE=str(tmp_path / "secret-key"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'carillon.sqlite3'}",
        **extra,
    )


def report(env: dict[str, str]) -> dict[str, object]:
    result = run([sys.executable, "-c", REPORT], env)
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_make_run_keeps_debug_off_unless_asked_for(tmp_path: Path) -> None:
    assert report(local_env(tmp_path))["debug"] is False
    assert report(local_env(tmp_path, DJANGO_DEBUG="true"))["debug"] is True


def test_the_local_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    """Five processes starting at once (web, workers, beat, playout) agree on one new key."""
    env = local_env(tmp_path)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", REPORT], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(5)
    ]
    keys = {json.loads(process.communicate(timeout=120)[0])["secret_key"] for process in processes}
    assert len(keys) == 1
    key = keys.pop()
    assert len(key) >= 50 and "development" not in key
    kept = tmp_path / "secret-key"
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert report(env)["secret_key"] == key  # kept across restarts
    assert report(local_env(tmp_path / "elsewhere"))["secret_key"] != key  # per installation


def test_an_explicit_secret_key_wins_and_no_file_is_made(tmp_path: Path) -> None:
    env = local_env(tmp_path, DJANGO_SECRET_KEY="an-explicit-key-" + "x" * 50)
    assert report(env)["secret_key"] == "an-explicit-key-" + "x" * 50
    assert not (tmp_path / "secret-key").exists()


def test_local_hosts_are_served_with_debug_off(tmp_path: Path) -> None:
    hosts = ["127.0.0.1:8000", "localhost:8000", "127.0.0.1", "evil.example.org"]
    result = run([sys.executable, "-c", GET_AS_HOST, *hosts], local_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == [
        "127.0.0.1:8000 200",
        "localhost:8000 200",
        "127.0.0.1 200",
        "evil.example.org 400",
    ]


def test_make_run_serves_static_files_from_where_collectstatic_puts_them(tmp_path: Path) -> None:
    """With debug off Django serves no static file: nginx does, from the collected folder."""
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert "manage.py collectstatic --noinput" in script
    nginx = run(["scripts/nginx-conf.sh"], subprocess_env())
    assert nginx.returncode == 0, nginx.stderr
    assert f"location /static/ {{ alias {ROOT}/var/static/;" in nginx.stdout
    static_root = run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         "print(settings.STATIC_ROOT)"],
        local_env(tmp_path),
    )  # fmt: skip
    assert static_root.stdout.strip() == f"{ROOT}/var/static"


def test_make_run_makes_the_tuner_id_once_and_keeps_it_private(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What ``python -m config.secret_files`` does in ``scripts/run.sh``, before any process."""
    settings.CARILLON_HDHOMERUN_DEVICE_ID = ""
    settings.CARILLON_HDHOMERUN_DEVICE_FILE = tmp_path / "hdhomerun-device-id"
    secret_files.main()
    kept = tmp_path / "hdhomerun-device-id"
    device_id = kept.read_text().strip()
    assert re.fullmatch(r"[0-9A-F]{8}", device_id)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    secret_files.main()
    assert secret_files.hdhomerun_device_id() == device_id
