"""The real playout loop for tests: channels timed around now, the ``playout`` command in a
child process whose output is read as it is written, and a TCP proxy in front of PostgreSQL
that a test can cut to take the database away from that process only."""

import datetime as dt
import os
import re
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from broadcasting.media.grid import segment_start
from playlists.models import Channel, ScheduledItem, ScheduleVersion
from tests.broadcasting.live.test_playout import SPEC, START
from tests.broadcasting.workers import worker_env
from tests.support import MANAGE, ROOT

LINE = re.compile(r"^(?P<slug>\S+) seq=(?P<seq>\d+) published=\d+ slated=(?P<slated>\d+) ")


def retime(on_air: Channel, first_item_at: dt.datetime) -> Channel:
    """Shift the channel's epoch, schedule versions and items so that sequence START (the first
    item) starts at ``first_item_at``; sequence numbers and segment grid are unchanged."""
    delta = first_item_at - segment_start(START, epoch=on_air.epoch, segment_ms=SPEC.segment_ms)
    Channel.objects.filter(pk=on_air.pk).update(epoch=on_air.epoch + delta)
    for version in ScheduleVersion.objects.filter(channel=on_air):
        version.window_start += delta
        version.window_end += delta
        version.save(update_fields=["window_start", "window_end"])
    for item in ScheduledItem.objects.filter(channel=on_air):
        ScheduledItem.objects.filter(pk=item.pk).update(
            start=item.start + delta, end=item.end + delta
        )
    fresh = Channel.objects.select_related("channel_format", "slate").get(pk=on_air.pk)
    assert segment_start(START, epoch=fresh.epoch, segment_ms=SPEC.segment_ms) == first_item_at
    return fresh


def copy_on_epoch(source: Channel, *, slug: str, shift: dt.timedelta) -> Channel:
    """A channel with ``source``'s format, slate and items at the same sequences of a grid whose
    epoch is ``shift`` later."""
    copy = Channel.objects.create(
        name=f"Copie {slug}", slug=slug, number=source.number + 1 + Channel.objects.count(),
        channel_format=source.channel_format, slate=source.slate, epoch=source.epoch + shift,
    )  # fmt: skip
    for version in ScheduleVersion.objects.filter(channel=source):
        mine = ScheduleVersion.objects.create(
            channel=copy, number=version.number, window_start=version.window_start + shift,
            window_end=version.window_end + shift,
        )  # fmt: skip
        for item in ScheduledItem.objects.filter(version=version):
            ScheduledItem.objects.create(
                channel=copy, version=mine, start=item.start + shift, end=item.end + shift,
                kind=item.kind, role=item.role, asset=item.asset,
            )  # fmt: skip
    return Channel.objects.select_related("channel_format", "slate").get(pk=copy.pk)


def only_on_air(*channels: Channel) -> None:
    """Every other channel off air (the default channel has no slate: the playout would make
    one with ffmpeg)."""
    Channel.objects.exclude(pk__in=[c.pk for c in channels]).update(is_active=False)


@dataclass(frozen=True)
class Published:
    """One line of the playout's output: a channel published as of a boundary."""

    seen: float  # wall clock (time.time()) when the test read the line
    slug: str
    sequence: int
    slated: int


class PlayoutProcess:
    """``manage.py playout`` in its own process group, its output timestamped line by line."""

    def __init__(self, log: Path, *, lease_key: str, **env: str) -> None:
        self.log = log
        self.lease_key = lease_key
        self.env = env
        self.lines: list[tuple[float, str]] = []
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> "PlayoutProcess":
        env = worker_env(PYTHONUNBUFFERED="1")
        env.update(self.env)
        self.process = subprocess.Popen(
            [*MANAGE, "playout", "--lease-key", self.lease_key],
            cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log.open("ab") as copy:
            for raw in self.process.stdout:
                self.lines.append((time.time(), raw.decode(errors="replace").rstrip()))
                copy.write(raw)
                copy.flush()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def published(self) -> list[Published]:
        found = []
        for seen, line in list(self.lines):
            match = LINE.match(line)
            if match:
                found.append(
                    Published(seen, match["slug"], int(match["seq"]), int(match["slated"]))
                )
        return found

    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def kill(self) -> None:
        """SIGKILL: none of the process's own code runs (its lease is not released)."""
        if self.alive:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._reader is not None:
            self._reader.join(timeout=5)


def wait_until(predicate: object, *, timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


class TcpProxy:
    """A TCP forwarder on loopback in front of ``target``; ``cut()`` closes it and every
    connection through it (clients get errors, new connections are refused) until
    ``restore()``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "TcpProxy":
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            doomed, self._open = self._open, []
            listener, self._listener = self._listener, None
        for sock in [*doomed, *([listener] if listener else [])]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        chooser = selectors.DefaultSelector()
        chooser.register(a, selectors.EVENT_READ, b)
        chooser.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in chooser.select(timeout=1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                sock.close()


def database_env(port: int | None = None) -> dict[str, str]:
    """The child's database URL: the test database, through ``port`` when given."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{port or db['PORT']}/{db['NAME']}"
    return {"CARILLON_TEST_DATABASE_URL": url}


def terminate_other_backends() -> int:
    """pg_terminate_backend every other connection to the test database: how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def first_listed(
    slugs: list[str], until: float, live_root: Path
) -> Iterator[tuple[str, int, float]]:
    """Poll the channels' media playlists until ``until`` (wall clock): (slug, sequence, when
    first seen listed) for each newly listed sequence."""
    seen: dict[str, int] = {}
    while time.time() < until:
        for slug in slugs:
            last = _last_listed(live_root / slug / "360p" / "index.m3u8")
            if last is None:
                continue
            previous = seen.get(slug)
            if previous is None or last > previous:
                now = time.time()
                for sequence in range((previous or last - 1) + 1, last + 1):
                    yield slug, sequence, now
                seen[slug] = last
        time.sleep(0.02)


def _last_listed(path: Path) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    first = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    count = text.count("#EXTINF")
    if first is None or not count:
        return None
    return int(first.group(1)) + count - 1
