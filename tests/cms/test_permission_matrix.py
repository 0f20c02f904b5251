"""The permission matrix of the residents' and editors' features (issue 11, "Security"): who may
list, view, upload, edit, delete and decide on what, for every view and API a resident's item
passes through.

The columns are the five kinds of people who ask: an anonymous visitor, resident A (who owns
every pending item of the world below), resident B, an editor (a member of the group "Éditeurs
CMIN", not staff, not superuser) and an administrator (a superuser). The rows are a request
each, against one world (``world`` below), built once per row; each cell runs in a savepoint
rolled back after it, so every cell starts from the same world: A's video awaiting review
(a READY pending asset whose renditions are in private storage), A's post awaiting review (with
its image), A's submission waiting for its file with an upload in progress, A's video and post
sent back for changes, and an approved, public video and post.

``MATRIX`` is the table a reviewer reads; ``REQUESTS`` says what each row sends and what an
allowed answer holds. In every cell that is not allowed, nothing of A's pending items is in
the answer, and what the request would change (the row's ``effect``: a state, an approval, an
offset...) is unchanged; in every cell where it is carried out, it changed.

The admin's "publish", "cancel the review" and "unpublish" rows were holes when this matrix was
written: Wagtail carried them out for editors and administrators although the buttons were
hidden, publishing or ending a review outside a decision (``cms/wagtail_hooks.py`` now refuses
them). CSRF is checked apart, with a client that enforces it.
"""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from PIL import Image
from wagtail.models import WorkflowState

from broadcasting.media.storage import asset_prefix, new_public_key, private_storage
from broadcasting.models import Asset
from cms import tus
from cms.demo import site_pages_ensure
from cms.models import HomePage, Post, Profile, SubmissionState, Upload, VideoSubmission
from cms.services.moderation import (
    post_request_changes,
    post_review_start,
    video_submission_request_changes,
    video_submission_review_start,
)
from cms.services.uploads import upload_create
from tests.factories import AssetFactory, ReadyAssetFactory, UserFactory

pytestmark = pytest.mark.django_db

ANONYMOUS, OWNER, OTHER, EDITOR, ADMIN = "anonymous", "resident A", "resident B", "editor", "admin"
ACTORS = (ANONYMOUS, OWNER, OTHER, EDITOR, ADMIN)

# What a cell expects.
OK = "ok"  # 200, with what the row shows (A's item, its bytes...)
SHOWN = "shown"  # a list (200) that shows A's items
HIDDEN = "hidden"  # a list (200) with nothing of A's pending items
DONE = "done"  # the action is carried out: the row's answer, and its effect happened
LOGIN = "login"  # 302 to the sign-in page, back here after it
UNAUTHORIZED = "401"  # the tus API's answer to a visitor who is not signed in
FORBIDDEN = "403"
NOT_FOUND = "404"
ADMIN_REFUSED = "refused"  # Wagtail's refusal: 302 to the admin's dashboard, "no permission"
SIGN_IN = "/comptes/login/?next="

