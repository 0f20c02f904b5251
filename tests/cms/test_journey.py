"""End to end, in headless Chromium, with a real Celery worker: a resident signs up, verifies
the e-mail, sends a generated clip through Uppy (tus) from a phone-sized window and follows its
progress; an editor logs in, previews it and asks for changes; the resident fixes and
resubmits; the editor approves; the resident sees "approved" and the video's page plays.

The editor decides through the admin's action menu (and its comment modal). A screenshot of
each step is kept under ``var/test-artefacts/journey/``.
"""

import os
import re
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail

from broadcasting.media.storage import public_storage
from broadcasting.models import ApprovalState, ProcessingState
from cms.demo import site_pages_ensure
from cms.models import HomePage, SubmissionState, VideoSubmission
from tests.broadcasting import clips
from tests.broadcasting.workers import Worker, purge_test_broker, wait_for
from tests.factories import UserFactory
from tests.support import ROOT, launch_chromium

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]

ARTEFACTS = ROOT / "var" / "test-artefacts" / "journey"
PASSWORD = "Carillon-chartres-2026"
PHONE = {"width": 390, "height": 844}


def shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def fresh(submission: VideoSubmission) -> VideoSubmission:
    return VideoSubmission.objects.select_related("asset").get(pk=submission.pk)


def decide(page: Any, base: str, submission: VideoSubmission, action: str, comment: str) -> None:
    """The editor's decision through the admin's action menu (its modal for a comment)."""
    page.goto(f"{base}/admin/moderation/videos/edit/{submission.pk}/")
    page.click("footer .w-dropdown__toggle")
    if comment:
        page.click(
            f'footer button[data-workflow-action-name="{action}"][data-workflow-action-modal-url]'
        )
        page.wait_for_selector('.modal textarea[name="comment"]', timeout=10_000)
        page.fill('.modal textarea[name="comment"]', comment)
        page.click('.modal button[type="submit"]')
    else:
        page.click(
            f'footer button[data-workflow-action-name="{action}"]:not([data-workflow-action-modal-url])'
        )
    page.wait_for_load_state()
    wait_for(lambda: fresh(submission).current_workflow_task_state is None
             or fresh(submission).state != SubmissionState.AWAITING_REVIEW, timeout=20)  # fmt: skip


def log_in(page: Any, base: str, email: str, path: str = "/comptes/login/") -> None:
    page.goto(f"{base}{path}")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form[action*="login"] button[type="submit"]')
    page.wait_for_load_state()


@pytest.fixture
def journey_settings(settings, tmp_path: Path, small_ladder: None):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.broadcasting.delivery.test_tv"  # also serves public media
    settings.CARILLON_UPLOAD_DIR = tmp_path / "uploads"
    purge_test_broker()
    return settings


