"""The playout lease on a real Redis: one holder at a time, tokens that only grow, a standby that
takes a lease once it is released or expired, and a holder that, when it cannot reach the
store, stops before the store could have expired its lease for anybody else."""

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from broadcasting.live.lease import DRIFT, FSYNC_MS, Lease


@pytest.fixture
def client(settings: LazySettings) -> Iterator[Redis]:
    redis = Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    yield redis
    redis.close()


@pytest.fixture
def key(client: Redis) -> Iterator[str]:
    name = f"carillon-test:lease:{uuid.uuid4().hex}"
    yield name
    client.delete(name, f"{name}:token")


def unreachable() -> Redis:
    """A client of a port nobody listens on: every command fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Redis(
        host="127.0.0.1", port=port, socket_timeout=0.2, socket_connect_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )  # fmt: skip


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_holder_at_a_time_and_tokens_only_grow(client: Redis, key: str) -> None:
    first = Lease(client=client, key=key, ttl_ms=5000, owner="a")
    second = Lease(client=client, key=key, ttl_ms=5000, owner="b")
    assert first.acquire() and not second.acquire()
    assert first.renew() and not second.renew()
    assert first.token is not None and second.token is None
    assert first.remaining() > 0 and second.remaining() == 0
    first.release()
    assert first.remaining() == 0 and first.token is None
    assert second.acquire()  # released: taken at once
    assert second.token is not None and second.token > 0
    assert not first.renew()  # a former holder cannot renew the new holder's lease
    assert Lease(client=client, key=key, ttl_ms=5000, owner="a").acquire() is False
    token = second.token
    second.release()
    assert first.acquire() and first.token is not None and first.token > token


def test_an_expired_lease_goes_to_the_standby(client: Redis, key: str) -> None:
    holder = Lease(client=client, key=key, ttl_ms=300, owner="a")
    standby = Lease(client=client, key=key, ttl_ms=300, owner="b")
    assert holder.acquire()
    assert not standby.acquire()
    time.sleep(0.4)  # the holder died: nobody renewed
    assert holder.remaining() == 0
    assert standby.acquire()
    assert not holder.renew() and holder.token is None


def test_the_holder_counts_its_lease_shorter_than_the_store(client: Redis, key: str) -> None:
    """Its own clock starts before the request left and runs at most DRIFT fast; the store may
    lose its last FSYNC_MS of writes in a crash: the holder's lease ends before the store's."""
    clock = Clock()
    holder = Lease(client=client, key=key, ttl_ms=4000, owner="a", clock=clock)
    assert holder.acquire()
    expected = (4000 * (1 - DRIFT) - FSYNC_MS) / 1000
    assert holder.remaining() == pytest.approx(expected)
    assert 0 < holder.remaining() * 1000 < client.pttl(key) - FSYNC_MS + 50
    clock.now += 1.5
    assert holder.renew()  # renewed: counted again from this request
    assert holder.remaining() == pytest.approx(expected)


def test_a_holder_that_cannot_reach_the_store_stops_before_its_lease_could_expire(
    client: Redis, key: str
) -> None:
    clock = Clock()
    holder = Lease(client=client, key=key, ttl_ms=4000, owner="a", clock=clock)
    assert holder.acquire()
    holder.client = unreachable()  # the store is gone for the holder only
    clock.now += 1.0
    assert not holder.renew()  # an error is not a renewal ...
    assert holder.remaining() == pytest.approx(1.96)  # ... the lease runs out on its own clock
    clock.now += 1.96
    assert holder.remaining() == 0  # it stops publishing: the store still holds its lease
    assert client.pttl(key) > 0
    assert not Lease(client=client, key=key, ttl_ms=4000, owner="b").acquire()


def test_a_standby_takes_over_only_after_the_cut_off_holder_has_stopped(
    client: Redis, key: str
) -> None:
    """Real time: the holder loses the store, keeps publishing while its lease lasts; the
    standby, which can reach the store, gets it only once the holder has stopped."""
    holder = Lease(client=client, key=key, ttl_ms=1500, owner="a")
    standby = Lease(client=client, key=key, ttl_ms=1500, owner="b")
    assert holder.acquire()
    holder.client = unreachable()
    holder_stopped = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        holder.renew()
        if holder_stopped is None and holder.remaining() == 0:
            holder_stopped = time.monotonic()
        if standby.acquire():
            assert holder_stopped is not None, "two holders"
            assert time.monotonic() - holder_stopped > FSYNC_MS / 2000  # a margin, not a race
            return
        time.sleep(0.02)
    raise AssertionError("the standby never took over")


def test_an_unreachable_store_is_no_lease_for_a_standby(key: str) -> None:
    standby = Lease(client=unreachable(), key=key, ttl_ms=4000, owner="b")
    assert not standby.acquire()
    assert standby.remaining() == 0
    standby.release()  # nothing held: nothing to do, no error
