"""The residents' pages: submitting a video (facts, subtitles, consent, then the Uppy page) and
a post (sanitised text, cleaned image), "My submissions" with each state in words, fixing and
resubmitting, sending another file, and nobody reaching anybody else's items."""

import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from PIL import ExifTags, Image

from broadcasting.models import Asset
from cms.models import Post, SubmissionState, Upload, UploadState, VideoSubmission
from tests.cms.test_post_images import jpeg_with_gps
from tests.factories import AsRunEntryFactory, AssetFactory, ScheduledItemFactory, UserFactory

pytestmark = pytest.mark.django_db

SRT = b"1\n00:00:01,000 --> 00:00:02,500\nBonjour\n"


@pytest.fixture(autouse=True)
def _french() -> Iterator[None]:
    """Each test starts in French (a request to an /en/ page leaves English active)."""
    with translation.override("fr"):
        yield


def video_of(
    user: User, state: str = SubmissionState.AWAITING_UPLOAD, **fields: object
) -> VideoSubmission:
    values: dict[str, object] = {
        "title": "La fête du quartier",
        "category_id": "culture",
        "charter_version": "2026-1",
        "consented_at": timezone.now(),
        "state": state,
    }
    values.update(fields)
    return VideoSubmission.objects.create(submitter=user, **values)


