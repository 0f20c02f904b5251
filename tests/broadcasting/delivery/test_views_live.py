"""The live playlists and segments served by the web process, with the playout's real output.

The playout publishes its window with ``publish_window`` at a chosen instant; the view's clock is
replaced so each request happens at a chosen instant too.
"""

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.urls import resolve

from broadcasting.delivery import views_live
from broadcasting.delivery.asgi import LivePlaylists
from broadcasting.delivery.views_live import last_listed_sequence
from broadcasting.live.playout import publish_window
from broadcasting.live.store import live_prefix
from broadcasting.media.grid import segment_start
from broadcasting.media.storage import public_storage
from playlists.models import Channel
from tests.broadcasting.live.test_playout import EPOCH, SPEC, START, channel, encoded  # noqa: F401

RUNG = SPEC.rungs[0].name
MEDIA_URL = f"/live/test-playout/{RUNG}/index.m3u8"
MASTER_URL = "/live/test-playout/master.m3u8"
INTO_SEGMENT = dt.timedelta(seconds=1)


def at(sequence: int) -> dt.datetime:
    """An instant inside segment ``sequence``."""
    return segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms) + INTO_SEGMENT


class Clock:
    def __init__(self) -> None:
        self.now = at(START)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(views_live, "clock", fake)
    views_live.forget()
    yield fake
    views_live.forget()


def published(channel: Channel, name: str) -> bytes:  # noqa: F811
    with public_storage().open(f"{live_prefix(channel.slug)}/{name}", "rb") as handle:
        data: bytes = handle.read()
    return data


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    content: bytes = response.content
    return content


def test_last_listed_sequence_counts_the_window() -> None:
    playlist = (
        b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:40\n#EXTINF:4.800,\n40-a.ts\n#EXTINF:4.800,\n41-b.ts\n"
    )
    assert last_listed_sequence(playlist) == 41
    assert last_listed_sequence(b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:40\n") is None
    assert last_listed_sequence(b"#EXTM3U\n") is None


@pytest.mark.slow
@pytest.mark.django_db
def test_playlists_are_the_published_bytes_with_live_headers(
    channel: Channel,  # noqa: F811
    client: Client,
) -> None:
    publish_window(channel=channel, now=at(START))
    for url, name in ((MEDIA_URL, f"{RUNG}/index.m3u8"), (MASTER_URL, "master.m3u8")):
        response = client.get(url)
        assert response.status_code == 200
        assert response.content == published(channel, name)
        assert response["Content-Type"] == "application/vnd.apple.mpegurl"
        assert response["Cache-Control"] == "public, max-age=2"
        assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.slow
@pytest.mark.django_db
def test_a_current_playlist_is_served_from_memory_without_a_query(
    channel: Channel,  # noqa: F811
    client: Client,
    django_assert_num_queries: Any,
) -> None:
    publish_window(channel=channel, now=at(START))
    first = client.get(MEDIA_URL).content
    client.get(MASTER_URL)
    public_storage().delete(f"{live_prefix(channel.slug)}/{RUNG}/index.m3u8")
    with django_assert_num_queries(0):
        again = client.get(MEDIA_URL)
        master = client.get(MASTER_URL)
    assert again.status_code == 200 and again.content == first  # not read again
    assert master.status_code == 200


@pytest.mark.slow
@pytest.mark.django_db
def test_a_late_playlist_is_served_but_not_kept_until_the_playout_catches_up(
    channel: Channel,  # noqa: F811
    client: Client,
    clock: Clock,
) -> None:
    publish_window(channel=channel, now=at(START))
    old = published(channel, f"{RUNG}/index.m3u8")
    clock.now = at(START + 1)  # the playout has not published START + 1 yet
    assert client.get(MEDIA_URL).content == old
    publish_window(channel=channel, now=at(START + 1))
    new = published(channel, f"{RUNG}/index.m3u8")
    assert new != old and last_listed_sequence(new) == START + 1
    assert client.get(MEDIA_URL).content == new


@pytest.mark.slow
@pytest.mark.django_db
def test_the_next_sequence_reads_the_next_window(
    channel: Channel,  # noqa: F811
    client: Client,
    clock: Clock,
) -> None:
    publish_window(channel=channel, now=at(START))
    assert last_listed_sequence(client.get(MEDIA_URL).content) == START
    publish_window(channel=channel, now=at(START + 1))
    assert last_listed_sequence(client.get(MEDIA_URL).content) == START  # same segment airing
    clock.now = at(START + 1)
    assert last_listed_sequence(client.get(MEDIA_URL).content) == START + 1


@pytest.mark.django_db
def test_unknown_channels_and_rungs_are_not_found(
    channel: Channel,  # noqa: F811
    client: Client,
) -> None:
    assert client.get("/live/no-such-channel/master.m3u8").status_code == 404
    assert client.get(f"/live/no-such-channel/{RUNG}/index.m3u8").status_code == 404
    assert client.get("/live/test-playout/1080p/index.m3u8").status_code == 404
    assert client.get("/live/test-playout/1080p/1000000-0123456789ab.ts").status_code == 404
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    views_live.forget()
    assert client.get(MEDIA_URL).status_code == 404


@pytest.mark.django_db
def test_nothing_published_yet_asks_to_retry(
    channel: Channel,  # noqa: F811
    client: Client,
) -> None:
    for url in (MEDIA_URL, MASTER_URL):
        response = client.get(url)
        assert response.status_code == 503
        assert response["Retry-After"] == "5"


@pytest.mark.slow
@pytest.mark.django_db
def test_listed_segments_are_served_for_good(
    channel: Channel,  # noqa: F811
    client: Client,
) -> None:
    publish_window(channel=channel, now=at(START))
    playlist = client.get(MEDIA_URL).content.decode()
    uris = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert uris
    for uri in uris:
        response = client.get(f"/live/test-playout/{RUNG}/{uri}")
        assert response.status_code == 200
        assert body(response) == published(channel, f"{RUNG}/{uri}")
        assert response["Content-Type"] == "video/mp2t"
        assert response["Cache-Control"] == "public, max-age=86400, immutable"
        assert response["Access-Control-Allow-Origin"] == "*"
    missing = client.get(f"/live/test-playout/{RUNG}/999-0123456789ab.ts")
    assert missing.status_code == 404


class RemoteStorage:
    """A storage with no local paths, like S3."""

    def path(self, name: str) -> str:
        raise NotImplementedError

    def url(self, name: str) -> str:
        return f"https://cdn.example.org/public/{name}"


@pytest.mark.django_db
def test_segments_of_remote_storage_are_redirected(
    channel: Channel,  # noqa: F811
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views_live, "public_storage", RemoteStorage)
    response = client.get(f"/live/test-playout/{RUNG}/1000000-0123456789ab.ts")
    assert response.status_code == 302
    assert response["Location"] == (
        f"https://cdn.example.org/public/live/test-playout/{RUNG}/1000000-0123456789ab.ts"
    )


def test_the_tuner_stream_route_still_matches() -> None:
    assert resolve("/live/test-playout/stream.ts").url_name == "live-stream"
    assert resolve(MEDIA_URL).url_name == "live-media"
    assert resolve(MASTER_URL).url_name == "live-master"


def asgi_get(app: Any, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Drive an ASGI application with one request; return status, headers and body."""
    sent: list[dict[str, Any]] = []
    asked: list[bool] = []

    async def receive() -> dict[str, Any]:
        if asked:  # the client stays connected until the response is sent
            await asyncio.sleep(3600)
        asked.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }  # fmt: skip
    async_to_sync(app)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, body


class Recorder:
    """An inner ASGI application that records what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})


