"""Not collected by the suite: ``tests/test_isolation.py`` runs it in a nested
``pytest -n 2 --dist each``, so that each of two xdist workers reports what it uses, and what a
child process it starts (as the real Celery worker of the tests is started) uses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.celery_app import app
from tests.support import ROOT, subprocess_env

CHILD = """
import json
from django.conf import settings
from config.celery_app import app
print(json.dumps({"redis": settings.REDIS_URL, "broker": app.conf.broker_url}))
"""


def transcode_queue() -> str:
    return str(app.amqp.router.route({}, "broadcasting.tasks.transcode_asset")["queue"].name)


@pytest.mark.usefixtures("django_db_modify_db_settings")  # pytest-django's per-worker suffix
def test_report_what_this_worker_uses() -> None:
    worker = os.environ["PYTEST_XDIST_WORKER"]
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT, env=subprocess_env(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    report = {
        "worker": worker,
        "database": settings.DATABASES["default"]["TEST"]["NAME"],
        "redis": settings.REDIS_URL,
        "cache": settings.CACHES["default"]["LOCATION"],
        "broker": app.conf.broker_url,
        "queue": transcode_queue(),
        "child": json.loads(child.stdout),
    }
    folder = Path(os.environ["CARILLON_ISOLATION_REPORTS"])
    (folder / f"{worker}.json").write_text(json.dumps(report))