def post_of(user: User, state: str = SubmissionState.AWAITING_REVIEW, **fields: object) -> Post:
    return Post.objects.create(
        author=user, title="Vide-grenier", body="<p>Dimanche</p>", state=state, **fields
    )


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def english(name: str, **kwargs: object) -> str:
    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def text_of(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


# --- Who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cms:submit-video", "cms:submit-post", "cms:my-submissions"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, name: str) -> None:
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={url}"


def test_another_residents_items_answer_404() -> None:
    owner, other = UserFactory(), UserFactory()
    video, post = video_of(owner), post_of(owner, image="posts/x.jpg")
    client = logged_in(other)
    for name, pk in [
        ("cms:my-video", video.pk),
        ("cms:submit-upload", video.pk),
        ("cms:my-video-progress", video.pk),
        ("cms:my-post", post.pk),
        ("cms:my-post-image", post.pk),
    ]:
        assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 404, name
    assert client.post(reverse("cms:my-video-new-file", kwargs={"pk": video.pk})).status_code == 404
    page = client.get(reverse("cms:my-submissions"))
    assert "La fête du quartier" not in text_of(page) and "Vide-grenier" not in text_of(page)
    assert logged_in(owner).get(reverse("cms:my-video", kwargs={"pk": video.pk})).status_code == 200


# --- Submitting a video -----------------------------------------------------------------------


def video_form(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Le marché",
        "description": "Un samedi matin",
        "category": "culture",
        "consent": "on",
    }
    data.update(extra)
    return data


def test_a_video_is_submitted_with_its_consent_and_goes_to_its_upload_page() -> None:
    resident = UserFactory()
    before = timezone.now()
    subtitles = SimpleUploadedFile("marche.srt", SRT, content_type="application/x-subrip")
    response = logged_in(resident).post(
        reverse("cms:submit-video"), video_form(subtitles=subtitles)
    )
    submission = VideoSubmission.objects.get(submitter=resident)
    assert response.status_code == 302
    assert response["Location"] == reverse("cms:submit-upload", kwargs={"pk": submission.pk})
    assert submission.state == SubmissionState.AWAITING_UPLOAD
    assert submission.charter_version == settings.CARILLON_CHARTER_VERSION
    assert before <= submission.consented_at <= timezone.now()
    assert submission.subtitles_vtt == "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nBonjour\n"
    assert (submission.title, submission.category_id) == ("Le marché", "culture")


def test_the_charter_version_stored_is_the_current_one(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_CHARTER_VERSION = "2027-2"
    resident = UserFactory()
    logged_in(resident).post(reverse("cms:submit-video"), video_form())
    assert VideoSubmission.objects.get(submitter=resident).charter_version == "2027-2"


def test_consent_to_the_charter_is_required() -> None:
    resident = UserFactory()
    data = video_form()
    del data["consent"]
    response = logged_in(resident).post(reverse("cms:submit-video"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["consent"]
    assert not VideoSubmission.objects.filter(submitter=resident).exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.srt", b"1\n00:00:05,000 --> 00:00:01,000\nA\n"),
        ("bad.vtt", b"00:00:01.000 --> 00:00:02.000\nA\n"),
        ("film.mp4", SRT),
    ],
)
def test_bad_subtitles_are_refused_with_the_reason(name: str, content: bytes) -> None:
    resident = UserFactory()
    subtitles = SimpleUploadedFile(name, content)
    response = logged_in(resident).post(
        reverse("cms:submit-video"), video_form(subtitles=subtitles)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["subtitles"]
    assert not VideoSubmission.objects.filter(submitter=resident).exists()


def test_subtitles_over_the_size_limit_are_refused(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARILLON_SUBTITLES_MAX_BYTES = 20
    resident = UserFactory()
    subtitles = SimpleUploadedFile("a.srt", SRT)
    response = logged_in(resident).post(
        reverse("cms:submit-video"), video_form(subtitles=subtitles)
    )
    assert "subtitles" in response.context["form"].errors


def test_the_upload_page_configures_uppy_in_the_pages_language() -> None:
    resident = UserFactory()
    submission = video_of(resident)
    client = logged_in(resident)
    french = client.get(reverse("cms:submit-upload", kwargs={"pk": submission.pk}))
    assert french.status_code == 200
    page = text_of(french)
    assert f'data-submission="{submission.pk}"' in page
    assert 'data-endpoint="/api/v1/uploads/"' in page
    assert f'data-max-bytes="{settings.CARILLON_UPLOAD_MAX_BYTES}"' in page
    assert 'data-locale="fr"' in page
    assert "<script>" not in page  # the CSP allows no inline script
    assert "csrftoken" in french.cookies
    english_page = client.get(english("cms:submit-upload", pk=submission.pk))
    assert 'data-locale="en"' in text_of(english_page)


def test_the_upload_page_of_a_submission_that_takes_no_file_leads_to_its_page() -> None:
    resident = UserFactory()
    submission = video_of(resident, state=SubmissionState.AWAITING_REVIEW)
    response = logged_in(resident).get(reverse("cms:submit-upload", kwargs={"pk": submission.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("cms:my-video", kwargs={"pk": submission.pk})


# --- Submitting a post ------------------------------------------------------------------------


def test_a_posts_text_is_sanitised_and_it_goes_to_review() -> None:
    resident = UserFactory()
    body = (
        '<p onclick="steal()">Le <strong>vide-grenier</strong> <script>alert(1)</script>'
        '<a href="https://chartres.fr" onmouseover="x()">infos</a>'
        '<a href="javascript:alert(2)">piège</a><img src=x onerror="alert(3)"></p>'
    )
    data = {
        "title": "Vide-grenier",
        "body": body,
        "event_start": "2026-06-07T09:00",
        "event_place": "Place Billard",
    }
    response = logged_in(resident).post(reverse("cms:submit-post"), data)
    post = Post.objects.get(author=resident)
    assert response.status_code == 302
    assert response["Location"] == reverse("cms:my-post", kwargs={"pk": post.pk})
    assert post.state == SubmissionState.AWAITING_REVIEW
    assert "<script" not in post.body and "alert" not in post.body
    assert "onclick" not in post.body and "onmouseover" not in post.body and "<img" not in post.body
    assert "javascript:" not in post.body
    assert '<a href="https://chartres.fr" rel="noopener' in post.body
    assert "<strong>vide-grenier</strong>" in post.body
    assert post.event_start == dt.datetime(2026, 6, 7, 7, 0, tzinfo=dt.UTC)  # 09:00 in Paris
    assert post.event_place == "Place Billard"
    assert post.image == ""


def test_a_plain_text_post_becomes_paragraphs() -> None:
    resident = UserFactory()
    logged_in(resident).post(
        reverse("cms:submit-post"), {"title": "T", "body": "Un\n<em>deux</em>\n\n3 < 4 & cinq"}
    )
    assert (
        Post.objects.get(author=resident).body
        == "<p>Un<br><em>deux</em></p><p>3 &lt; 4 &amp; cinq</p>"
    )


def test_a_post_of_nothing_but_tags_is_refused() -> None:
    resident = UserFactory()
    response = logged_in(resident).post(
        reverse("cms:submit-post"), {"title": "T", "body": "<script>x</script><p> </p>"}
    )
    assert "body" in response.context["form"].errors
    assert not Post.objects.filter(author=resident).exists()


def test_a_posts_image_is_stored_privately_without_its_gps_position() -> None:
    resident = UserFactory()
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), content_type="image/jpeg")
    client = logged_in(resident)
    client.post(reverse("cms:submit-post"), {"title": "T", "body": "Texte", "image_file": photo})
    post = Post.objects.get(author=resident)
    assert post.image.startswith("posts/") and post.image.endswith(".jpg")
    assert "IMG_0001" not in post.image
    with storages["private"].open(post.image) as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert len(image.getexif()) == 0
    shown = client.get(reverse("cms:my-post-image", kwargs={"pk": post.pk}))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert b"Phone 15" not in b"".join(shown.streaming_content)  # type: ignore[attr-defined]


def test_an_image_over_the_limits_or_not_an_image_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    resident = UserFactory()
    client = logged_in(resident)
    big = io.BytesIO()
    Image.new("L", (8000, 6000)).save(big, format="PNG")  # 48 megapixels
    fake = b"<?php system($_GET['c']); ?>"
    for name, content in [("big.png", big.getvalue()), ("photo.jpg", fake)]:
        image = SimpleUploadedFile(name, content, content_type="image/jpeg")
        response = client.post(
            reverse("cms:submit-post"), {"title": "T", "body": "x", "image_file": image}
        )
        assert "image_file" in response.context["form"].errors, name
    settings.CARILLON_POST_IMAGE_MAX_BYTES = 100
    image = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(
        reverse("cms:submit-post"), {"title": "T", "body": "x", "image_file": image}
    )
    assert "image_file" in response.context["form"].errors
    assert not Post.objects.filter(author=resident).exists()
    assert not storages["private"].exists("posts") or not storages["private"].listdir("posts")[1]


# --- My submissions: each state in words ------------------------------------------------------


def my_page(user: User) -> str:
    return text_of(logged_in(user).get(english("cms:my-submissions")))


def test_each_state_is_shown_in_words() -> None:
    resident = UserFactory()
    now = timezone.now()
    video_of(resident, title="Sans fichier")
    received = video_of(resident, title="Reçue")
    Upload.objects.create(
        owner=resident,
        submission=received,
        length=10,
        offset=10,
        state=UploadState.COMPLETE,
        expires_at=now,
    )
    video_of(
        resident,
        state=SubmissionState.AWAITING_REVIEW,
        title="En cours",
        asset=AssetFactory(state="transcoding", progress_percent=42.0),
    )
    video_of(
        resident,
        state=SubmissionState.AWAITING_REVIEW,
        title="À revoir",
        asset=AssetFactory(state="ready"),
    )
    video_of(
        resident,
        state=SubmissionState.CHANGES_REQUESTED,
        title="À corriger",
        asset=AssetFactory(state="ready"),
        editor_comment="Coupez la fin, svp.",
    )
    video_of(
        resident,
        state=SubmissionState.REJECTED,
        title="Refusée",
        asset=AssetFactory(state="ready"),
        editor_comment="Musique sous droits.",
    )
    video_of(
        resident,
        state=SubmissionState.APPROVED,
        title="Acceptée",
        asset=AssetFactory(state="ready", approval="approved"),
    )
    post_of(resident, state=SubmissionState.CHANGES_REQUESTED, editor_comment="Ajoutez l'adresse.")
    page = my_page(resident)
    for words in [
        "Waiting for the file",
        "Received",
        "Processing",
        'value="42.0"',
        "Awaiting review",
        "Changes requested",
        "Coupez la fin, svp.",
        "Rejected",
        "Musique sous droits.",
        "Approved",
        "Ajoutez l&#x27;adresse.",
    ]:
        assert words in page, words


def test_an_approved_video_shows_its_next_airing_and_how_often_it_aired() -> None:
    resident = UserFactory()
    asset = AssetFactory(state="ready", approval="approved")
    video_of(resident, state=SubmissionState.APPROVED, asset=asset)
    assert "Approved" in my_page(resident)
    start = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
    for days in (1, 2):
        at = start - dt.timedelta(days=days)
        AsRunEntryFactory(asset=asset, actual_start=at, actual_end=at + dt.timedelta(minutes=3))
    page = my_page(resident)
    assert "Aired" in page and "Aired 2 times, last on Sunday 1 March 2026, 18:00" in page
    upcoming = timezone.now() + dt.timedelta(days=1)
    upcoming = upcoming.replace(hour=19, minute=30, second=0, microsecond=0)
    ScheduledItemFactory(asset=asset, start=upcoming, end=upcoming + dt.timedelta(minutes=3))
    page = my_page(resident)
    assert "Scheduled" in page
    local = timezone.localtime(upcoming)
    assert f"Next airing: {local:%A} {local.day} {local:%B %Y, %H:%M}" in page


def test_a_file_the_intake_refused_shows_the_reason_and_a_way_to_send_another() -> None:
    resident = UserFactory()
    submission = video_of(resident)
    Upload.objects.create(
        owner=resident, submission=submission, length=10, offset=10, state=UploadState.FAILED,
        failure="This file is not a video.", expires_at=timezone.now(),
    )  # fmt: skip
    client = logged_in(resident)
    page = text_of(client.get(english("cms:my-video", pk=submission.pk)))
    assert "The file could not be used" in page and "This file is not a video." in page
    assert reverse("cms:my-video-new-file", kwargs={"pk": submission.pk}).removeprefix("/") in page
    response = client.post(reverse("cms:my-video-new-file", kwargs={"pk": submission.pk}))
    assert response["Location"] == reverse("cms:submit-upload", kwargs={"pk": submission.pk})


def test_a_video_that_failed_in_processing_can_get_another_file() -> None:
    resident = UserFactory()
    asset = AssetFactory(state="failed", failure_code="too_slow")
    submission = video_of(resident, state=SubmissionState.AWAITING_REVIEW, asset=asset)
    client = logged_in(resident)
    page = text_of(client.get(english("cms:my-video", pk=submission.pk)))
    assert "The file could not be used" in page and "took too long" in page
    response = client.post(reverse("cms:my-video-new-file", kwargs={"pk": submission.pk}))
    assert response["Location"] == reverse("cms:submit-upload", kwargs={"pk": submission.pk})
    submission.refresh_from_db()
    assert submission.state == SubmissionState.AWAITING_UPLOAD
    assert client.get(reverse("cms:submit-upload", kwargs={"pk": submission.pk})).status_code == 200
    assert "Waiting for the file" in my_page(resident)


def test_a_video_whose_file_did_not_fail_cannot_be_reset() -> None:
    resident = UserFactory()
    submission = video_of(
        resident, state=SubmissionState.AWAITING_REVIEW, asset=AssetFactory(state="ready")
    )
    response = logged_in(resident).post(
        reverse("cms:my-video-new-file", kwargs={"pk": submission.pk})
    )
    assert response["Location"] == reverse("cms:my-video", kwargs={"pk": submission.pk})
    submission.refresh_from_db()
    assert submission.state == SubmissionState.AWAITING_REVIEW


def test_the_progress_endpoint_follows_the_processing() -> None:
    resident = UserFactory()
    asset = AssetFactory(state="transcoding", progress_percent=42.0)
    submission = video_of(resident, state=SubmissionState.AWAITING_REVIEW, asset=asset)
    client = logged_in(resident)
    url = english("cms:my-video-progress", pk=submission.pk)
    answer = json.loads(client.get(url).content)
    assert answer == {
        "status": "processing",
        "label": "Processing",
        "progress": 42.0,
        "moving": True,
    }
    Asset.objects.filter(pk=asset.pk).update(state="ready", progress_percent=100.0)
    answer = json.loads(client.get(url).content)
    assert (answer["status"], answer["moving"]) == ("awaiting_review", False)


# --- Fixing and resubmitting ------------------------------------------------------------------


def test_changes_requested_show_the_comment_and_a_resubmission_goes_back_to_review() -> None:
    resident = UserFactory()
    asset = AssetFactory(state="ready", title="Old")
    submission = video_of(
        resident, state=SubmissionState.CHANGES_REQUESTED, asset=asset, title="Old",
        editor_comment="Le titre est trop vague.",
    )  # fmt: skip
    client = logged_in(resident)
    url = reverse("cms:my-video", kwargs={"pk": submission.pk})
    page = text_of(client.get(url))
    assert "Le titre est trop vague." in page and 'name="title"' in page
    subtitles = SimpleUploadedFile("fix.srt", SRT)
    data = {
        "title": "Le marché de Chartres",
        "description": "Fixed",
        "category": "sport",
        "subtitles": subtitles,
    }
    response = client.post(url, data)
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.state == SubmissionState.AWAITING_REVIEW
    assert (submission.title, submission.category_id) == ("Le marché de Chartres", "sport")
    assert "Bonjour" in submission.subtitles_vtt
    asset.refresh_from_db()
    assert (asset.title, asset.description, asset.category_id) == (
        "Le marché de Chartres",
        "Fixed",
        "sport",
    )
    # Awaiting review now: no form any more, and a second post changes nothing.
    assert 'name="title"' not in text_of(client.get(url))
    client.post(url, {**data, "title": "Encore"})
    submission.refresh_from_db()
    assert submission.title == "Le marché de Chartres"


def test_a_post_with_changes_requested_is_fixed_and_resubmitted() -> None:
    resident = UserFactory()
    post = post_of(
        resident, state=SubmissionState.CHANGES_REQUESTED, editor_comment="Ajoutez le lieu."
    )
    client = logged_in(resident)
    url = reverse("cms:my-post", kwargs={"pk": post.pk})
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(
        url,
        {
            "title": "Vide-grenier",
            "body": "Dimanche <b onclick=x>9h</b>",
            "event_place": "Place Billard",
            "image_file": photo,
        },
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == SubmissionState.AWAITING_REVIEW
    assert post.event_place == "Place Billard" and "onclick" not in post.body
    assert post.image.startswith("posts/") and storages["private"].exists(post.image)


# --- The Uppy page in Chromium ----------------------------------------------------------------

# Playwright's init scripts run before the page's own and are not bound by its CSP: they
# record the violations the page would otherwise only print.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_upload_page_shows_uppy_in_french_without_errors(live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from playwright.sync_api import sync_playwright

    from tests.support import ROOT, launch_chromium

    bundle = ROOT / "static" / "build" / "residents" / "upload.js"
    assert bundle.exists(), "the upload bundle is missing: run `make bundle`"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    resident = UserFactory()
    submission = video_of(resident)
    session = logged_in(resident).cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="fr-FR"
            )  # a phone
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page = context.new_page()
            page.add_init_script(RECORD_CSP_VIOLATIONS)
            # The site has no favicon yet (not this page's business): its 404 is no error here.
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            response = page.goto(
                f"{live_server.url}{reverse('cms:submit-upload', kwargs={'pk': submission.pk})}"
            )
            assert response is not None and response.status == 200
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_selector(".uppy-Dashboard-inner", timeout=10_000)
            assert "Déposer les fichiers ici" in page.inner_text(".uppy-Dashboard")  # fr_FR
            assert page.get_attribute(".uppy-Dashboard-input", "accept") == "video/*"
            assert page.evaluate("window.carillonUpload.getState().meta.submission") == str(
                submission.pk
            )
            # A file that is not a video is refused by the restrictions, in French.
            page.set_input_files(
                ".uppy-Dashboard-input >> nth=0",
                files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}],
            )
            page.wait_for_selector(".uppy-Informer", timeout=5_000)
            assert page.evaluate("window.carillonUpload.getFiles().length") == 0
            page.screenshot(path=str(tmp_path / "upload-page-phone.png"), full_page=True)
            assert page.evaluate("window.cspViolations") == []
            assert problems == []
        finally:
            browser.close()
