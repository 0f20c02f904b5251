"""The public site: the home page's sections, a page per approved video (named by its public
key, never its id) and per approved post, lists by category, the week's programme; nothing
unapproved answers. In headless Chromium, the video page plays its published HLS with hls.js."""

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import cast

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from broadcasting.media.storage import private_storage
from broadcasting.models import Asset, Category
from cms.demo import site_pages_ensure
from cms.models import HomePage, Post, Profile, SubmissionState, VideoSubmission
from cms.models.pages import PostsPage, ProgrammePage, VideosPage
from cms.selectors import day_bounds, today
from playlists.models import Channel
from tests.broadcasting.delivery.test_tv import (  # noqa: F401 - fixtures
    SLUG,
    asgi_server,
    live_clip,
    wait_until,
)
from tests.factories import (
    AsRunEntryFactory,
    ReadyAssetFactory,
    ScheduledItemFactory,
    UserFactory,
)
from tests.support import launch_chromium

SUBTITLES = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nBonjour Chartres\n"
URL_ATTRIBUTE = re.compile(r'(?:href|src|data-src|poster)="([^"]*)"')


@pytest.fixture
def pages() -> HomePage:
    home = HomePage.objects.get()
    site_pages_ensure(home=home)
    return home


def resident(display_name: str = "Lucie du Grand Faubourg") -> object:
    user = UserFactory()
    Profile.objects.create(user=user, display_name=display_name)
    return user


def ready_asset(**fields: object) -> Asset:
    return cast(Asset, ReadyAssetFactory(**fields))


def published_video(**fields: object) -> Asset:
    """A resident's approved video with its submission (and subtitles)."""
    owner = resident()
    asset = ready_asset(
        owner=owner,
        origin="resident",
        title="La cathédrale au lever du jour",
        description="Les vitraux filmés depuis le parvis.",
        duration=187.0,
        **fields,
    )
    asset.master_playlist = f"renditions/{asset.pk}/master.m3u8"
    asset.poster = f"renditions/{asset.pk}/poster.jpg"
    asset.save()
    VideoSubmission.objects.create(
        submitter=owner,
        asset=asset,
        title=asset.title,
        description=asset.description,
        subtitles_vtt=SUBTITLES,
        charter_version="2026-1",
        consented_at=timezone.now(),
        state=SubmissionState.APPROVED,
    )
    return asset


def approved_post(**fields: object) -> Post:
    values: dict[str, object] = {
        "author": resident("Paul de Saint-Brice"),
        "title": "Vide-grenier rue de la Tannerie",
        "body": "<p>Dimanche, <strong>tout le quartier</strong> déballe.</p>",
        "state": SubmissionState.APPROVED,
        "decided_at": timezone.now(),
        "event_place": "Rue de la Tannerie",
    }
    values.update(fields)
    return Post.objects.create(**values)


def urls_in(html: str) -> list[str]:
    return URL_ATTRIBUTE.findall(html)


def assert_no_id_in_urls(html: str, asset: Asset) -> None:
    for url in urls_in(html):
        assert not re.search(rf"/{asset.pk}(/|$|\.)", url), url
    assert "renditions/" not in html and "/assets/" not in html


