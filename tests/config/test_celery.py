"""Celery: configuration that protects long transcodes, and a real worker over real Redis."""

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings

from config.celery_app import app, ping
from tests.support import ROOT, subprocess_env


def test_transcode_tasks_go_to_their_own_queue() -> None:
    router = app.amqp.router
    route = router.route({}, "broadcasting.tasks.transcode_asset")
    assert route["queue"].name == "transcode"
    assert router.route({}, "city_feeds.tasks.fetch_source")["queue"].name == "default"
    assert {queue.name for queue in app.conf.task_queues} == {"default", "transcode"}


def test_broker_keeps_a_running_transcode_invisible_longer_than_it_can_last() -> None:
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > settings.CELERY_TRANSCODE_TIME_LIMIT
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit


@pytest.fixture
def worker() -> Iterator[str]:
    """A real Celery worker process consuming both queues of the test Redis database."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = subprocess_env(DJANGO_SETTINGS_MODULE="config.settings.test")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config.celery_app", "worker",
            "-Q", "default,transcode", "--pool", "solo", "-n", name, "--loglevel", "WARNING",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        yield name
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_worker_answers_a_task_through_redis(worker: str) -> None:
    assert app.conf.broker_url.startswith("redis://")
    result = ping.apply_async(queue="default")
    assert result.get(timeout=60) == "pong"
    replies = app.control.ping(destination=[worker], timeout=5)
    assert replies and worker in replies[0]
