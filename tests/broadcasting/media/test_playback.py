"""A phone-style portrait clip imported with ``import_video --wait`` ends ready, and its master
playlist plays in real clients: ffmpeg as an HLS client, and hls.js in headless Chromium."""

import functools
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from broadcasting.models import Asset, ProcessingState
from tests.broadcasting import cached_media, clips
from tests.broadcasting.workers import Worker, purge_test_broker
from tests.factories import UserFactory
from tests.support import ROOT, QuietHTTPServer, launch_chromium

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]

SECONDS = 7.0  # the portrait clip: two 4.8-s segments
CLIENT_START_S = 30.0  # a client's start-up (process or browser, first requests), busy machine

PLAYER_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="/hls.min.js"></script></head>
<body><video id="v" muted playsinline width="640" height="360"></video>
<script>
  window.fatal = []; window.stalls = 0;
  const video = document.getElementById("v");
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) window.fatal.push(data.details); });
  video.addEventListener("waiting", () => { window.stalls += 1; });
  hls.loadSource("/media/MASTER");
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
</script></body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def imported_portrait(settings, tmp_path: Path) -> Iterator[Asset]:  # type: ignore[no-untyped-def]
    settings.CARILLON_WORK_DIR = tmp_path / "work"
    purge_test_broker()
    UserFactory(username="cmin", is_superuser=True, is_staff=True)
    clip = cached_media.clip(clips.portrait_rotated_clockwise, (SECONDS,), tmp_path / "clip")
    # The clients, not the encode, are under test here: the portrait is encoded once per run.
    worker = Worker(tmp_path / "worker.log", cached_encodes=True).start()
    try:
        out = StringIO()
        call_command(
            "import_video",
            str(clip),
            "--title",
            "Portrait",
            "--approve",
            "--wait",
            "--timeout",
            "240",
            stdout=out,
        )
    finally:
        worker.stop()
    asset_id, final = out.getvalue().split("\n")[:2]
    assert final.startswith("ready ")
    yield Asset.objects.get(pk=int(asset_id))


@pytest.fixture
def media_server(settings, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve the renditions (private storage) and hls.js over HTTP on loopback."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "media").symlink_to(Path(settings.MEDIA_ROOT) / "private")
    (site / "hls.min.js").symlink_to(ROOT / "node_modules" / "hls.js" / "dist" / "hls.min.js")
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_portrait_import_is_ready_and_pillarboxed(imported_portrait: Asset) -> None:
    asset = imported_portrait
    assert asset.state == ProcessingState.READY
    assert asset.rotation == 90
    assert (asset.width, asset.height) == (720, 1280)
    assert asset.segment_count == 2
    assert asset.renditions.count() == 4


def test_ffmpeg_as_a_client_plays_the_master_playlist_cleanly(
    imported_portrait: Asset, media_server: str
) -> None:
    url = f"{media_server}/media/{imported_portrait.master_playlist}"
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "warning", "-i", url, "-map", "0:v:0",
         "-map", "0:a:0", "-f", "null", "-"],
        capture_output=True, text=True, timeout=SECONDS + CLIENT_START_S, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_hls_js_plays_across_a_segment_boundary(
    imported_portrait: Asset, media_server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    page_file = Path(os.readlink(tmp_path / "site" / "media")).parent / "player.html"
    page_file.write_text(PLAYER_PAGE.replace("MASTER", imported_portrait.master_playlist))
    (tmp_path / "site" / "player.html").symlink_to(page_file)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{media_server}/player.html")
            page.wait_for_function(
                f"document.getElementById('v').currentTime > {SECONDS - 1}"
                " || window.fatal.length > 0",
                timeout=(SECONDS + CLIENT_START_S) * 1000,
            )
            assert page.evaluate("window.fatal") == []
            width, height = page.evaluate(
                "[document.getElementById('v').videoWidth, document.getElementById('v').videoHeight]"
            )
            assert abs(width / height - 16 / 9) < 0.01  # pillarboxed to 16:9, never stretched
        finally:
            browser.close()
