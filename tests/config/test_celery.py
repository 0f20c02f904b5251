"""Celery: configuration that protects long transcodes, and a real worker over real Redis."""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Exchange, Queue
from redis import Redis

from config.celery_app import app, ping
from tests.broadcasting.workers import wait_for
from tests.support import ROOT, subprocess_env


def test_transcode_tasks_go_to_their_own_queue() -> None:
    router = app.amqp.router
    route = router.route({}, "broadcasting.tasks.transcode_asset")
    assert route["queue"].name == "transcode"
    assert router.route({}, "city_feeds.tasks.fetch_source")["queue"].name == "default"
    assert router.route({}, "city_feeds.tasks_cards.refresh_card")["queue"].name == "cards"
    assert {queue.name for queue in app.conf.task_queues} == {"default", "transcode", "cards"}


def test_each_queue_has_its_own_exchange_and_routing_key() -> None:
    """``Queue("transcode")`` alone is bound to the default exchange with the key ``default``,
    as the default queue is: every message would then reach both queues."""
    queues = dict(app.amqp.queues)
    assert set(queues) == {"default", "transcode", "cards"}
    bindings = {(queue.exchange.name, queue.routing_key) for queue in queues.values()}
    assert len(bindings) == 3
    assert len({exchange for exchange, _ in bindings}) == 3
    assert all(queue.exchange.type == "direct" for queue in queues.values())
    for name, task in [("transcode", "broadcasting.tasks.transcode_asset"),
                       ("default", "city_feeds.tasks.fetch_source"),
                       ("cards", "city_feeds.tasks_cards.refresh_card")]:  # fmt: skip
        routed = app.amqp.router.route({}, task)["queue"]
        assert (routed.exchange.name, routed.routing_key) == (
            queues[name].exchange.name,
            queues[name].routing_key,
        )


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


def declare_queues_as_earlier_versions_did() -> None:
    """The first two queues bound to the exchange ``default`` with the key ``default``: the
    broker (Redis, RabbitMQ) keeps such bindings after an upgrade."""
    with app.connection_for_write() as connection:
        for name in ("default", "transcode"):
            Queue(name, Exchange("default"), routing_key="default")(
                connection.default_channel
            ).declare()


@pytest.fixture
def queue_workers(tmp_path: Path) -> Iterator[dict[str, tuple[str, Path]]]:
    """One real worker per queue, as ``make run`` and Docker Compose start them, each logging
    to its own file: {queue: (worker name, log)}."""
    Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    declare_queues_as_earlier_versions_did()
    workers, processes = {}, []
    env = subprocess_env(DJANGO_SETTINGS_MODULE="config.settings.test")
    for queue in ("default", "transcode", "cards"):
        name, log = f"{queue}-{uuid.uuid4().hex[:8]}@test", tmp_path / f"{queue}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "-Q", queue,
            "--pool", "solo", "-n", name, "--loglevel", "INFO", "--without-gossip",
            "--without-mingle",
        ]  # fmt: skip
        with log.open("wb") as handle:
            started = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        processes.append(started)
        workers[queue] = (name, log)
    names = [name for name, _ in workers.values()]
    try:
        wait_for(lambda: len(app.control.ping(destination=names, timeout=1)) == 3, timeout=90)
        yield workers
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def test_each_task_runs_once_on_the_worker_of_its_queue(
    queue_workers: dict[str, tuple[str, Path]],
) -> None:
    """Sent to a queue by name (the application's way: Celery then uses the anonymous
    exchange) and through the queue's exchange with its routing key (the bindings decide)."""
    sent = {
        name: [
            ping.apply_async(queue=name),
            ping.apply_async(exchange=declared.exchange.name, routing_key=declared.routing_key),
        ]
        for name, declared in app.amqp.queues.items()
    }
    for results in sent.values():
        assert [result.get(timeout=60) for result in results] == ["pong", "pong"]
    broker = Redis.from_url(settings.CELERY_BROKER_URL)
    names = [name for name, _ in queue_workers.values()]

    def all_done() -> bool:
        """No message left in a queue, none reserved or running in a worker: a copy sent to
        the other queue would have run by now."""
        if any(broker.llen(queue) for queue in queue_workers):
            return False
        inspect = app.control.inspect(destination=names, timeout=2)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return all(not active.get(n, [1]) and not reserved.get(n, [1]) for n in names)

    wait_for(all_done, timeout=60)
    for queue, (_, log) in queue_workers.items():
        ran = log.read_text()
        for sent_to, results in sent.items():
            for result in results:
                runs = ran.count(f"Task carillon.ping[{result.id}] succeeded")
                assert runs == (1 if sent_to == queue else 0), (
                    f"the {queue} worker ran a task sent to {sent_to} {runs} times"
                )