def test_a_residents_video_from_sign_up_to_its_page(
    live_server,  # type: ignore[no-untyped-def]
    journey_settings,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    base = live_server.url
    site_pages_ensure(home=HomePage.objects.get())
    editor = UserFactory(email="redaction@cmin.example.org", password=PASSWORD, is_staff=True)
    editor.groups.add(Group.objects.get(name="Éditeurs CMIN"))
    EmailAddress.objects.create(user=editor, email=editor.email, verified=True, primary=True)
    clip = clips.mono(tmp_path, seconds=3.0)
    worker = Worker(tmp_path / "worker.log", cached_encodes=True).start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                resident = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
                resident.route("**/favicon.ico", lambda route: route.fulfill(status=204))
                problems: list[str] = []
                resident.on("pageerror", lambda err: problems.append(str(err)))

                # Sign up, then verify the e-mail from its link, then log in.
                resident.goto(f"{base}/comptes/signup/")
                resident.fill('input[name="email"]', "camille@example.org")
                resident.fill('input[name="display_name"]', "Camille du quartier Saint-Brice")
                resident.fill('input[name="password1"]', PASSWORD)
                resident.fill('input[name="password2"]', PASSWORD)
                shot(resident, "01-sign-up")
                resident.click('form[action*="signup"] button[type="submit"]')
                resident.wait_for_load_state()
                link = re.search(
                    r"https?://[^/\s]+(/comptes/confirm-email/\S+)", mail.outbox[-1].body
                )
                assert link, mail.outbox[-1].body
                resident.goto(f"{base}{link.group(1)}")
                resident.click('main form button[type="submit"]')
                resident.wait_for_load_state()
                log_in(resident, base, "camille@example.org")
                shot(resident, "02-logged-in")

                # The video's facts and the consent, then the file through Uppy.
                resident.goto(f"{base}/soumettre/")
                resident.fill('input[name="title"]', "La fête de la Saint-Fiacre")
                resident.fill('textarea[name="description"]', "Le défilé rue du Bourg.")
                resident.check('input[name="consent"]')
                resident.click('form.resident-form button[type="submit"]')
                resident.wait_for_selector(".uppy-Dashboard-inner", timeout=15_000)
                submission = VideoSubmission.objects.get(title="La fête de la Saint-Fiacre")
                assert submission.state == SubmissionState.AWAITING_UPLOAD
                resident.set_input_files(".uppy-Dashboard-input >> nth=0", str(clip))
                resident.click(".uppy-StatusBar-actionBtn--upload")
                resident.wait_for_selector(".uppy-StatusBar.is-complete", timeout=60_000)
                shot(resident, "03-uploaded")

                # The resident follows it: processing, then awaiting review.
                wait_for(
                    lambda: (
                        fresh(submission).asset is not None
                        and fresh(submission).asset.state == ProcessingState.READY
                    ),  # type: ignore[union-attr]
                    timeout=180,
                )
                resident.goto(f"{base}/mes-contributions/")
                assert "En attente de relecture" in resident.content()
                shot(resident, "04-awaiting-review")

                # The editor logs in through the site's login, previews, asks for changes.
                editor_page = browser.new_context(locale="fr-FR").new_page()
                log_in(editor_page, base, editor.email, path="/admin/")
                editor_page.goto(f"{base}/admin/moderation/")
                assert "La fête de la Saint-Fiacre" in editor_page.content()
                assert "Camille du quartier Saint-Brice" in editor_page.content()
                shot(editor_page, "05-editor-queue")
                editor_page.click("text=La fête de la Saint-Fiacre")
                editor_page.wait_for_load_state()
                editor_page.wait_for_function(
                    "() => { const v = document.querySelector('video');"
                    " return v && v.readyState >= 1 }",
                    timeout=20_000,
                )  # the preview (hls.js over the editors' preview view) has loaded
                shot(editor_page, "06-editor-preview")
                decide(editor_page, base, submission, "request_changes", "Ajoutez le lieu.")
                assert fresh(submission).state == SubmissionState.CHANGES_REQUESTED

                # The resident reads the comment, fixes and resubmits.
                resident.goto(f"{base}/mes-contributions/video/{submission.pk}/")
                assert "Ajoutez le lieu." in resident.content()
                shot(resident, "07-changes-requested")
                resident.fill('textarea[name="description"]', "Le défilé rue du Bourg, à Chartres.")
                resident.click('form.resident-form button[type="submit"]')
                resident.wait_for_load_state()
                assert fresh(submission).state == SubmissionState.AWAITING_REVIEW

                # The editor approves; the video is published under its public key.
                decide(editor_page, base, submission, "approve", "")
                asset = fresh(submission).asset
                assert asset is not None and asset.approval == ApprovalState.APPROVED
                wait_for(
                    lambda: public_storage().exists(
                        f"v/{fresh(submission).asset.public_key}/master.m3u8"
                    ),  # type: ignore[union-attr]
                    timeout=60,
                )
                key = fresh(submission).asset.public_key  # type: ignore[union-attr]

                resident.goto(f"{base}/mes-contributions/")
                assert "Approuvée" in resident.content()
                shot(resident, "08-approved")
                resident.goto(f"{base}/videos/{key}/")
                assert "Le défilé rue du Bourg, à Chartres." in resident.content()
                resident.evaluate("document.getElementById('video-player').muted = true")
                resident.evaluate("document.getElementById('video-player').play()")
                resident.wait_for_function(
                    "() => document.getElementById('video-player').currentTime > 1",
                    timeout=30_000,
                )
                shot(resident, "09-video-page")
                assert problems == []
            finally:
                browser.close()
    finally:
        worker.stop()
