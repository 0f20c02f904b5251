"""The TV player: the page (French, data as JSON, strict CSP), the now/next API, and the
player itself in headless Chromium against the live server (keys, banner, guide, video)."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.http import FileResponse, Http404, HttpRequest
from django.test import Client
from django.urls import re_path
from django.utils._os import safe_join
from pytest_django.live_server_helper import LiveServer

import config.urls
from playlists.models import Block, Channel, Rotation, ScheduledItem
from playlists.selectors import item_at
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
        "description", "asset_id", "event_id",
    }  # fmt: skip
    following = list(
        ScheduledItem.objects.filter(channel=channel, start__gte=on_air.end).order_by("start")[:3]
    )
    assert [entry["title"] for entry in body["next"]] == [i.asset.title for i in following]
    assert body["next"][0]["start"] == on_air.end.isoformat()
    assert body["ticker"] == [] and body["weather"] is None
    assert dt.datetime.fromisoformat(body["server_time"]) == at


@pytest.mark.django_db
def test_the_now_api_of_an_unknown_or_silent_schedule(client: Client) -> None:
    assert client.get("/api/v1/channels/nope/now").status_code == 404
    body = client.get(f"/api/v1/channels/{SLUG}/now").json()
    assert body["now"] is None and body["next"] == []


# --- The player in Chromium -------------------------------------------------------------------


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
    browser_page: tuple[object, list[str]], live_server: LiveServer, tmp_path: Path
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

    page.goto(f"{live_server.url}/tv/")  # type: ignore[attr-defined]
    wait_until(page, "window.Hls !== undefined && window.carillonTv.hls !== null")
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
