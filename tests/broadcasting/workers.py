"""A real Celery worker process for tests about tasks, sharing the test database and media."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection
from redis import Redis

from tests.support import ROOT, subprocess_env


def worker_env(**extra: str) -> dict[str, str]:
    """Settings for a child process: the test database, this test's media and work dirs."""
    db = connection.settings_dict
    return subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        CARILLON_TEST_DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CARILLON_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CARILLON_WORK_DIR=str(settings.CARILLON_WORK_DIR),
        CARILLON_UPLOAD_DIR=str(settings.CARILLON_UPLOAD_DIR),
        CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT=str(settings.CARILLON_TRANSCODE_HEARTBEAT_TIMEOUT),
        **extra,
    )


def purge_test_broker() -> None:
    """Start from an empty queue: messages of earlier tests point at rows that are gone."""
    Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


class Worker:
    """``celery worker`` in its own process group, so a test can SIGKILL all of it."""

    def __init__(self, log: Path, *, cached_encodes: bool = False) -> None:
        """``cached_encodes``: for tests whose subject is not the encode, an encode already
        made by this code for the same bytes and format is copied (``cached_worker``)."""
        self.name = f"transcode-{uuid.uuid4().hex[:6]}@test"
        self.log = log
        self.app = "tests.broadcasting.cached_worker" if cached_encodes else "config.celery_app"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Worker":
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", self.app, "worker",
                "-Q", "transcode,default", "--concurrency", "1", "--prefetch-multiplier", "1",
                "-n", self.name, "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            ],
            cwd=ROOT, env=worker_env(), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no cleanup code of ours runs."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(predicate: object, *, timeout: float, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout:.0f} s")
