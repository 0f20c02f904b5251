"""The residents' pages: submit a video (its facts, then its file through Uppy and tus),
submit a post, and follow what they sent in "My submissions" (fix and resubmit, send another
file). Every page needs a login, and a resident reaches only their own items: anyone else's
answers 404, as an item that does not exist does.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from cms.forms.residents import PostForm, VideoFixForm, VideoSubmitForm
from cms.models import Post, SubmissionState, VideoSubmission
from cms.services import residents
from cms.submission_status import post_status, resident_items, video_status

logger = logging.getLogger(__name__)

# The size of the chunks Uppy sends to the tus endpoint, which caps a request's body at
# ``CARILLON_UPLOAD_CHUNK_BYTES`` (9 MiB: 1 MiB of slack).
UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024
# States in which a submission takes a file (the tus server checks the same).
OPEN_STATES = (SubmissionState.AWAITING_UPLOAD, SubmissionState.CHANGES_REQUESTED)


def _own_video(request: HttpRequest, pk: int) -> VideoSubmission:
    return get_object_or_404(
        VideoSubmission.objects.select_related("asset"), pk=pk, submitter=request.user
    )


def _own_post(request: HttpRequest, pk: int) -> Post:
    return get_object_or_404(Post, pk=pk, author=request.user)


# --- Submitting ----------------------------------------------------------------------------------


@login_required
def submit_video(request: HttpRequest) -> HttpResponse:
    form = VideoSubmitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        submission = residents.video_submission_create(
            submitter=request.user,  # type: ignore[arg-type]
            facts=form.facts(),
        )
        return redirect("cms:submit-upload", pk=submission.pk)
    return render(request, "cms/residents/submit_video.html", {"form": form})


@login_required
@ensure_csrf_cookie  # Uppy sends the token of this cookie with every tus request
@never_cache
def submit_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The Uppy page of a submission that waits for its file."""
    submission = _own_video(request, pk)
    if submission.state not in OPEN_STATES:
        return redirect("cms:my-video", pk=submission.pk)
    return render(
        request,
        "cms/residents/upload.html",
        {"submission": submission, "uppy": _uppy_settings(submission)},
    )


def _uppy_settings(submission: VideoSubmission) -> dict[str, object]:
    """What the upload script needs (as data attributes: the CSP allows no inline script)."""
    max_bytes = settings.CARILLON_UPLOAD_MAX_BYTES
    return {
        "endpoint": reverse("uploads:uploads"),
        "submission": submission.pk,
        "max_bytes": max_bytes,
        "chunk_bytes": min(UPLOAD_CHUNK_BYTES, settings.CARILLON_UPLOAD_CHUNK_BYTES),
        "locale": "fr" if translation.get_language() == "fr" else "en",
        "note": _("One video file, at most %(size)s. On a phone you can film it now.")
        % {"size": filesizeformat(max_bytes)},
        "done_url": reverse("cms:my-video", kwargs={"pk": submission.pk}),
    }


@login_required
def submit_post(request: HttpRequest) -> HttpResponse:
    form = PostForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        post = residents.post_create(author=request.user, facts=form.facts())  # type: ignore[arg-type]
        messages.success(request, _("Thank you! Your post is waiting for the editors' review."))
        return redirect("cms:my-post", pk=post.pk)
    return render(request, "cms/residents/submit_post.html", {"form": form})


def charter(request: HttpRequest) -> HttpResponse:
    return render(
        request, "cms/residents/charter.html", {"version": settings.CARILLON_CHARTER_VERSION}
    )


# --- My submissions ------------------------------------------------------------------------------


@login_required
@never_cache
def my_submissions(request: HttpRequest) -> HttpResponse:
    items = resident_items(resident=request.user, now=timezone.now())  # type: ignore[arg-type]
    return render(request, "cms/residents/my_submissions.html", {"items": items})


@login_required
@never_cache
def my_video(request: HttpRequest, pk: int) -> HttpResponse:
    """A video's status; when changes were asked, the form to fix and resubmit it."""
    submission = _own_video(request, pk)
    form = None
    if submission.state == SubmissionState.CHANGES_REQUESTED:
        form = VideoFixForm(request.POST or None, request.FILES or None, instance=submission)
        if request.method == "POST" and form.is_valid():
            return _resubmit_video(request, submission, form)
    status = video_status(submission=submission, now=timezone.now())
    context = {"submission": submission, "status": status, "form": form}
    return render(request, "cms/residents/my_video.html", context)


def _resubmit_video(
    request: HttpRequest, submission: VideoSubmission, form: VideoFixForm
) -> HttpResponse:
    try:
        residents.video_submission_resubmit(
            submission=submission,
            resident=request.user,  # type: ignore[arg-type]
            facts=form.facts(),
        )
    except residents.ResidentActionRefused:
        messages.error(request, _("This video does not wait for changes any more."))
    else:
        messages.success(request, _("Thank you! Your video is back with the editors."))
    return redirect("cms:my-video", pk=submission.pk)


@login_required
@require_POST
def my_video_new_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The file could not be used: the submission waits for another one, sent from the Uppy
    page."""
    submission = _own_video(request, pk)
    if submission.state not in OPEN_STATES:
        try:
            residents.video_submission_file_replace(
                submission=submission,
                resident=request.user,  # type: ignore[arg-type]
            )
        except residents.ResidentActionRefused:
            messages.error(request, _("This video's file does not need replacing."))
            return redirect("cms:my-video", pk=submission.pk)
    return redirect("cms:submit-upload", pk=submission.pk)


@login_required
@never_cache
def my_video_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """The status for the page's script, which polls it while the file moves."""
    status = video_status(submission=_own_video(request, pk), now=timezone.now())
    return JsonResponse(
        {
            "status": status.key.value,
            "label": str(status.label),
            "progress": status.progress,
            "moving": status.moving,
        }
    )


@login_required
@never_cache
def my_post(request: HttpRequest, pk: int) -> HttpResponse:
    """A post's status; when changes were asked, the form to fix and resubmit it."""
    post = _own_post(request, pk)
    form = None
    if post.state == SubmissionState.CHANGES_REQUESTED:
        form = PostForm(request.POST or None, request.FILES or None, instance=post)
        if request.method == "POST" and form.is_valid():
            return _resubmit_post(request, post, form)
    context = {"post": post, "status": post_status(post=post), "form": form}
    return render(request, "cms/residents/my_post.html", context)


def _resubmit_post(request: HttpRequest, post: Post, form: PostForm) -> HttpResponse:
    try:
        residents.post_resubmit(post=post, resident=request.user, facts=form.facts())  # type: ignore[arg-type]
    except residents.ResidentActionRefused:
        messages.error(request, _("This post does not wait for changes any more."))
    else:
        messages.success(request, _("Thank you! Your post is back with the editors."))
    return redirect("cms:my-post", pk=post.pk)


@login_required
def my_post_image(request: HttpRequest, pk: int) -> FileResponse:
    """The image of the resident's own post, from private storage (never public before the
    post is approved)."""
    post = _own_post(request, pk)
    if not post.image:
        raise Http404("no image")
    response = FileResponse(storages["private"].open(post.image), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
