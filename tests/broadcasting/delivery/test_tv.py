"""The TV player: the page (French, data as JSON, strict CSP), the now/next API and its
server-sent events, and the player itself in headless Chromium against the project served by
uvicorn as in production (keys, banner, guide, video)."""

import asyncio
import datetime as dt
import gc
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import FileResponse, Http404, HttpRequest
from django.test import AsyncClient, Client
from django.urls import re_path
from django.utils._os import safe_join

import config.urls
from broadcasting.delivery import tv
from playlists.models import Block, Channel, Rotation, ScheduledItem
from playlists.selectors import entry_json, guide, item_at
from playlists.services import schedule_rebuild
from tests.factories import ReadyAssetFactory
from tests.support import launch_chromium

NOW = dt.datetime(2026, 12, 1, 9, 0, 7, tzinfo=dt.UTC)
SLUG = "carillon-chartres"


def _serve_public(request: HttpRequest, path: str) -> FileResponse:
    """Public storage over HTTP for the live server (DEBUG is off in tests), as nginx would."""
    try:
        name = safe_join(str(Path(django_settings.MEDIA_ROOT) / "public"), path)
    except Exception as err:  # noqa: BLE001 - any traversal attempt is a 404
        raise Http404(path) from err
    if not os.path.isfile(name):
        raise Http404(path)
    content_type = "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"
    return FileResponse(open(name, "rb"), content_type=content_type)  # noqa: SIM115


# The urlconf of the browser test: the project's, plus public media (see ``_serve_public``).
urlpatterns = [re_path(r"^media/public/(?P<path>.*)$", _serve_public), *config.urls.urlpatterns]


def programme(channel: Channel) -> None:
    rotation = Rotation.objects.create(
        name=f"Culture {channel.slug}", categories=["culture"], no_repeat_hours=1
    )
    Block.objects.create(
        channel=channel, name="Journée", start=dt.time(0, 0), end=dt.time(0, 0), rotation=rotation
    )


def second_channel() -> Channel:
    first = Channel.objects.get(slug=SLUG)
    return Channel.objects.create(
        name="Carillon Deux", slug="carillon-deux", number=first.number + 1,
        channel_format=first.channel_format,
    )  # fmt: skip


