"""The editors' upload of the city's own videos in the Wagtail admin (``cms.admin_uploads``):
who may open the page, what it offers, a real tus upload (tuspy, then Uppy in Chromium) that
becomes a city asset of the chosen kind and category, approved by the editor who sent it."""

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import translation
from tusclient.client import TusClient

from broadcasting.models import ApprovalState, Asset, AssetOrigin, Category, ProcessingState
from cms.models import Upload, UploadState
from cms.services.uploads import upload_append, upload_create, upload_hand_over
from tests.broadcasting import clips
from tests.cms.test_uploads import session_headers
from tests.factories import EditorFactory, UserFactory

LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)
KIB = 1024


@pytest.fixture(autouse=True)
def _live_hosts(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]


def page_url() -> str:
    return reverse("city_upload:index")


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hand_over_the_only_upload(capture: Any) -> Asset:
    """Run the hand-over service (the worker's task) on the one upload, and give its asset."""
    upload = Upload.objects.get()
    assert upload.state == UploadState.COMPLETE
    with capture(execute=True):
        upload = upload_hand_over(upload=upload)
    assert upload.state == UploadState.HANDED_OVER, upload.failure
    return Asset.objects.get()


# --- The page ------------------------------------------------------------------------------------


def test_the_page_lives_under_the_moderation_urls() -> None:
    assert page_url() == "/admin/moderation/city-upload/"


@pytest.mark.django_db
def test_anonymous_visitors_residents_and_staff_who_are_not_editors_are_refused() -> None:
    anonymous = Client().get(page_url())
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]

    resident = logged_in(UserFactory()).get(page_url())
    assert resident.status_code == 302 and resident["Location"] != page_url()

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="access_admin"))
    refused = logged_in(staff).get(page_url())
    assert refused.status_code == 302 and refused["Location"] == reverse("wagtailadmin_home")
    home = logged_in(staff).get(reverse("wagtailadmin_home"))
    assert home.status_code == 200 and page_url() not in home.content.decode()


@pytest.mark.django_db
def test_editors_see_the_menu_item_the_kinds_and_the_active_categories() -> None:
    Category.objects.create(slug="retired", name="Rubrique retirée", active=False)
    Category.objects.filter(slug="sport").update(name="Sports de Chartres")
    editor = logged_in(EditorFactory())

    assert page_url() in editor.get(reverse("wagtailadmin_home")).content.decode()
    response = editor.get(page_url())

    assert response.status_code == 200
    form = response.context["form"]
    assert [value for value, _label in form.fields["kind"].choices] == [
        "programme",
        "filler",
        "ident",
    ]
    categories = [value for value, _label in form.fields["category"].choices]
    assert "sport" in categories and "culture" in categories and "retired" not in categories
    html = response.content.decode()
    for kind in ("programme", "filler", "ident"):
        assert f'value="{kind}"' in html
    assert "Sports de Chartres" in html and "Rubrique retirée" not in html
    assert 'data-form="city-upload-form"' in html and 'id="city-upload-form"' in html
    assert f'data-endpoint="{reverse("uploads:uploads")}"' in html
    assert f'data-done-url="{reverse("videos:index")}"' in html
    assert "data-submission" not in html
    assert "build/residents/upload.js" in html
    assert django_settings.CSRF_COOKIE_NAME in response.cookies  # Uppy reads the token from it


# --- The upload becomes the city's approved video -------------------------------------------------


