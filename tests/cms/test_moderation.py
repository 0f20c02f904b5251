"""Editors moderate residents' videos and posts in the Wagtail admin, through the workflow
"Modération CMIN": each decision through the real admin views, its effects (state, the asset's
approval and public key, Wagtail's workflow, log entries), and the resident's e-mail."""

from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, TaskState, WorkflowState

from broadcasting.models import ApprovalState, Asset
from cms.models import ModerationTask, Post, Profile, SubmissionState, VideoSubmission
from cms.services.moderation import (
    ModerationError,
    post_review_start,
    video_submission_request_changes,
    video_submission_review_start,
)
from tests.factories import AssetFactory, EditorFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE_URL = "https://tv.example.org"
PUBLIC_PAGE = f"{BASE_URL}/mes-contributions/"


@pytest.fixture(autouse=True)
def _public_site(settings: Any) -> None:
    settings.CARILLON_BASE_URL = BASE_URL


@pytest.fixture
def resident() -> User:
    user = cast(User, UserFactory(email="habitante@example.org"))
    Profile.objects.create(user=user, display_name="Jeanne du Bourg")
    return user


@pytest.fixture
def editor() -> User:
    """A member of the group made by the data migration (not individual permissions)."""
    user = cast(User, UserFactory(is_staff=True))
    user.groups.add(Group.objects.get(name="Éditeurs CMIN"))
    return user


@pytest.fixture
def editor_client(client: Client, editor: User) -> Client:
    client.force_login(editor)
    return client


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Iterator[Callable[[], Any]]:
    """Run the after-commit callbacks (e-mails, publication) of what the test does."""
    yield lambda: django_capture_on_commit_callbacks(execute=True)


def make_video(resident: User, *, title: str = "La fête du quartier") -> VideoSubmission:
    """A submission whose READY video (no transcode needed) awaits review."""
    asset = AssetFactory(
        title=title,
        owner=resident,
        state="ready",
        segment_count=8,
        master_playlist="renditions/x/master.m3u8",
        duration=31.5,
        video_codec="h264",
        container="mov,mp4",
        loudness_before=-19.2,
        loudness_after=-23.0,
    )
    asset.master_playlist = f"renditions/{asset.pk}/master.m3u8"
    asset.poster = f"renditions/{asset.pk}/poster.jpg"
    asset.save()
    submission = VideoSubmission.objects.create(
        submitter=resident,
        asset=asset,
        title=title,
        category_id="culture",
        charter_version="2025-1",
        consented_at=timezone.now(),
    )
    return video_submission_review_start(submission=submission)


def make_post(resident: User, *, title: str = "Vide-grenier dimanche") -> Post:
    post = Post.objects.create(author=resident, title=title, body="<p>Place Billard.</p>")
    return post_review_start(post=post)


def action_url(item: VideoSubmission | Post, action: str) -> str:
    task_state = item.current_workflow_task_state
    assert task_state is not None
    name = f"wagtailsnippets_cms_{item._meta.model_name}:workflow_action"
    return reverse(name, args=[item.pk, action, task_state.pk])


def fresh(item: Any) -> Any:
    return type(item).objects.get(pk=item.pk)


def actions_logged(item: Any) -> list[str]:
    return list(
        ModelLogEntry.objects.for_instance(item)
        .order_by("timestamp")
        .values_list("action", flat=True)
    )


# --- Reviews -----------------------------------------------------------------------------------


def test_a_handed_over_video_waits_in_the_moderation_workflow(resident: User) -> None:
    submission = make_video(resident)
    assert submission.state == SubmissionState.AWAITING_REVIEW
    assert not fresh(submission).live  # a draft in Wagtail until approved
    workflow_state = submission.current_workflow_state
    assert workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    assert workflow_state.workflow.name == "Modération CMIN"
    assert workflow_state.requested_by == resident
    assert isinstance(submission.current_workflow_task, ModerationTask)
    assert "cms.moderation.review_start" in actions_logged(submission)