# fmt: off
MATRIX: list[tuple[str, str, str, str, str, str, str]] = [
    # row                                             action     anonymous      resident A     resident B     editor         admin
    # --- Residents' pages (cms/urls_residents.py): A's items only, anyone else's are 404 ---
    ("GET my submissions",                             "list",    LOGIN,         SHOWN,         HIDDEN,        HIDDEN,        HIDDEN),
    ("GET my video (awaiting review)",                 "view",    LOGIN,         OK,            NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET my video's progress JSON",                   "view",    LOGIN,         OK,            NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET my post (awaiting review)",                  "view",    LOGIN,         OK,            NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET my post's image",                            "view",    LOGIN,         OK,            NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET the upload page of my open submission",      "upload",  LOGIN,         OK,            NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("POST ask to send another file",                  "upload",  LOGIN,         DONE,          NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("POST fix and resubmit my video",                 "edit",    LOGIN,         DONE,          NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("POST fix and resubmit my post",                  "edit",    LOGIN,         DONE,          NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("POST submit a video (one's own, new)",           "upload",  LOGIN,         DONE,          DONE,          DONE,          DONE),
    ("POST submit a post (one's own, new)",            "upload",  LOGIN,         DONE,          DONE,          DONE,          DONE),
    # --- The tus API (cms/urls_uploads.py): the upload's owner only; creating one for someone
    #     else's submission is 403, the same as for a submission that does not exist ---
    ("tus POST create for A's open submission",        "upload",  UNAUTHORIZED,  DONE,          FORBIDDEN,     FORBIDDEN,     FORBIDDEN),
    ("tus HEAD A's upload",                            "view",    UNAUTHORIZED,  OK,            NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("tus PATCH A's upload",                           "upload",  UNAUTHORIZED,  DONE,          NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("tus DELETE A's upload",                          "delete",  UNAUTHORIZED,  DONE,          NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    # --- Previews of private renditions (broadcasting/delivery/previews.py): sender and editors;
    #     403 for anyone else, the same for an id that does not exist (see the test at the end) ---
    ("GET preview master playlist of A's video",       "view",    LOGIN,         OK,            FORBIDDEN,     OK,            OK),
    ("GET preview segment of A's video",               "view",    LOGIN,         OK,            FORBIDDEN,     OK,            OK),
    ("GET preview poster of A's video",                "view",    LOGIN,         OK,            FORBIDDEN,     OK,            OK),
    # --- The public site: pending items are 404 for everyone, their sender included ---
    ("GET public page of A's pending video (key)",     "view",    NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET public page of A's pending video (id)",      "view",    NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET public subtitles of A's pending video",      "view",    NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET public page of A's pending post",            "view",    NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET public image of A's pending post",           "view",    NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND,     NOT_FOUND),
    ("GET public list of videos",                      "list",    OK,            OK,            OK,            OK,            OK),
    ("GET public list of posts",                       "list",    OK,            OK,            OK,            OK,            OK),
    ("GET public page of the approved video",          "view",    OK,            OK,            OK,            OK,            OK),
    ("GET public subtitles of the approved video",     "view",    OK,            OK,            OK,            OK,            OK),
    ("GET public page of the approved post",           "view",    OK,            OK,            OK,            OK,            OK),
    ("GET public image of the approved post",          "view",    OK,            OK,            OK,            OK,            OK),
    ("GET my profile",                                 "view",    LOGIN,         OK,            OK,            OK,            OK),
    # --- Moderation in the Wagtail admin (cms/wagtail_hooks.py): editors and administrators ---
    ("GET admin moderation queue",                     "list",    LOGIN,         LOGIN,         LOGIN,         SHOWN,         SHOWN),
    ("GET admin list of video submissions",            "list",    LOGIN,         LOGIN,         LOGIN,         SHOWN,         SHOWN),
    ("GET admin list of posts",                        "list",    LOGIN,         LOGIN,         LOGIN,         SHOWN,         SHOWN),
    ("GET admin chooser of video submissions",         "list",    LOGIN,         LOGIN,         LOGIN,         SHOWN,         SHOWN),
    ("GET admin page of A's video submission",         "view",    LOGIN,         LOGIN,         LOGIN,         OK,            OK),
    ("GET admin page of A's post",                     "view",    LOGIN,         LOGIN,         LOGIN,         OK,            OK),
    ("POST admin edit of A's video submission",        "edit",    LOGIN,         LOGIN,         LOGIN,         DONE,          DONE),
    ("POST admin publish of A's video submission",     "approve", LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, ADMIN_REFUSED),
    ("POST admin cancel of A's post's review",         "approve", LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, ADMIN_REFUSED),
    ("POST admin unpublish of the approved video",     "edit",    LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, ADMIN_REFUSED),
    ("POST admin copy of A's video submission",        "upload",  LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, ADMIN_REFUSED),
    ("POST admin delete of A's video submission",      "delete",  LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, DONE),
    ("POST admin delete of A's post",                  "delete",  LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, DONE),
    ("POST workflow approve A's video",                "approve", LOGIN,         LOGIN,         LOGIN,         DONE,          DONE),
    ("POST workflow reject A's video",                 "approve", LOGIN,         LOGIN,         LOGIN,         DONE,          DONE),
    ("POST workflow request changes on A's post",      "approve", LOGIN,         LOGIN,         LOGIN,         DONE,          DONE),
    ("POST bulk approve A's video and post",           "approve", LOGIN,         LOGIN,         LOGIN,         DONE,          DONE),
    ("POST bulk reject A's video and post",            "approve", LOGIN,         LOGIN,         LOGIN,         DONE,          DONE),
    # --- The video library (broadcasting/wagtail_hooks.py) and programming (playlists) ---
    ("GET admin video library",                        "list",    LOGIN,         LOGIN,         LOGIN,         SHOWN,         SHOWN),
    ("GET admin inspect A's pending asset",            "view",    LOGIN,         LOGIN,         LOGIN,         OK,            OK),
    ("GET admin edit page of A's pending asset",       "edit",    LOGIN,         LOGIN,         LOGIN,         OK,            OK),
    ("POST admin delete of A's pending asset",         "delete",  LOGIN,         LOGIN,         LOGIN,         ADMIN_REFUSED, DONE),
    ("GET admin programming week grid",                "list",    LOGIN,         LOGIN,         LOGIN,         OK,            OK),
    ("GET admin programming channels",                 "list",    LOGIN,         LOGIN,         LOGIN,         OK,            OK),
]
# fmt: on

PENDING_VIDEO = "Le lavoir de la rue aux Juifs"
PENDING_POST = "Brocante du Pilori samedi"
OPEN_VIDEO = "Les bords de la rivière Eure en kayak"
CHANGES_VIDEO = "Concert au kiosque du square"
CHANGES_POST = "Fête des voisins à Rechèvres"
APPROVED_VIDEO = "La cathédrale au lever du jour"
APPROVED_POST = "Vide-grenier rue de la Tannerie"
PENDING_TITLES = (PENDING_VIDEO, PENDING_POST, OPEN_VIDEO, CHANGES_VIDEO, CHANGES_POST)
SUBTITLES = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nSous-titre secret\n"
RENDITIONS = {
    "poster.jpg": b"\xff\xd8 the pending poster",
    "master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n",
    "360p/index.m3u8": b"#EXTM3U\nseg_00000.ts\n",
    "360p/seg_00000.ts": b"G" * 188,
}
UPLOAD_LENGTH = 1000
CHUNK = b"x" * 100


def jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "JPEG")
    return buffer.getvalue()


PENDING_IMAGE = jpeg("red")
APPROVED_IMAGE = jpeg("blue")


# --- The world -----------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    pending_video: VideoSubmission
    pending_post: Post
    open_video: VideoSubmission
    upload: Upload
    changes_video: VideoSubmission
    changes_post: Post
    approved_video: VideoSubmission
    approved_asset: Asset
    approved_post: Post
    secrets: list[bytes] = field(default_factory=list)

    @property
    def pending_asset(self) -> Asset:
        return cast(Asset, self.pending_video.asset)


def resident(display_name: str) -> User:
    user = cast(User, UserFactory())
    Profile.objects.create(user=user, display_name=display_name)
    return user


def ready_pending_asset(owner: User, title: str) -> Asset:
    """A transcoded video awaiting approval, its renditions in private storage."""
    asset = cast(Asset, AssetFactory(title=title, owner=owner, state="ready", segment_count=1))
    for name, data in RENDITIONS.items():
        private_storage().save(f"{asset_prefix(asset.pk)}/{name}", ContentFile(data))
    asset.poster = f"{asset_prefix(asset.pk)}/poster.jpg"
    asset.master_playlist = f"{asset_prefix(asset.pk)}/master.m3u8"
    asset.save()
    return asset


def video_of(owner: User, title: str, asset: Asset | None = None, **fields: Any) -> VideoSubmission:
    return VideoSubmission.objects.create(
        submitter=owner,
        asset=asset,
        title=title,
        category_id="culture",
        charter_version="2026-1",
        consented_at=timezone.now(),
        **fields,
    )


def post_of(author: User, title: str, image: bytes | None = None, **fields: Any) -> Post:
    name = f"posts/{get_random_string(12)}.jpg"  # the private storage overwrites names
    if image:
        storages["private"].save(name, ContentFile(image))
    return Post.objects.create(
        author=author,
        title=title,
        body="<p>Place du Pilori.</p>",
        image=name if image else "",
        **fields,
    )


def editor_of_the_group() -> User:
    user = cast(User, UserFactory())
    user.groups.add(Group.objects.get(name="Éditeurs CMIN"))
    return user


def build_world() -> World:
    owner, other = resident("Alice de la Madeleine"), resident("Bruno de Beaulieu")
    editor = editor_of_the_group()
    admin = cast(User, UserFactory(is_superuser=True, is_staff=True))
    pending_asset = ready_pending_asset(owner, PENDING_VIDEO)
    # A key alone never makes a video public (approval does): give the pending one a key, so
    # its public URLs are asked with a real key, not with "None".
    Asset.objects.filter(pk=pending_asset.pk).update(public_key=new_public_key())
    pending_asset.refresh_from_db()
    pending_video = video_of(owner, PENDING_VIDEO, pending_asset, subtitles_vtt=SUBTITLES)
    video_submission_review_start(submission=pending_video)
    pending_post = post_of(owner, PENDING_POST, PENDING_IMAGE)
    post_review_start(post=pending_post)
    open_video = video_of(owner, OPEN_VIDEO, state=SubmissionState.AWAITING_UPLOAD)
    upload = upload_create(
        owner=owner,
        length=UPLOAD_LENGTH,
        metadata={"filename": "kayak.mp4", "submission": str(open_video.pk)},
    )
    changes_video = video_of(owner, CHANGES_VIDEO, ready_pending_asset(owner, CHANGES_VIDEO))
    video_submission_review_start(submission=changes_video)
    video_submission_request_changes(submission=changes_video, editor=editor, comment="Le son.")
    changes_post = post_of(owner, CHANGES_POST)
    post_review_start(post=changes_post)
    post_request_changes(post=changes_post, editor=editor, comment="Ajoutez l'heure.")
    approved_asset = cast(Asset, ReadyAssetFactory(owner=owner, title=APPROVED_VIDEO))
    approved_video = video_of(
        owner,
        APPROVED_VIDEO,
        approved_asset,
        state=SubmissionState.APPROVED,
        subtitles_vtt="WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nBonjour\n",
    )
    approved_post = post_of(owner, APPROVED_POST, APPROVED_IMAGE, state=SubmissionState.APPROVED)
    return World(
        users={ANONYMOUS: None, OWNER: owner, OTHER: other, EDITOR: editor, ADMIN: admin},
        pending_video=VideoSubmission.objects.get(pk=pending_video.pk),
        pending_post=Post.objects.get(pk=pending_post.pk),
        open_video=open_video,
        upload=upload,
        changes_video=changes_video,
        changes_post=changes_post,
        approved_video=approved_video,
        approved_asset=approved_asset,
        approved_post=approved_post,
        secrets=[
            *(title.encode() for title in PENDING_TITLES),
            PENDING_IMAGE,
            *RENDITIONS.values(),
            b"Sous-titre secret",
        ],
    )


@pytest.fixture(autouse=True)
def _french() -> Iterator[None]:
    with translation.override("fr"):
        yield


@pytest.fixture
def world() -> World:
    site_pages_ensure(home=HomePage.objects.get())
    return build_world()


# --- What each row sends -------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    data: Any = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """A row: the request (``call``), the answer when it is allowed (``status``, and the start
    of ``location`` for a redirect), what an allowed answer holds (``shows``), and what the
    request changes (``effect``: read before and after; changed only when it is done). Nothing
    of A's pending items is in any answer, except the allowed answers of A, editors and
    administrators on a page that is not ``public``."""

    call: Callable[[World], Call]
    status: int = 200
    location: Callable[[World], str] | None = None
    shows: Callable[[World], list[bytes]] | None = None
    effect: Callable[[World], object] | None = None
    public: bool = False


def tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": tus.TUS_VERSION, **extra}


def upload_url(w: World) -> str:
    return reverse("uploads:upload", kwargs={"upload_id": w.upload.pk})


def workflow_url(item: VideoSubmission | Post, action: str) -> str:
    task_state = item.current_workflow_task_state
    assert task_state is not None
    name = f"wagtailsnippets_cms_{item._meta.model_name}:workflow_action"
    return reverse(name, args=[item.pk, action, task_state.pk])


def admin_url(item: VideoSubmission | Post, view: str) -> str:
    return reverse(f"wagtailsnippets_cms_{item._meta.model_name}:{view}", args=[item.pk])


def decision_of(item: VideoSubmission | Post) -> tuple[object, ...]:
    """What a decision changes: the state, the workflow's run and, for a video, its asset's
    approval and public key."""
    fresh = type(item).objects.get(pk=item.pk)
    workflow = WorkflowState.objects.for_instance(fresh).order_by("-pk").first()
    facts: tuple[object, ...] = (fresh.state, workflow.status if workflow else None)
    if isinstance(fresh, VideoSubmission):
        asset = Asset.objects.get(pk=fresh.asset_id)
        facts += (asset.approval, asset.public_key)
    return facts


def both_decisions(w: World) -> object:
    return decision_of(w.pending_video), decision_of(w.pending_post)


def exists(model: Any, pk: object) -> bool:
    return bool(model.objects.filter(pk=pk).exists())


def owned_counts() -> tuple[int, int]:
    return VideoSubmission.objects.count(), Post.objects.count()


def upload_facts(w: World) -> object:
    return Upload.objects.filter(pk=w.upload.pk).values_list("offset", "state").first()


def site(path: str) -> Callable[[World], Call]:
    return lambda w: Call("GET", path)


def public(path: Callable[[World], str], shows: Callable[[World], list[bytes]] | None) -> Request:
    return Request(call=lambda w: Call("GET", path(w)), shows=shows, public=True)


def get(path: Callable[[World], str]) -> Callable[[World], Call]:
    return lambda w: Call("GET", path(w))


def titles(*names: str) -> Callable[[World], list[bytes]]:
    return lambda w: [name.encode() for name in names]


def my(name: str, item: Callable[[World], Any]) -> Callable[[World], str]:
    return lambda w: reverse(f"cms:{name}", kwargs={"pk": item(w).pk})


REQUESTS: dict[str, Request] = {
    # Residents' pages
    "GET my submissions": Request(
        call=site(reverse("cms:my-submissions")), shows=titles(*PENDING_TITLES)
    ),
    "GET my video (awaiting review)": Request(
        call=get(my("my-video", lambda w: w.pending_video)), shows=titles(PENDING_VIDEO)
    ),
    "GET my video's progress JSON": Request(
        call=get(my("my-video-progress", lambda w: w.pending_video)),
        shows=lambda w: [b'"status": "awaiting_review"'],
    ),
    "GET my post (awaiting review)": Request(
        call=get(my("my-post", lambda w: w.pending_post)), shows=titles(PENDING_POST)
    ),
    "GET my post's image": Request(
        call=get(my("my-post-image", lambda w: w.pending_post)),
        shows=lambda w: [PENDING_IMAGE],
    ),
    "GET the upload page of my open submission": Request(
        call=get(my("submit-upload", lambda w: w.open_video)), shows=titles(OPEN_VIDEO)
    ),
    "POST ask to send another file": Request(
        call=lambda w: Call("POST", my("my-video-new-file", lambda w: w.open_video)(w)),
        status=302,
        location=my("submit-upload", lambda w: w.open_video),
    ),
    "POST fix and resubmit my video": Request(
        call=lambda w: Call(
            "POST",
            my("my-video", lambda w: w.changes_video)(w),
            {"title": "Concert corrigé", "description": "Son refait.", "category": "culture"},
        ),
        status=302,
        location=my("my-video", lambda w: w.changes_video),
        effect=lambda w: (
            decision_of(w.changes_video),
            VideoSubmission.objects.get(pk=w.changes_video.pk).title,
        ),
    ),
    "POST fix and resubmit my post": Request(
        call=lambda w: Call(
            "POST",
            my("my-post", lambda w: w.changes_post)(w),
            {"title": "Fête corrigée", "body": "<p>À 19 h.</p>"},
        ),
        status=302,
        location=my("my-post", lambda w: w.changes_post),
        effect=lambda w: (
            decision_of(w.changes_post),
            Post.objects.get(pk=w.changes_post.pk).title,
        ),
    ),
    "POST submit a video (one's own, new)": Request(
        call=lambda w: Call(
            "POST",
            reverse("cms:submit-video"),
            {"title": "Le marché", "category": "culture", "consent": "on"},
        ),
        status=302,
        location=lambda w: "/soumettre/",
        effect=lambda w: owned_counts(),
    ),
    "POST submit a post (one's own, new)": Request(
        call=lambda w: Call("POST", reverse("cms:submit-post"), {"title": "T", "body": "Texte"}),
        status=302,
        location=lambda w: "/mes-contributions/article/",
        effect=lambda w: owned_counts(),
    ),
    # The tus API
    "tus POST create for A's open submission": Request(
        call=lambda w: Call(
            "POST",
            reverse("uploads:uploads"),
            headers=tus_headers(
                Upload_Length="500",
                Upload_Metadata=tus.encode_metadata(
                    {"filename": "autre.mp4", "submission": str(w.open_video.pk)}
                ),
            ),
        ),
        status=201,
        effect=lambda w: Upload.objects.filter(submission=w.open_video).count(),
    ),
    "tus HEAD A's upload": Request(
        call=lambda w: Call("HEAD", upload_url(w), headers=tus_headers()),
    ),
    "tus PATCH A's upload": Request(
        call=lambda w: Call(
            "PATCH",
            upload_url(w),
            CHUNK,
            content_type=tus.OFFSET_CONTENT_TYPE,
            headers=tus_headers(Upload_Offset="0"),
        ),
        status=204,
        effect=upload_facts,
    ),
    "tus DELETE A's upload": Request(
        call=lambda w: Call("DELETE", upload_url(w), headers=tus_headers()),
        status=204,
        effect=upload_facts,
    ),
    # Previews
    "GET preview master playlist of A's video": Request(
        call=lambda w: Call("GET", f"/previews/videos/{w.pending_asset.pk}/master.m3u8"),
        shows=lambda w: [RENDITIONS["master.m3u8"]],
    ),
    "GET preview segment of A's video": Request(
        call=lambda w: Call("GET", f"/previews/videos/{w.pending_asset.pk}/360p/seg_00000.ts"),
        shows=lambda w: [RENDITIONS["360p/seg_00000.ts"]],
    ),
    "GET preview poster of A's video": Request(
        call=lambda w: Call("GET", f"/previews/videos/{w.pending_asset.pk}/poster.jpg"),
        shows=lambda w: [RENDITIONS["poster.jpg"]],
    ),
    # The public site
    "GET public page of A's pending video (key)": public(
        lambda w: f"/videos/{w.pending_asset.public_key}/", None
    ),
    "GET public page of A's pending video (id)": public(
        lambda w: f"/videos/{w.pending_asset.pk}/", None
    ),
    "GET public subtitles of A's pending video": public(
        lambda w: f"/sous-titres/{w.pending_asset.public_key}.vtt", None
    ),
    "GET public page of A's pending post": public(
        lambda w: f"/actualites/{w.pending_post.public_key}/", None
    ),
    "GET public image of A's pending post": public(
        lambda w: f"/images/publications/{w.pending_post.public_key}/", None
    ),
    "GET public list of videos": public(lambda w: "/videos/", titles(APPROVED_VIDEO)),
    "GET public list of posts": public(lambda w: "/actualites/", titles(APPROVED_POST)),
    "GET public page of the approved video": public(
        lambda w: f"/videos/{w.approved_asset.public_key}/", titles(APPROVED_VIDEO)
    ),
    "GET public subtitles of the approved video": public(
        lambda w: f"/sous-titres/{w.approved_asset.public_key}.vtt", lambda w: [b"WEBVTT"]
    ),
    "GET public page of the approved post": public(
        lambda w: f"/actualites/{w.approved_post.public_key}/", titles(APPROVED_POST)
    ),
    "GET public image of the approved post": public(
        lambda w: f"/images/publications/{w.approved_post.public_key}/",
        lambda w: [APPROVED_IMAGE],
    ),
    "GET my profile": Request(call=site(reverse("cms:profile"))),
    # Moderation in the admin
    "GET admin moderation queue": Request(
        call=site("/admin/moderation/"), shows=titles(PENDING_VIDEO, PENDING_POST)
    ),
    "GET admin list of video submissions": Request(
        call=site("/admin/moderation/videos/"), shows=titles(PENDING_VIDEO)
    ),
    "GET admin list of posts": Request(
        call=site("/admin/moderation/posts/"), shows=titles(PENDING_POST)
    ),
    "GET admin chooser of video submissions": Request(
        call=site("/admin/snippets/choose/cms/videosubmission/"), shows=titles(PENDING_VIDEO)
    ),
    "GET admin page of A's video submission": Request(
        call=get(lambda w: admin_url(w.pending_video, "edit")), shows=titles(PENDING_VIDEO)
    ),
    "GET admin page of A's post": Request(
        call=get(lambda w: admin_url(w.pending_post, "edit")), shows=titles(PENDING_POST)
    ),
    "POST admin edit of A's video submission": Request(
        call=lambda w: Call(
            "POST",
            admin_url(w.pending_video, "edit"),
            {"title": "Titre des éditeurs", "description": "", "category": "culture"},
        ),
        status=302,
        effect=lambda w: VideoSubmission.objects.get(pk=w.pending_video.pk).latest_revision_id,
    ),
    "POST admin publish of A's video submission": Request(
        call=lambda w: Call(
            "POST",
            admin_url(w.pending_video, "edit"),
            {
                "title": PENDING_VIDEO,
                "description": "",
                "category": "culture",
                "action-publish": "1",
            },
        ),
        status=302,
        effect=lambda w: (
            VideoSubmission.objects.get(pk=w.pending_video.pk).live,
            decision_of(w.pending_video),
        ),
    ),
    "POST admin cancel of A's post's review": Request(
        call=lambda w: Call(
            "POST",
            admin_url(w.pending_post, "edit"),
            {
                "title": PENDING_POST,
                "event_start": "",
                "event_place": "",
                "action-cancel-workflow": "1",
            },
        ),
        status=302,
        effect=lambda w: decision_of(w.pending_post),
    ),
    "POST admin unpublish of the approved video": Request(
        call=lambda w: Call("POST", admin_url(w.approved_video, "unpublish")),
        status=302,
        effect=lambda w: (
            VideoSubmission.objects.get(pk=w.approved_video.pk).live,
            decision_of(w.approved_video),
        ),
    ),
    "POST admin copy of A's video submission": Request(
        call=lambda w: Call(
            "POST",
            admin_url(w.pending_video, "copy"),
            {"title": "Copie", "description": "", "category": "culture"},
        ),
        status=302,
        effect=lambda w: owned_counts(),
    ),
    "POST admin delete of A's video submission": Request(
        call=lambda w: Call("POST", admin_url(w.pending_video, "delete")),
        status=302,
        effect=lambda w: exists(VideoSubmission, w.pending_video.pk),
    ),
    "POST admin delete of A's post": Request(
        call=lambda w: Call("POST", admin_url(w.pending_post, "delete")),
        status=302,
        effect=lambda w: exists(Post, w.pending_post.pk),
    ),
    "POST workflow approve A's video": Request(
        call=lambda w: Call("POST", workflow_url(w.pending_video, "approve")),
        status=302,
        effect=lambda w: decision_of(w.pending_video),
    ),
    "POST workflow reject A's video": Request(
        call=lambda w: Call(
            "POST", workflow_url(w.pending_video, "reject"), {"comment": "Hors charte."}
        ),
        status=302,
        effect=lambda w: decision_of(w.pending_video),
    ),
    "POST workflow request changes on A's post": Request(
        call=lambda w: Call(
            "POST", workflow_url(w.pending_post, "request_changes"), {"comment": "L'heure ?"}
        ),
        status=302,
        effect=lambda w: decision_of(w.pending_post),
    ),
    "POST bulk approve A's video and post": Request(
        call=lambda w: Call(
            "POST",
            "/admin/moderation/bulk/",
            {
                "items": [f"video:{w.pending_video.pk}", f"post:{w.pending_post.pk}"],
                "decision": "approve",
            },
        ),
        status=302,
        effect=both_decisions,
    ),
    "POST bulk reject A's video and post": Request(
        call=lambda w: Call(
            "POST",
            "/admin/moderation/bulk/",
            {
                "items": [f"video:{w.pending_video.pk}", f"post:{w.pending_post.pk}"],
                "decision": "reject",
                "comment": "Doublon.",
            },
        ),
        status=302,
        effect=both_decisions,
    ),
    # The video library and programming
    "GET admin video library": Request(call=site("/admin/videos/"), shows=titles(PENDING_VIDEO)),
    "GET admin inspect A's pending asset": Request(
        call=lambda w: Call("GET", f"/admin/videos/inspect/{w.pending_asset.pk}/"),
        shows=titles(PENDING_VIDEO),
    ),
    "GET admin edit page of A's pending asset": Request(
        call=lambda w: Call("GET", f"/admin/videos/edit/{w.pending_asset.pk}/"),
        shows=titles(PENDING_VIDEO),
    ),
    "POST admin delete of A's pending asset": Request(
        call=lambda w: Call("POST", f"/admin/videos/delete/{w.pending_asset.pk}/"),
        status=302,
        effect=lambda w: exists(Asset, w.pending_asset.pk),
    ),
    "GET admin programming week grid": Request(
        call=site("/admin/programming/carillon-chartres/week/")
    ),
    "GET admin programming channels": Request(call=site("/admin/programming/channels/")),
}


# --- The matrix ----------------------------------------------------------------------------------


def rows() -> list[Any]:
    return [
        pytest.param(row, dict(zip(ACTORS, outcomes, strict=True)), id=f"{action}: {row}")
        for row, action, *outcomes in MATRIX
    ]


def client_of(user: User | None, **options: Any) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def send(client: Client, call: Call) -> HttpResponseBase:
    extra: dict[str, Any] = {"headers": call.headers}
    if call.content_type is not None:
        extra["content_type"] = call.content_type
    handler = getattr(client, call.method.lower())
    if call.data is None:
        return cast(HttpResponseBase, handler(call.path, **extra))
    return cast(HttpResponseBase, handler(call.path, call.data, **extra))


def body_of(response: HttpResponseBase) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


def test_the_matrix_has_a_request_for_every_row_and_nothing_else() -> None:
    rows = [row for row, *_ in MATRIX]
    assert len(rows) == len(set(rows))
    assert set(rows) == set(REQUESTS)
    assert {action for _, action, *_ in MATRIX} == {
        "list",
        "view",
        "upload",
        "edit",
        "delete",
        "approve",
    }


@pytest.mark.parametrize(("row", "outcomes"), rows())
def test_permission_matrix(world: World, row: str, outcomes: dict[str, str]) -> None:
    """One row, each of its five cells in a savepoint rolled back after it: every cell starts
    from the same world (the world is built once per row: it is the slow part)."""
    wrong = []
    for actor, outcome in outcomes.items():
        with transaction.atomic():
            try:
                cell_check(world, REQUESTS[row], actor, outcome)
            except AssertionError as err:
                wrong.append(f"{actor} (expected {outcome}): {err}")
            transaction.set_rollback(True)
    assert not wrong, "\n".join(wrong)


def cell_check(world: World, request: Request, actor: str, outcome: str) -> None:
    call = request.call(world)
    before = request.effect(world) if request.effect else None
    response = send(client_of(world.users[actor]), call)
    body = body_of(response)
    after = request.effect(world) if request.effect else None
    if outcome in (OK, SHOWN):
        for text in request.shows(world) if request.shows else []:
            assert text in body, f"{text[:80]!r} is missing"
    if request.public or not (outcome in (OK, SHOWN, DONE) and actor in (OWNER, EDITOR, ADMIN)):
        leaked = [secret[:80] for secret in world.secrets if secret in body]
        assert leaked == [], f"A's pending items leak: {leaked}"
    if request.effect is not None and outcome == DONE:
        assert after != before, f"the action had no effect ({before})"
    elif request.effect is not None:
        assert after == before, f"a refused request changed {before} into {after}"
    answer_check(world, request, response, outcome, body)


def answer_check(
    world: World, request: Request, response: HttpResponseBase, outcome: str, body: bytes
) -> None:
    status = response.status_code
    if outcome == LOGIN:
        assert status == 302 and response["Location"].startswith(SIGN_IN), (status, body[:200])
    elif outcome == ADMIN_REFUSED:
        assert (status, response.get("Location")) == (302, "/admin/"), (status, body[:200])
    elif outcome in (OK, SHOWN, HIDDEN, DONE):
        assert status == request.status, (status, body[:200])
        if outcome == DONE and request.location is not None:
            assert response["Location"].startswith(request.location(world)), response["Location"]
    else:
        assert status == int(outcome), (status, body[:200])


# --- CSRF ----------------------------------------------------------------------------------------

CSRF_ROWS = [
    ("POST submit a video (one's own, new)", OWNER),
    ("POST submit a post (one's own, new)", OWNER),
    ("POST fix and resubmit my video", OWNER),
    ("POST fix and resubmit my post", OWNER),
    ("POST ask to send another file", OWNER),
    ("tus POST create for A's open submission", OWNER),
    ("tus PATCH A's upload", OWNER),
    ("tus DELETE A's upload", OWNER),
    ("POST workflow approve A's video", EDITOR),
    ("POST bulk approve A's video and post", EDITOR),
]


@pytest.mark.parametrize(("row", "actor"), CSRF_ROWS)
def test_writes_need_the_csrf_token(world: World, row: str, actor: str) -> None:
    """A browser's client (CSRF checks on) without the token is refused with 403 and changes
    nothing; the same request with the session's token is carried out."""
    request = REQUESTS[row]
    client = client_of(world.users[actor], enforce_csrf_checks=True)
    before = request.effect(world) if request.effect else None
    refused = send(client, request.call(world))
    assert refused.status_code == 403
    assert (request.effect(world) if request.effect else None) == before
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    call = request.call(world)
    with_token = Call(
        call.method, call.path, call.data, call.content_type, {**call.headers, "X-CSRFToken": token}
    )
    done = send(client, with_token)
    assert done.status_code == request.status
    if request.effect is not None:
        assert request.effect(world) != before


# --- Refusals that are not 404 -------------------------------------------------------------------


def test_the_403s_of_someone_elses_objects_do_not_tell_whether_they_exist(world: World) -> None:
    """The two cells where resident B gets 403 rather than 404 (the preview of A's video, a tus
    upload for A's submission) answer the same for an id that exists as for one that does not:
    nothing tells B that A's item is there."""
    client = client_of(world.users[OTHER])
    missing = Asset.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    for asset_id in (world.pending_asset.pk, missing):
        response = client.get(f"/previews/videos/{asset_id}/master.m3u8")
        assert response.status_code == 403, asset_id
    answers = set()
    for submission_id in (world.open_video.pk, world.open_video.pk + 1000):
        metadata = tus.encode_metadata({"filename": "a.mp4", "submission": str(submission_id)})
        headers = tus_headers(Upload_Length="500", Upload_Metadata=metadata)
        response = client.post(reverse("uploads:uploads"), headers=headers)
        answers.add((response.status_code, bytes(response.content)))
    assert len(answers) == 1 and answers.pop()[0] == 403