# --- Video pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approved_video_has_its_page_at_its_public_key(client: Client, pages: HomePage) -> None:
    asset = published_video()
    channel = Channel.objects.get(slug=SLUG)
    now = timezone.now()
    coming = now.replace(microsecond=0) + dt.timedelta(days=2)
    ScheduledItemFactory(
        asset=asset, channel=channel, start=coming, end=coming + dt.timedelta(minutes=4)
    )
    for days_ago in (3, 5):
        aired = now - dt.timedelta(days=days_ago)
        AsRunEntryFactory(asset=asset, channel=channel, title=asset.title, actual_start=aired,
                          actual_end=aired + dt.timedelta(minutes=3))  # fmt: skip

    response = client.get(f"/videos/{asset.public_key}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "La cathédrale au lever du jour" in html
    assert "Les vitraux filmés depuis le parvis." in html
    assert "Lucie du Grand Faubourg" in html
    assert Category.objects.get(slug="culture").label in html
    assert 'href="/videos/categorie/culture/"' in html
    assert f'data-src="/media/public/v/{asset.public_key}/master.m3u8"' in html
    assert f'poster="/media/public/v/{asset.public_key}/poster.jpg"' in html
    assert f'src="/sous-titres/{asset.public_key}.vtt"' in html
    assert "/static/vendor/hls/hls.min.js" in html and "/static/cms/video.js" in html
    assert "3:07" in html  # the duration
    local_coming = timezone.localtime(coming)
    assert f"{local_coming:%H:%M}" in html and channel.name in html
    assert "Diffusée 2 fois" in html
    assert "<script>" not in html and " style=" not in html  # strict CSP: nothing inline
    assert_no_id_in_urls(html, asset)
    assert client.get(f"/videos/{asset.pk}/").status_code == 404
    english = client.get(f"/en/videos/{asset.public_key}/").content.decode()
    assert '<html lang="en">' in english and "Aired 2 times." in english


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"approval": "pending"},
        {"approval": "rejected"},
        {"state": "transcoding"},
        {"kind": "ident"},
    ],
    ids=["pending", "rejected", "not-ready", "ident"],
)
def test_a_video_that_is_not_published_has_no_page(
    client: Client, pages: HomePage, fields: dict[str, object]
) -> None:
    asset = published_video(**fields)
    assert client.get(f"/videos/{asset.public_key}/").status_code == 404
    assert client.get(f"/sous-titres/{asset.public_key}.vtt").status_code == 404
    assert asset.title not in client.get("/videos/").content.decode()
    assert asset.title not in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_taken_down_video_loses_its_page(client: Client, pages: HomePage) -> None:
    asset = published_video()
    key = asset.public_key
    assert client.get(f"/videos/{key}/").status_code == 200
    Asset.objects.filter(pk=asset.pk).update(public_key=None)  # what a take-down leaves
    assert client.get(f"/videos/{key}/").status_code == 404


@pytest.mark.django_db
def test_subtitles_of_a_published_video_are_webvtt(client: Client) -> None:
    asset = published_video()
    response = client.get(f"/sous-titres/{asset.public_key}.vtt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vtt")
    assert response.content.decode() == SUBTITLES


@pytest.mark.django_db
def test_videos_are_listed_by_category(client: Client, pages: HomePage) -> None:
    culture = published_video()
    sport = ready_asset(title="Match du C Chartres métropole", category="sport", origin="city")
    index = client.get("/videos/").content.decode()
    assert culture.title in index and sport.title in index
    assert f'href="/videos/{culture.public_key}/"' in index
    assert (
        'href="/videos/categorie/sport/"' in index and 'href="/videos/categorie/news/"' not in index
    )
    listed = client.get("/videos/categorie/sport/").content.decode()
    assert sport.title in listed and culture.title not in listed
    assert "Ville de Chartres" in listed  # a city video's author
    assert client.get("/videos/categorie/nowhere/").status_code == 404
    assert_no_id_in_urls(index, culture)


# --- Posts -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approved_post_has_its_page_and_image(client: Client, pages: HomePage) -> None:
    name = private_storage().save("posts/photo.jpg", ContentFile(b"\xff\xd8\xff\xe0fake-jpeg"))
    post = approved_post(image=name)
    response = client.get(f"/actualites/{post.public_key}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert post.title in html and "<strong>tout le quartier</strong>" in html
    assert "Paul de Saint-Brice" in html and "Rue de la Tannerie" in html
    assert f'src="/images/publications/{post.public_key}/"' in html
    image = client.get(f"/images/publications/{post.public_key}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content) == b"\xff\xd8\xff\xe0fake-jpeg"  # type: ignore[attr-defined]
    assert client.get(f"/actualites/{post.pk}/").status_code == 404
    listed = client.get("/actualites/").content.decode()
    assert f'href="/actualites/{post.public_key}/"' in listed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state",
    [SubmissionState.AWAITING_REVIEW, SubmissionState.REJECTED, SubmissionState.CHANGES_REQUESTED],
)
def test_a_post_not_approved_has_no_page_and_no_image(
    client: Client, pages: HomePage, state: str
) -> None:
    name = private_storage().save("posts/hidden.jpg", ContentFile(b"\xff\xd8\xff\xe0hidden"))
    post = approved_post(state=state, image=name)
    assert client.get(f"/actualites/{post.public_key}/").status_code == 404
    assert client.get(f"/images/publications/{post.public_key}/").status_code == 404
    assert post.title not in client.get("/actualites/").content.decode()


# --- Home page and programme -------------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_shows_on_air_today_latest_and_how_to_take_part(
    client: Client, pages: HomePage
) -> None:
    asset = published_video()
    post = approved_post()
    channel = Channel.objects.get(slug=SLUG)
    now = timezone.now().replace(microsecond=0)
    ScheduledItemFactory(asset=asset, channel=channel, start=now - dt.timedelta(minutes=1),
                         end=now + dt.timedelta(minutes=2))  # fmt: skip
    later = ready_asset(title="Le marché de la place Billard")
    ScheduledItemFactory(asset=later, channel=channel, start=now + dt.timedelta(minutes=2),
                         end=now + dt.timedelta(minutes=5))  # fmt: skip
    html = client.get("/").content.decode()
    now_next = html[html.index('class="now-next"') :]
    assert now_next.index(asset.title) < now_next.index(later.title)
    assert 'id="tv-video"' in html and "/static/tv/player.js" in html  # the embedded player
    assert "Programme du jour" in html
    today_section = html[html.index('id="today-title"') :]
    assert f'href="/videos/{later.public_key}/"' in today_section
    latest = html[html.index('id="latest-videos-title"') :]
    assert f'href="/videos/{asset.public_key}/"' in latest
    assert f'href="/actualites/{post.public_key}/"' in html
    assert 'href="/comptes/signup/"' in html
    assert 'href="/soumettre/"' in html
    assert 'href="/programme/"' in html
    assert "<script>" not in html