def test_starting_the_same_review_twice_changes_nothing(resident: User) -> None:
    submission = make_video(resident)
    first = submission.current_workflow_state.pk
    video_submission_review_start(submission=fresh(submission))
    assert WorkflowState.objects.for_instance(submission).count() == 1
    assert fresh(submission).current_workflow_state.pk == first


# --- Decisions through the admin ---------------------------------------------------------------


def test_editor_approves_and_the_asset_is_approved_and_public(
    resident: User, editor: User, editor_client: Client, on_commit: Any
) -> None:
    submission = make_video(resident)
    with on_commit():
        response = editor_client.post(action_url(submission, "approve"))
    assert response.status_code == 302
    submission = fresh(submission)
    assert submission.state == SubmissionState.APPROVED
    assert submission.decided_by == editor
    assert submission.decided_at is not None
    assert submission.editor_comment == ""
    asset = Asset.objects.get(pk=submission.asset_id)
    assert asset.approval == ApprovalState.APPROVED
    assert asset.reviewed_by == editor
    assert asset.public_key
    assert WorkflowState.objects.for_instance(submission).get().status == "approved"
    assert submission.live
    assert {"wagtail.workflow.approve", "cms.moderation.approve"} <= set(actions_logged(submission))
    assert [message.to for message in mail.outbox] == [["habitante@example.org"]]
    assert "approuvée" in mail.outbox[0].subject


def test_approve_with_comment_keeps_the_comment_for_the_resident(
    resident: User, editor_client: Client, on_commit: Any
) -> None:
    submission = make_video(resident)
    with on_commit():
        editor_client.post(action_url(submission, "approve"), {"comment": "Bravo pour le son !"})
    assert fresh(submission).editor_comment == "Bravo pour le son !"
    entry = ModelLogEntry.objects.for_instance(submission).get(action="cms.moderation.approve")
    assert entry.data["comment"] == "Bravo pour le son !"
    assert "Bravo pour le son !" in mail.outbox[0].body


def test_request_changes_needs_a_comment(
    resident: User, editor: User, editor_client: Client, on_commit: Any
) -> None:
    submission = make_video(resident)
    url = action_url(submission, "request_changes")
    with on_commit():
        editor_client.post(url, {"comment": "  "})
    assert fresh(submission).state == SubmissionState.AWAITING_REVIEW
    assert mail.outbox == []
    with on_commit():
        editor_client.post(url, {"comment": "Le début est flou, coupez les 5 premières secondes."})
    submission = fresh(submission)
    assert submission.state == SubmissionState.CHANGES_REQUESTED
    assert submission.editor_comment.startswith("Le début est flou")
    assert submission.decided_by == editor
    assert submission.current_workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES
    assert Asset.objects.get(pk=submission.asset_id).approval == ApprovalState.PENDING
    assert "cms.moderation.request_changes" in actions_logged(submission)
    assert len(mail.outbox) == 1  # ours only: Wagtail's own e-mail would link into the admin
    assert "coupez les 5 premières secondes" in mail.outbox[0].body


def test_reject_needs_a_reason_and_is_final(
    resident: User, editor: User, editor_client: Client, on_commit: Any
) -> None:
    submission = make_video(resident)
    url = action_url(submission, "reject")
    with on_commit():
        editor_client.post(url, {"comment": ""})
    assert fresh(submission).state == SubmissionState.AWAITING_REVIEW
    with on_commit():
        editor_client.post(url, {"comment": "Contenu publicitaire."})
    submission = fresh(submission)
    assert submission.state == SubmissionState.REJECTED
    assert submission.editor_comment == "Contenu publicitaire."
    asset = Asset.objects.get(pk=submission.asset_id)
    assert asset.approval == ApprovalState.REJECTED
    assert asset.rejection_reason == "Contenu publicitaire."
    assert asset.public_key is None
    assert submission.current_workflow_state is None  # closed, never resumed
    assert WorkflowState.objects.for_instance(submission).get().status == "cancelled"
    assert "cms.moderation.reject" in actions_logged(submission)
    assert "Contenu publicitaire." in mail.outbox[0].body
    with pytest.raises(ModerationError):
        video_submission_review_start(submission=submission)


