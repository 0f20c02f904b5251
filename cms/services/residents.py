"""What residents do: submit a video (its file follows through the tus upload), fix and
resubmit it when changes were asked, ask to send another file when theirs could not be used,
and submit or fix a post. Each service checks that the item is the resident's and in a state
that allows the action (``ResidentActionRefused`` otherwise); reviews start through
``cms.services.moderation``.
"""

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from broadcasting.models import Asset
from cms.models import Post, SubmissionState, VideoSubmission
from cms.services import moderation
from cms.submission_status import StatusKey, video_status

logger = logging.getLogger(__name__)

POST_IMAGE_FOLDER = "posts"


class ResidentActionRefused(Exception):
    """The item is not the resident's, or its state does not allow the action."""


@dataclass(frozen=True)
class VideoFacts:
    """What a resident writes about their video (``subtitles_vtt``: WebVTT, or ``None`` to
    keep the current subtitles when fixing; ``""`` removes them)."""

    title: str
    description: str
    category: str
    subtitles_vtt: str | None = None


@dataclass(frozen=True)
class PostFacts:
    """What a resident writes in a post (``body``: sanitised HTML; ``image_jpeg``: the
    re-encoded image, or ``None`` for none / to keep the current one)."""

    title: str
    body: str
    image_jpeg: bytes | None = None
    event_start: dt.datetime | None = None
    event_place: str = ""


# --- Videos --------------------------------------------------------------------------------------


def video_submission_create(*, submitter: User, facts: VideoFacts) -> VideoSubmission:
    """A new submission waiting for its file, with the resident's consent to the current
    charter (its version and the instant)."""
    submission = VideoSubmission.objects.create(
        submitter=submitter,
        title=facts.title,
        description=facts.description,
        category_id=facts.category,
        subtitles_vtt=facts.subtitles_vtt or "",
        charter_version=settings.CARILLON_CHARTER_VERSION,
        consented_at=timezone.now(),
        state=SubmissionState.AWAITING_UPLOAD,
    )
    logger.info("video submission created submission=%s submitter=%s", submission.pk, submitter.pk)
    return submission


def video_submission_resubmit(
    *, submission: VideoSubmission, resident: User, facts: VideoFacts
) -> VideoSubmission:
    """Changes were asked: the resident's fixed title, description, category and subtitles
    go back to the editors with the same file (a new file goes through the upload instead,
    whose hand-over starts the review)."""
    _check_owner(submission.submitter_id, resident)
    with transaction.atomic():
        locked = VideoSubmission.objects.select_for_update().get(pk=submission.pk)
        if locked.state != SubmissionState.CHANGES_REQUESTED or locked.asset_id is None:
            raise ResidentActionRefused("this submission does not wait for changes")
        _apply_video_facts(locked, facts)
        _sync_asset(locked)
        moderation.video_submission_review_start(submission=locked)
    logger.info("video submission resubmitted submission=%s", locked.pk)
    return locked


def video_submission_file_replace(*, submission: VideoSubmission, resident: User) -> None:
    """The resident's file could not be used (the intake refused it, or it failed in the
    media pipeline): the submission waits for another file."""
    _check_owner(submission.submitter_id, resident)
    status = video_status(submission=submission, now=timezone.now())
    if status.key != StatusKey.FILE_FAILED:
        raise ResidentActionRefused("the file of this submission did not fail")
    VideoSubmission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.AWAITING_UPLOAD, updated_at=timezone.now()
    )
    logger.info("video submission waits for another file submission=%s", submission.pk)


def _apply_video_facts(submission: VideoSubmission, facts: VideoFacts) -> None:
    submission.title = facts.title
    submission.description = facts.description
    submission.category_id = facts.category
    if facts.subtitles_vtt is not None:
        submission.subtitles_vtt = facts.subtitles_vtt
    submission.save(
        update_fields=["title", "description", "category", "subtitles_vtt", "updated_at"]
    )


def _sync_asset(submission: VideoSubmission) -> None:
    """The asset airs under the submission's (fixed) title, description and category."""
    Asset.objects.filter(submission=submission).update(
        title=submission.title,
        description=submission.description,
        category_id=submission.category_id,
    )


# --- Posts ---------------------------------------------------------------------------------------


def post_create(*, author: User, facts: PostFacts) -> Post:
    """A new post, straight to review. Its image (already re-encoded) is stored in private
    storage under a random name before the row exists, and deleted if the row is not made."""
    image_name = _store_image(facts.image_jpeg) if facts.image_jpeg else ""
    try:
        with transaction.atomic():
            post = Post.objects.create(
                author=author,
                title=facts.title,
                body=facts.body,
                image=image_name,
                event_start=facts.event_start,
                event_place=facts.event_place,
                state=SubmissionState.AWAITING_REVIEW,
            )
            moderation.post_review_start(post=post)
    except Exception:
        _delete_image(image_name)
        raise
    logger.info("post created post=%s author=%s", post.pk, author.pk)
    return post


def post_resubmit(*, post: Post, resident: User, facts: PostFacts) -> Post:
    """Changes were asked: the fixed post goes back to the editors (a new image replaces the
    old one, which is deleted after commit)."""
    _check_owner(post.author_id, resident)
    new_image = _store_image(facts.image_jpeg) if facts.image_jpeg else ""
    try:
        with transaction.atomic():
            locked = Post.objects.select_for_update().get(pk=post.pk)
            if locked.state != SubmissionState.CHANGES_REQUESTED:
                raise ResidentActionRefused("this post does not wait for changes")
            old_image = _apply_post_facts(locked, facts, new_image=new_image)
            moderation.post_review_start(post=locked)
            transaction.on_commit(lambda: _delete_image(old_image))
    except Exception:
        _delete_image(new_image)
        raise
    logger.info("post resubmitted post=%s", locked.pk)
    return locked


def _apply_post_facts(post: Post, facts: PostFacts, *, new_image: str) -> str:
    """Write ``facts`` on ``post``; the name of the image it no longer uses ("" for none)."""
    old_image = post.image if new_image else ""
    post.title, post.body = facts.title, facts.body
    post.event_start, post.event_place = facts.event_start, facts.event_place
    post.image = new_image or post.image
    post.save(update_fields=["title", "body", "event_start", "event_place", "image", "updated_at"])
    return old_image


def _store_image(jpeg: bytes) -> str:
    name = f"{POST_IMAGE_FOLDER}/{secrets.token_urlsafe(18)}.jpg"
    return storages["private"].save(name, ContentFile(jpeg))


def _delete_image(name: str) -> None:
    if name:
        storages["private"].delete(name)


def _check_owner(owner_id: int, resident: User) -> None:
    if owner_id != resident.pk:
        raise ResidentActionRefused("not the resident's item")