# --- The page and the API ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tv_page_is_french_with_channel_data_and_a_strict_csp(client: Client) -> None:
    second_channel()
    response = client.get("/tv/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Maintenant" in html  # "Now", translated
    data = json.loads(re.search(r'<script id="tv-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))  # fmt: skip
    assert [c["slug"] for c in data["channels"]] == [SLUG, "carillon-deux"]
    assert data["initial"] == SLUG
    assert (
        data["channels"][0]["master"]
        == f"{django_settings.PUBLIC_MEDIA_URL}live/{SLUG}/master.m3u8"
    )
    assert data["channels"][0]["now_url"] == f"/api/v1/channels/{SLUG}/now"
    assert data["channels"][0]["schedule_url"] == f"/api/v1/channels/{SLUG}/schedule"
    assert data["labels"]["now"] == "Maintenant"
    assert "/static/vendor/hls/hls.min.js" in html
    assert "<script>" not in html and " style=" not in html  # nothing inline
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/tv/?channel=carillon-deux").status_code == 200
    assert client.get("/tv/?channel=nope").status_code == 404
    english = client.get("/tv/?lang=en").content.decode()
    assert '<html lang="en">' in english and '"now": "Now"' in english


@pytest.mark.django_db
def test_the_now_api_follows_the_published_schedule(client: Client) -> None:
    channel = Channel.objects.get(slug=SLUG)
    programme(channel)
    ReadyAssetFactory.create_batch(6)
    schedule_rebuild(channel=channel, now=NOW)
    at = NOW + dt.timedelta(minutes=7, seconds=3)
    with mock.patch("django.utils.timezone.now", return_value=at):
        response = client.get(f"/api/v1/channels/{SLUG}/now")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))
    assert max_age <= 2
    body = response.json()
    assert body["channel"] == {"slug": SLUG, "name": channel.name, "number": channel.number}
    on_air = item_at(channel=channel, at=at)
    assert on_air is not None and on_air.asset is not None
    assert body["now"]["title"] == on_air.asset.title
    assert body["now"]["start"] == on_air.start.isoformat()
    assert body["now"]["stop"] == on_air.end.isoformat()
    assert body["now"]["start_local"].endswith("+01:00")  # Paris in December
    assert body["now"]["kind"] == "programme"
    assert set(body["now"]) == {
        "title", "start", "stop", "start_local", "stop_local", "poster", "category", "kind",
        "description", "video", "event",
    }  # fmt: skip
    following = list(
        ScheduledItem.objects.filter(channel=channel, start__gte=on_air.end).order_by("start")[:3]
    )
    assert [entry["title"] for entry in body["next"]] == [i.asset.title for i in following]
    assert body["next"][0]["start"] == on_air.end.isoformat()
    assert body["ticker"] == [] and body["weather"] is None
    assert dt.datetime.fromisoformat(body["server_time"]) == at


@pytest.mark.django_db
def test_the_now_api_reads_only_the_items_it_returns(
    client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    channel = Channel.objects.get(slug=SLUG)
    programme(channel)
    ReadyAssetFactory.create_batch(8, segment_count=2)  # 9.6-s videos: thousands of items a day
    schedule_rebuild(channel=channel, now=NOW, hours=10)
    at = NOW + dt.timedelta(minutes=7, seconds=3)
    with (
        mock.patch("django.utils.timezone.now", return_value=at),
        django_assert_max_num_queries(5) as queries,  # the guide's 3, the ticker's, the weather's
    ):
        body = client.get(f"/api/v1/channels/{SLUG}/now").json()
    reads = [q["sql"] for q in queries.captured_queries if "playlists_scheduleditem" in q["sql"]]
    assert reads and all("LIMIT" in sql for sql in reads), reads
    # The same answer as from the whole lookahead's guide.
    entries = guide(channel=channel, start=at - tv.BEHIND, end=at + tv.LOOKAHEAD)
    upcoming = [entry for entry in entries if entry.start > at][: tv.NEXT_COUNT]
    known = [entry for entry in entries if entry.start <= at] + upcoming
    zone = ZoneInfo(channel.time_zone)
    assert len(entries) > 100 and len(upcoming) == tv.NEXT_COUNT
    assert body["next"] == [entry_json(entry, zone) for entry in upcoming]
    assert body["entries"] == [entry_json(entry, zone) for entry in known]
    current = next(entry for entry in entries if entry.start <= at < entry.stop)
    assert body["now"] == entry_json(current, zone)


@pytest.mark.django_db
def test_the_now_api_of_an_unknown_or_silent_schedule(client: Client) -> None:
    assert client.get("/api/v1/channels/nope/now").status_code == 404
    body = client.get(f"/api/v1/channels/{SLUG}/now").json()
    assert body["now"] is None and body["next"] == [] and body["entries"] == []


# --- The now/next events ----------------------------------------------------------------------


class FakeClock:
    """The events' clock and sleep: sleeping moves the clock on at once."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0)


def parse_event(chunk: bytes) -> dict[str, str]:
    """An event's fields (``data`` as one string), or ``{}`` for a comment."""
    text = chunk.decode()
    assert text.endswith("\n\n"), text
    fields = {}
    for line in text.strip("\n").split("\n"):
        if not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    return fields


@pytest.mark.django_db
def test_the_now_events_send_now_next_at_once_then_when_the_picture_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = Channel.objects.get(slug=SLUG)
    programme(channel)
    ReadyAssetFactory.create_batch(6)
    schedule_rebuild(channel=channel, now=NOW)
    on_air = item_at(channel=channel, at=NOW + dt.timedelta(minutes=7))
    assert on_air is not None and on_air.asset is not None
    fake_start = on_air.start + dt.timedelta(seconds=1)
    fake = FakeClock(fake_start)
    monkeypatch.setattr(tv, "clock", fake)
    monkeypatch.setattr(tv, "sleep", fake.sleep)

    async def read() -> tuple[Any, list[tuple[dt.datetime, bytes]]]:
        """Chunks with the fake time each came at, up to the first event with another now."""
        response = await AsyncClient().get(f"/api/v1/channels/{SLUG}/now/events")
        chunks: list[tuple[dt.datetime, bytes]] = []
        content = response.streaming_content
        async for chunk in content:
            chunks.append((fake.now, chunk))
            fields = parse_event(chunk)
            first_now = json.loads(parse_event(chunks[0][1])["data"])["now"]
            if fields and json.loads(fields["data"])["now"] != first_now:
                break
        await content.aclose()
        return response, chunks

    response, chunks = async_to_sync(read)()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    assert response["Access-Control-Allow-Origin"] == "*"

    first = parse_event(chunks[0][1])
    assert first["retry"] == str(tv.EVENTS_RETRY_MS) and first["event"] == "now"
    payload = json.loads(first["data"])
    assert payload["now"]["title"] == on_air.asset.title
    assert payload["now"]["start"] == on_air.start.isoformat()
    assert int(first["id"]) == (fake_start - tv.EPOCH) // dt.timedelta(milliseconds=1)
    # the entries of the last minutes are listed too, for pictures lagging behind the server
    entries = payload["entries"]
    position = entries.index(payload["now"])
    assert position > 0 and entries[position - 1]["stop"] == on_air.start.isoformat()
    assert dt.datetime.fromisoformat(entries[0]["stop"]) > chunks[0][0] - tv.BEHIND
    assert entries[position + 1 :] == payload["next"]

    # something is written at least every 15 s: an event, else a keepalive comment
    gaps = [(b - a, chunk) for (a, _), (b, chunk) in zip(chunks, chunks[1:], strict=False)]
    assert all(gap <= dt.timedelta(seconds=15.1) for gap, _ in gaps)
    keepalive = dt.timedelta(seconds=tv.KEEPALIVE_SECONDS)
    assert all(gap >= keepalive for gap, chunk in gaps if chunk == b": keepalive\n\n")
    changed_at, last = chunks[-1]
    second = json.loads(parse_event(last)["data"])
    assert second["now"]["start"] == on_air.end.isoformat()
    assert second["now"] == payload["next"][0]
    assert on_air.end <= changed_at < on_air.end + dt.timedelta(seconds=1)
    assert dt.datetime.fromisoformat(second["server_time"]) == changed_at
    assert int(parse_event(last)["id"]) > int(first["id"])


@pytest.mark.django_db
def test_the_now_events_of_an_unknown_channel_are_a_404_and_need_an_asgi_server() -> None:
    async def status() -> int:
        response = await AsyncClient().get("/api/v1/channels/nope/now/events")
        return response.status_code

    assert async_to_sync(status)() == 404
    assert Client().get(f"/api/v1/channels/{SLUG}/now/events").status_code == 204  # WSGI: no stream


def test_the_payload_goes_stale_at_the_next_start_or_when_an_entry_leaves_the_window() -> None:
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    payload = {"entries": [
        {"start": (at - 3 * minute).isoformat(), "stop": (at - minute).isoformat()},
        {"start": (at - minute).isoformat(), "stop": (at + 5 * minute).isoformat()},
        {"start": (at + 5 * minute).isoformat(), "stop": (at + 9 * minute).isoformat()},
    ]}  # fmt: skip
    assert tv.payload_changes_at(payload, after=at) == at - minute + tv.BEHIND
    assert tv.payload_changes_at(payload, after=at + 2 * minute) == at + 5 * minute
    assert tv.payload_changes_at({"entries": []}, after=at) is None


# --- The player in Chromium -------------------------------------------------------------------


def close_stray_connections() -> None:
    """Close the database connections the server's requests left behind (under ASGI a sync
    view's connection can outlive its request's context), so that the test database can go."""
    own = {id(connections[alias]) for alias in connections}
    for candidate in gc.get_objects():
        if not issubclass(type(candidate), BaseDatabaseWrapper) or id(candidate) in own:
            continue
        if candidate.connection is not None and not candidate.in_atomic_block:
            candidate.connection.close()
            candidate.connection = None  # the wrapper reconnects if it is ever used again


@pytest.fixture
def asgi_server() -> Iterator[str]:
    """The project under uvicorn in a thread, as the ``web`` process runs it (ASGI: the event
    streams need it), with the static files; its URL."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        ASGIStaticFilesHandler(get_asgi_application()),
        log_level="warning", lifespan="off", timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()
        close_stray_connections()


def wait_until(page: object, expression: str, timeout: int = 10_000) -> None:
    """Poll ``expression`` from Python: ``wait_for_function`` evaluates strings, which the
    page's CSP (rightly) refuses."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} ms: {expression}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def live_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 12 s HLS rendition (2 s segments) standing in for the playout's output."""
    folder = tmp_path_factory.mktemp("tv-live")
    rung = folder / "360p"
    rung.mkdir()
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=12",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=12",
         "-c:v", "libx264", "-profile:v", "baseline", "-level", "3.0", "-pix_fmt", "yuv420p",
         "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
         "-c:a", "aac", "-b:a", "64k", "-ac", "2",
         "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
         "-hls_segment_filename", str(rung / "seg%03d.ts"), str(rung / "index.m3u8")],
        check=True, timeout=120,
    )  # fmt: skip
    (folder / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"\n'
        "360p/index.m3u8\n"
    )
    return folder


@pytest.fixture
def browser_page(settings, live_clip: Path, tmp_path: Path) -> Iterator[tuple[object, list[str]]]:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.ROOT_URLCONF = __name__
    for slug in (SLUG, "carillon-deux"):
        shutil.copytree(live_clip, Path(settings.MEDIA_ROOT) / "public" / "live" / slug)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            yield page, problems
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_player_plays_and_answers_the_remote(
    asgi_server: str,  # before the browser: the server stops after the browser has gone
    browser_page: tuple[object, list[str]],
    tmp_path: Path,
) -> None:
    page, problems = browser_page
    channel = Channel.objects.get(slug=SLUG)
    programme(channel)
    second = second_channel()
    programme(second)
    ReadyAssetFactory.create_batch(6)
    for each in (channel, second):
        schedule_rebuild(channel=each, now=dt.datetime.now(dt.UTC))
    from django.utils import timezone

    expected = item_at(channel=channel, at=timezone.now())
    assert expected is not None and expected.asset is not None

    page.goto(f"{asgi_server}/tv/")  # type: ignore[attr-defined]
    wait_until(page, "window.Hls !== undefined && window.carillonTv.hls !== null")
    wait_until(page, "window.carillonTv.info !== null")
    assert page.evaluate("window.carillonTv.mode") == "events"  # the now/next events arrive
    wait_until(page, "document.getElementById('tv-video').currentTime > 2.5", timeout=30_000)
    assert page.evaluate("window.Hls.isSupported()")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert re.fullmatch(r"\d\d:\d\d", page.inner_text("#tv-clock"))

    page.keyboard.press("Escape")
    assert page.is_hidden("#tv-banner")
    page.keyboard.press("i")
    page.wait_for_selector("#tv-banner", state="visible")
    wait_until(
        page,
        "document.getElementById('tv-banner-title').textContent === "
        + json.dumps(expected.asset.title),
    )
    page.screenshot(path=str(tmp_path / "tv-banner-1920.png"))

    page.keyboard.press("g")
    page.wait_for_selector("#tv-guide", state="visible")
    page.wait_for_selector(".tv-guide__row .tv-guide__cell.is-now")
    assert page.locator(".tv-guide__row").count() == 2
    page.screenshot(path=str(tmp_path / "tv-guide-1920.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector("#tv-guide", state="hidden")

    assert page.evaluate("document.body.dataset.channel") == SLUG
    page.keyboard.press("ArrowUp")
    wait_until(page, "document.body.dataset.channel === 'carillon-deux'")
    wait_until(page, "document.getElementById('tv-channel').textContent.includes('Deux')")
    wait_until(page, "document.getElementById('tv-video').currentTime > 1.0", timeout=30_000)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.keyboard.press("i")
    page.screenshot(path=str(tmp_path / "tv-banner-1280.png"))
    assert problems == []