def test_a_resubmission_after_changes_requested_starts_a_new_review(
    resident: User, editor: User, editor_client: Client
) -> None:
    submission = make_video(resident)
    first = submission.current_workflow_state
    video_submission_request_changes(submission=submission, editor=editor, comment="Son trop bas.")
    video_submission_review_start(submission=fresh(submission))  # the resident sent it again
    submission = fresh(submission)
    second = submission.current_workflow_state
    assert second.pk != first.pk
    assert second.status == WorkflowState.STATUS_IN_PROGRESS
    assert WorkflowState.objects.get(pk=first.pk).status == "cancelled"
    assert submission.state == SubmissionState.AWAITING_REVIEW
    editor_client.post(action_url(submission, "approve"))
    assert fresh(submission).state == SubmissionState.APPROVED


def test_a_review_is_decided_once(resident: User, editor: User, editor_client: Client) -> None:
    submission = make_video(resident)
    url = action_url(submission, "approve")
    editor_client.post(url)
    with pytest.raises(ModerationError):
        video_submission_request_changes(submission=fresh(submission), editor=editor, comment="Non")
    assert fresh(submission).state == SubmissionState.APPROVED


def test_editor_approves_a_post(
    resident: User, editor: User, editor_client: Client, on_commit: Any
) -> None:
    post = make_post(resident)
    with on_commit():
        editor_client.post(action_url(post, "approve"))
    post = fresh(post)
    assert post.state == SubmissionState.APPROVED
    assert post.decided_by == editor
    assert "cms.moderation.approve" in actions_logged(post)
    assert "Vide-grenier dimanche" in mail.outbox[0].subject


# --- Who may decide ----------------------------------------------------------------------------


def test_a_resident_cannot_decide(resident: User, client: Client) -> None:
    submission = make_video(resident)
    client.force_login(resident)
    response = client.post(action_url(submission, "approve"))
    assert response.status_code in (302, 403)
    assert fresh(submission).state == SubmissionState.AWAITING_REVIEW
    assert Asset.objects.get(pk=submission.asset_id).approval == ApprovalState.PENDING


def test_an_admin_user_of_another_group_cannot_decide(resident: User, client: Client) -> None:
    other = UserFactory(is_staff=True)
    group = Group.objects.create(name="Programmation")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_videosubmission"),
        Permission.objects.get(codename="view_videosubmission"),
    )
    other.groups.add(group)
    submission = make_video(resident)
    client.force_login(other)
    response = client.post(action_url(submission, "reject"), {"comment": "Non."})
    assert response.status_code in (302, 403)
    assert fresh(submission).state == SubmissionState.AWAITING_REVIEW
    assert client.get("/admin/moderation/").status_code in (302, 403)


# --- The resident's e-mails ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "comment", "words"),
    [
        ("approve", "", "approuvé"),
        ("request_changes", "Ajoutez un titre.", "Ajoutez un titre."),
        ("reject", "Hors charte.", "Hors charte."),
    ],
)
def test_emails_link_to_the_public_site_never_the_admin(
    resident: User, editor_client: Client, on_commit: Any, action: str, comment: str, words: str
) -> None:
    submission = make_video(resident)
    with on_commit():
        editor_client.post(action_url(submission, action), {"comment": comment})
    (message,) = mail.outbox
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert isinstance(html, str)
    for text in (message.body, html):
        assert PUBLIC_PAGE in text
        assert "/admin" not in text
        assert words in text
    assert "Bonjour" in message.body  # French


# --- The queue and the video's page --------------------------------------------------------------


