"""Tests run in parallel (pytest-xdist) without sharing state: each worker has its own
PostgreSQL database, its own Redis database (cache, Celery broker and so its queues), and the
child processes it starts use the same ones; shared cached media are built once."""

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.celery_app import app
from config.settings.test import worker_redis_url
from tests.artefact_cache import cached_artefact
from tests.support import MANAGE, ROOT, run, subprocess_env

URL = "redis://127.0.0.1:6379/14"


def test_each_worker_gets_a_redis_database_below_the_configured_one() -> None:
    assert worker_redis_url(URL, worker="") == URL  # no xdist
    assert worker_redis_url(URL, worker="gw0") == URL
    assert worker_redis_url(URL, worker="gw1") == "redis://127.0.0.1:6379/13"
    assert worker_redis_url("redis://:secret@redis:6380/3", worker="gw3") == (
        "redis://:secret@redis:6380/0"
    )
    with pytest.raises(ImproperlyConfigured, match="gw15"):
        worker_redis_url(URL, worker="gw15")


@pytest.mark.django_db
def test_this_worker_uses_its_own_databases() -> None:
    worker = settings.CARILLON_TEST_WORKER
    assert worker == os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker:
        assert connection.settings_dict["NAME"].endswith(f"_{worker}")
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    assert app.conf.broker_url == settings.CELERY_BROKER_URL == settings.REDIS_URL


def test_two_xdist_workers_share_no_database_broker_or_queue(tmp_path: Path) -> None:
    """A nested ``pytest -n 2`` where both workers report (``tests/isolation_probe.py``)."""
    env = subprocess_env(CARILLON_ISOLATION_REPORTS=str(tmp_path))
    for name in [name for name in env if name.startswith("PYTEST_")]:  # this run's worker
        del env[name]
    result = run(
        [MANAGE[0], "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider",
         "-p", "no:hypothesispytest", "-p", "no:faker", "-n", "2", "--dist", "each",
         str(ROOT / "tests" / "isolation_probe.py")],
        env=env, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    first, second = (json.loads((tmp_path / f"gw{n}.json").read_text()) for n in (0, 1))
    for report in (first, second):
        assert report["database"].endswith(f"_{report['worker']}")
        assert report["redis"] == report["cache"] == report["broker"]
        assert report["child"] == {"redis": report["redis"], "broker": report["broker"]}
    assert first["database"] != second["database"]
    assert first["redis"] != second["redis"]
    # The same queue name on two brokers (two Redis databases): two queues, no shared task.
    assert (first["broker"], first["queue"]) != (second["broker"], second["queue"])


def _build_counted(root: Path, log: Path) -> None:
    def build(folder: Path) -> None:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(0.3)  # long enough for the other process to wait on the lock
        (folder / "made").write_text("once")

    made = cached_artefact("probe", build, root=root)
    assert (made / "made").read_text() == "once"


def test_a_cached_artefact_is_built_once_by_concurrent_workers(tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_build_counted, args=(tmp_path / "cache", log)) for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    assert len(log.read_text().splitlines()) == 1
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")] == [
        "probe"
    ]