@pytest.mark.django_db
def test_home_page_for_a_resident_links_to_their_submissions(
    client: Client, pages: HomePage
) -> None:
    client.force_login(resident())
    html = client.get("/").content.decode()
    assert 'href="/mes-contributions/"' in html and 'href="/profil/"' in html
    assert 'href="/comptes/signup/"' not in html


@pytest.mark.django_db
def test_week_programme_lists_each_day_from_the_schedule(client: Client, pages: HomePage) -> None:
    channel = Channel.objects.get(slug=SLUG)
    first = today()
    in_three_days = day_bounds(first + dt.timedelta(days=3))[0] + dt.timedelta(hours=20, minutes=30)
    in_ten_days = day_bounds(first + dt.timedelta(days=10))[0] + dt.timedelta(hours=12)
    soon = ready_asset(title="Concert à Saint-Pierre")
    far = ready_asset(title="Trop loin pour la semaine")
    ScheduledItemFactory(asset=soon, channel=channel, start=in_three_days,
                         end=in_three_days + dt.timedelta(minutes=30))  # fmt: skip
    ScheduledItemFactory(asset=far, channel=channel, start=in_ten_days,
                         end=in_ten_days + dt.timedelta(minutes=30))  # fmt: skip
    ScheduledItemFactory(asset=ReadyAssetFactory(title="Ident", kind="ident"), role="ident",
                         channel=channel, start=in_three_days - dt.timedelta(minutes=1),
                         end=in_three_days)  # fmt: skip
    page = ProgrammePage.objects.get()
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="programme-day"') == 7
    assert "Aujourd’hui" in html or "Aujourd'hui" in html
    fourth_day = html.split('class="programme-day"')[4]
    assert "20:30" in fourth_day and soon.title in fourth_day
    assert f'href="/videos/{soon.public_key}/"' in fourth_day
    assert far.title not in html and ">Ident<" not in html


@pytest.mark.django_db
def test_site_pages_are_created_once_under_the_home_page() -> None:
    home = HomePage.objects.get()
    site_pages_ensure(home=home)
    site_pages_ensure(home=home)
    for model, url in (
        (VideosPage, "/videos/"),
        (PostsPage, "/actualites/"),
        (ProgrammePage, "/programme/"),
    ):
        page = model.objects.get()
        assert page.live and page.url == url
        assert page.get_parent().specific == home


# --- In a browser ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_video_page_plays_in_chromium(
    asgi_server: str,  # noqa: F811 - the fixture
    settings,
    live_clip: Path,  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture
) -> None:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.ROOT_URLCONF = "tests.broadcasting.delivery.test_tv"  # serves public media
    site_pages_ensure(home=HomePage.objects.get())
    asset = published_video()
    published = Path(settings.MEDIA_ROOT) / "public" / "v" / str(asset.public_key)
    shutil.copytree(live_clip, published)
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi",
         "-i", "testsrc2=size=320x180", "-frames:v", "1", str(published / "poster.jpg")],
        check=True, timeout=60,
    )  # fmt: skip
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(f"{asgi_server}/videos/{asset.public_key}/")
            assert page.title().startswith("La cathédrale au lever du jour")
            page.evaluate("document.getElementById('video-player').muted = true")
            page.evaluate("document.getElementById('video-player').play()")
            wait_until(page, "document.getElementById('video-player').currentTime > 2.5", 30_000)
            assert page.evaluate("document.getElementById('video-player').videoWidth") == 640
            assert page.evaluate("!!window.carillonVideo")  # through hls.js
            assert problems == []
        finally:
            browser.close()
