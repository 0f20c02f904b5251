"""The channel page: the TV player embedded in the public site (French, strict CSP), created by
``seed_demo`` once, linked from the home page; in headless Chromium its player plays and its
banner shows the entry airing at the instant on screen, not at the server's now."""

import datetime as dt
import json
import re
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from broadcasting.delivery.tv import now_payload
from cms.demo import LIVE_TITLE, channel_page_ensure
from cms.models import ChannelPage, HomePage
from playlists.models import Channel
from playlists.services import schedule_rebuild
from tests.broadcasting.delivery.test_tv import (  # noqa: F401 - fixtures
    SLUG,
    asgi_server,
    browser_page,
    live_clip,
    programme,
    wait_until,
)
from tests.factories import ReadyAssetFactory


def player_data(html: str) -> dict[str, object]:
    found = re.search(r'<script id="tv-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


@pytest.mark.django_db
def test_the_channel_page_embeds_the_player_in_french_under_a_strict_csp(client: Client) -> None:
    page = channel_page_ensure(home=HomePage.objects.get())
    assert page is not None and page.live and page.url == "/direct/"
    response = client.get("/direct/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert 'class="tv-player tv-player--embedded"' in html and 'id="tv-video"' in html
    assert 'id="tv-banner"' in html and 'id="tv-guide"' in html
    assert "Maintenant" in html  # "Now", translated
    data = player_data(html)
    assert data["embedded"] is True and data["initial"] == SLUG
    assert data["channels"] == [  # type: ignore[index]
        {
            "slug": SLUG,
            "name": page.channel.name,
            "number": page.channel.number,
            "time_zone": page.channel.time_zone,
            "master": f"{settings.PUBLIC_MEDIA_URL}live/{SLUG}/master.m3u8",
            "now_url": f"/api/v1/channels/{SLUG}/now",
            "events_url": f"/api/v1/channels/{SLUG}/now/events",
            "schedule_url": f"/api/v1/channels/{SLUG}/schedule",
        }
    ]
    assert "/static/vendor/hls/hls.min.js" in html and "/static/tv/player.js" in html
    assert "<script>" not in html and " style=" not in html  # nothing inline
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    english = client.get("/en/direct/").content.decode()
    assert '<html lang="en">' in english and player_data(english)["labels"]["now"] == "Now"  # type: ignore[index]
    home = client.get("/").content.decode()
    assert f'href="/direct/">{LIVE_TITLE}</a>' in home


@pytest.mark.django_db
@pytest.mark.usefixtures("cached_media_builds")  # the demo clips: generated once per run
def test_seed_demo_creates_the_live_page_once() -> None:
    get_user_model().objects.create_superuser("admin", "admin@example.org", "x-demo-password")
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    page = ChannelPage.objects.get()
    assert page.title == LIVE_TITLE and page.live
    assert page.channel.slug == SLUG
    assert page.get_parent().specific == HomePage.objects.get()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_embedded_player_plays_and_its_banner_follows_the_picture(
    asgi_server: str,  # noqa: F811 - before the browser: it stops after the browser has gone
    browser_page: tuple[object, list[str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    page, problems = browser_page
    channel = Channel.objects.get(slug=SLUG)
    programme(channel)
    ReadyAssetFactory.create_batch(6)
    schedule_rebuild(channel=channel, now=dt.datetime.now(dt.UTC))
    live = channel_page_ensure(home=HomePage.objects.get())
    assert live is not None
    # The picture starts 4 s before the start of the second entry to come: what the banner
    # shows follows the stream's program date-time, far from the server's now.
    before, after = now_payload(channel, at=timezone.now())["next"][:2]
    assert before["title"] != after["title"]
    boundary = dt.datetime.fromisoformat(after["start"])
    playlist = Path(settings.MEDIA_ROOT) / "public" / "live" / SLUG / "360p" / "index.m3u8"
    start = (boundary - dt.timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    playlist.write_text(
        playlist.read_text().replace("#EXTINF", f"#EXT-X-PROGRAM-DATE-TIME:{start}\n#EXTINF", 1)
    )

    page.goto(f"{asgi_server}{live.url}")  # type: ignore[attr-defined]
    wait_until(page, "window.Hls !== undefined && window.carillonTv.hls !== null")
    wait_until(page, "document.getElementById('tv-video').currentTime > 0.5", timeout=30_000)
    assert page.evaluate("window.carillonTv.mode") == "events"
    box = page.locator("#tv-player").bounding_box()  # type: ignore[attr-defined]
    assert box is not None and abs(box["width"] / box["height"] - 16 / 9) < 0.01

    # Sample (title, instant on screen) until the banner flips to the entry after the boundary.
    samples: list[tuple[str, float]] = []
    deadline = time.monotonic() + 20
    while not samples or samples[-1][0] != after["title"]:
        assert time.monotonic() < deadline, samples[-5:]
        samples.append(
            tuple(  # type: ignore[arg-type]
                page.evaluate(  # type: ignore[attr-defined]
                    "[document.getElementById('tv-banner-title').textContent,"
                    " window.carillonTv.playingInstant().getTime()]"
                )
            )
        )
        time.sleep(0.05)
    edge = boundary.timestamp() * 1000
    shown_before = [at for title, at in samples if title == before["title"]]
    assert shown_before and all(at < edge + 700 for at in shown_before)
    assert samples[-1][1] >= edge  # it flipped once the boundary was on screen, not before
    assert page.evaluate("document.getElementById('tv-video').currentTime") > 3.5

    page.focus("#tv-player")  # type: ignore[attr-defined]
    page.keyboard.press("g")  # type: ignore[attr-defined]
    page.wait_for_selector("#tv-guide", state="visible")  # type: ignore[attr-defined]
    page.wait_for_selector(".tv-guide__row .tv-guide__cell.is-now")  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "channel-page-guide.png"))  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    page.wait_for_selector("#tv-guide", state="hidden")  # type: ignore[attr-defined]
    page.keyboard.press("i")  # type: ignore[attr-defined]
    page.wait_for_selector("#tv-banner", state="visible")  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "channel-page-banner.png"))  # type: ignore[attr-defined]
    assert problems == []