def test_the_queue_lists_what_awaits_review_with_the_residents_names(
    resident: User, editor_client: Client
) -> None:
    video = make_video(resident, title="Concert au kiosque")
    make_post(resident, title="Marché de Noël")
    decided = make_video(resident, title="Déjà vue")
    decided.state = SubmissionState.APPROVED
    decided.save()
    html = editor_client.get("/admin/moderation/").content.decode()
    assert "Concert au kiosque" in html
    assert "Marché de Noël" in html
    assert "Déjà vue" not in html
    assert "Jeanne du Bourg" in html
    assert f'value="video:{video.pk}"' in html
    videos_only = editor_client.get("/admin/moderation/?kind=video").content.decode()
    assert "Marché de Noël" not in videos_only
    other_category = editor_client.get("/admin/moderation/?category=sport").content.decode()
    assert "Concert au kiosque" not in other_category
    everything = editor_client.get("/admin/moderation/?state=all").content.decode()
    assert "Déjà vue" in everything


def test_bulk_reject_needs_a_reason_then_decides_each_item(
    resident: User, editor: User, editor_client: Client, on_commit: Any
) -> None:
    video = make_video(resident)
    post = make_post(resident)
    items = [f"video:{video.pk}", f"post:{post.pk}"]
    editor_client.post("/admin/moderation/bulk/", {"items": items, "decision": "reject"})
    assert fresh(video).state == SubmissionState.AWAITING_REVIEW
    with on_commit():
        response = editor_client.post(
            "/admin/moderation/bulk/",
            {"items": items, "decision": "reject", "comment": "Doublon."},
        )
    assert response.status_code == 302
    assert fresh(video).state == SubmissionState.REJECTED
    assert fresh(post).state == SubmissionState.REJECTED
    assert Asset.objects.get(pk=video.asset_id).approval == ApprovalState.REJECTED
    assert len(mail.outbox) == 2


def test_bulk_approve(resident: User, editor_client: Client) -> None:
    videos = [make_video(resident, title=f"Vidéo {n}") for n in range(3)]
    items = [f"video:{video.pk}" for video in videos]
    editor_client.post("/admin/moderation/bulk/", {"items": items, "decision": "approve"})
    assert {fresh(video).state for video in videos} == {SubmissionState.APPROVED}


def test_bulk_actions_are_refused_to_residents(resident: User, client: Client) -> None:
    video = make_video(resident)
    client.force_login(resident)
    client.post("/admin/moderation/bulk/", {"items": [f"video:{video.pk}"], "decision": "approve"})
    assert fresh(video).state == SubmissionState.AWAITING_REVIEW


def test_the_video_page_plays_the_preview_with_its_facts(
    resident: User, editor_client: Client
) -> None:
    submission = make_video(resident)
    url = reverse("wagtailsnippets_cms_videosubmission:edit", args=[submission.pk])
    response = editor_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    asset_id = submission.asset_id
    assert f"/previews/videos/{asset_id}/master.m3u8" in html
    assert f"/previews/videos/{asset_id}/poster.jpg" in html
    assert "vendor/hls/hls.min.js" in html
    assert "Jeanne du Bourg" in html
    assert "31,5 s" in html  # duration, French format
    assert "-19,2 LUFS" in html
    for label in ("Approuver", "Demander des modifications", "Rejeter"):
        assert label in html
    assert 'name="action-publish"' not in html  # decided through the review only


def test_an_editor_made_by_the_factory_can_decide(resident: User, client: Client) -> None:
    """The one editor check (``moderate_asset``) is what counts, not the group's other rights."""
    client.force_login(EditorFactory())
    submission = make_video(resident)
    client.post(action_url(submission, "approve"))
    assert fresh(submission).state == SubmissionState.APPROVED
    assert TaskState.objects.filter(status="approved").count() == 1


def test_the_lists_and_the_post_page_open_for_editors(
    resident: User, editor_client: Client
) -> None:
    post = make_post(resident)
    make_video(resident)
    for name in ("videosubmission", "post"):
        listing = editor_client.get(reverse(f"wagtailsnippets_cms_{name}:list"))
        assert listing.status_code == 200
        assert "Jeanne du Bourg" in listing.content.decode()
    page = editor_client.get(reverse("wagtailsnippets_cms_post:edit", args=[post.pk]))
    assert page.status_code == 200
    assert "Place Billard." in page.content.decode()