@pytest.mark.slow
@pytest.mark.django_db
def test_the_asgi_front_answers_playlists_like_the_view_without_django(
    channel: Channel,  # noqa: F811
    client: Client,
    django_assert_num_queries: Any,
) -> None:
    publish_window(channel=channel, now=at(START))
    inner = Recorder()
    front = LivePlaylists(inner)
    for url in (MEDIA_URL, MASTER_URL):
        view = client.get(url)
        status, headers, data = asgi_get(front, url)
        assert (status, data) == (200, view.content)
        for header in ("Content-Type", "Cache-Control", "Access-Control-Allow-Origin"):
            assert headers[header.lower()] == view[header]
        assert headers["content-length"] == str(len(data))
        assert headers["x-content-type-options"] == "nosniff"
    with django_assert_num_queries(0):
        assert asgi_get(front, MEDIA_URL)[0] == 200
        status, headers, data = asgi_get(front, MEDIA_URL, method="HEAD")
    assert status == 200 and data == b"" and int(headers["content-length"]) > 0
    assert inner.paths == []  # Django never saw them


@pytest.mark.slow
@pytest.mark.django_db
def test_the_asgi_front_hands_everything_else_to_django(channel: Channel) -> None:  # noqa: F811
    publish_window(channel=channel, now=at(START))
    inner = Recorder()
    front = LivePlaylists(inner)
    for path in ("/live/nope/master.m3u8", "/live/test-playout/999p/index.m3u8",
                 f"/live/test-playout/{RUNG}/x.ts", "/live/test-playout/stream.ts", "/tv/"):  # fmt: skip
        assert asgi_get(front, path) == (418, {}, b"django")
    assert asgi_get(front, MEDIA_URL, method="POST")[0] == 418
    assert len(inner.paths) == 6


@pytest.mark.slow
@pytest.mark.django_db
def test_the_production_asgi_application_serves_the_playlist(
    channel: Channel,  # noqa: F811
) -> None:
    """``config.asgi.application`` is the front around Django: both routes work through it."""
    from config.asgi import application

    publish_window(channel=channel, now=at(START))
    status, headers, data = asgi_get(application, MEDIA_URL)
    assert status == 200 and data == published(channel, f"{RUNG}/index.m3u8")
    # Django's handler closes the connection at each request; the test's transaction needs it.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        status, _, _ = asgi_get(application, "/live/nope/master.m3u8")
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert status == 404  # Django's answer