@LIVE
def test_a_tus_upload_by_an_editor_becomes_an_approved_city_asset_of_its_kind_and_category(
    live_server: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    clip = clips.mono(tmp_path, seconds=1.0)
    editor = EditorFactory(username="editrice")
    client = TusClient(f"{live_server.url}/api/v1/uploads/", headers=session_headers(editor))
    metadata = {
        "filename": "bouche-trou.mp4",
        "title": "Les jardins de l'évêché",
        "description": "Entre deux émissions.",
        "kind": "filler",
        "category": "sport",
    }
    client.uploader(file_path=str(clip), chunk_size=64 * KIB, metadata=metadata).upload()

    asset = hand_over_the_only_upload(django_capture_on_commit_callbacks)

    assert (asset.origin, asset.kind, asset.category_id) == (AssetOrigin.CITY, "filler", "sport")
    assert (asset.title, asset.description) == (metadata["title"], metadata["description"])
    assert asset.owner == editor and asset.original_filename == "bouche-trou.mp4"
    assert (asset.approval, asset.reviewed_by) == (ApprovalState.APPROVED, editor)
    assert asset.state == ProcessingState.UPLOADED and asset.jobs.count() == 1
    assert asset.public_key is None  # published only once transcoded


@pytest.mark.django_db
def test_a_sender_who_is_no_longer_an_editor_leaves_the_city_video_awaiting_review(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    clip = clips.mono(tmp_path, seconds=1.0)
    editor = EditorFactory()
    data = clip.read_bytes()
    meta = {"filename": "ident.mp4", "title": "Indicatif", "kind": "ident", "category": "culture"}
    upload = upload_create(owner=editor, length=len(data), metadata=meta)
    upload_append(upload=upload, offset=0, pieces=[data])
    editor.user_permissions.remove(Permission.objects.get(codename="moderate_asset"))

    asset = hand_over_the_only_upload(django_capture_on_commit_callbacks)

    assert (asset.origin, asset.kind) == (AssetOrigin.CITY, "ident")
    assert (asset.approval, asset.reviewed_by) == (ApprovalState.PENDING, None)


# --- The page in Chromium ------------------------------------------------------------------------


@pytest.mark.slow
@LIVE
def test_an_editor_sends_a_clip_through_uppy_with_the_forms_metadata(
    live_server: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.support import ROOT, launch_chromium

    bundle = ROOT / "static" / "build" / "residents" / "upload.js"
    assert bundle.exists(), "the upload bundle is missing: run `make bundle`"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Wagtail's avatars come from gravatar.com over http, which the admin's CSP blocks on
    # every admin page (an error of the admin's, not of this page): no avatars here.
    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = None
    clip = clips.mono(tmp_path, seconds=1.0)
    editor = EditorFactory(username="editeur")
    session = logged_in(editor).cookies[django_settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(locale="fr-FR")
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": session,
                        "url": live_server.url,
                    }
                ]
            )
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            response = page.goto(f"{live_server.url}{page_url()}")
            assert response is not None and response.status == 200
            page.wait_for_selector(".uppy-Dashboard-inner", timeout=10_000)
            assert page.get_attribute(".uppy-Dashboard-input", "accept") == "video/*"
            with translation.override("fr"):
                assert "Déposer les fichiers ici" in page.inner_text(".uppy-Dashboard")

            page.fill("#id_title", "Vœux du maire")
            page.select_option("#id_kind", "ident")
            page.select_option("#id_category", "culture")
            meta = page.evaluate("window.carillonUpload.getState().meta")
            assert (meta["title"], meta["kind"], meta["category"]) == (
                "Vœux du maire",
                "ident",
                "culture",
            )
            assert "submission" not in meta and "csrfmiddlewaretoken" not in meta
            page.set_input_files(".uppy-Dashboard-input >> nth=0", files=[str(clip)])
            page.click(".uppy-StatusBar-actionBtn--upload")
            page.wait_for_url(f"**{reverse('videos:index')}", timeout=20_000)
            page.screenshot(path=str(tmp_path / "city-upload-done.png"), full_page=True)
            assert problems == []
        finally:
            browser.close()

    asset = hand_over_the_only_upload(django_capture_on_commit_callbacks)
    assert (asset.title, asset.kind, asset.category_id) == ("Vœux du maire", "ident", "culture")
    assert (asset.origin, asset.approval, asset.reviewed_by) == (
        AssetOrigin.CITY,
        ApprovalState.APPROVED,
        editor,
    )
    assert asset.original_filename == clip.name
