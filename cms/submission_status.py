"""Where a resident's video or post is, in words: the reads behind "My submissions".

``SubmissionState`` is the moderation's view of an item; the resident also wants to know
whether the file arrived, how far its processing is, whether it failed and why, and once
approved when it airs and how often it aired. ``video_status`` folds the submission, its last
upload, its asset, the published timeline (``playlists.ScheduledItem``) and the as-run log
(``playlists.AsRunEntry``) into one ``Status``.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import Count, Max
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from broadcasting.media.failures import failure_message
from broadcasting.models import Asset, ProcessingState
from cms.models import Post, SubmissionState, Upload, UploadState, VideoSubmission
from playlists.models import AsRunEntry, AsRunReason, ScheduledItem


class StatusKey(StrEnum):
    WAITING_FILE = "waiting_file"
    RECEIVED = "received"
    PROCESSING = "processing"
    FILE_FAILED = "file_failed"
    AWAITING_REVIEW = "awaiting_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    AIRED = "aired"


LABELS: dict[StatusKey, Promise] = {
    StatusKey.WAITING_FILE: _("Waiting for the file"),
    StatusKey.RECEIVED: _("Received"),
    StatusKey.PROCESSING: _("Processing"),
    StatusKey.FILE_FAILED: _("The file could not be used"),
    StatusKey.AWAITING_REVIEW: _("Awaiting review"),
    StatusKey.CHANGES_REQUESTED: _("Changes requested"),
    StatusKey.APPROVED: _("Approved"),
    StatusKey.REJECTED: _("Rejected"),
    StatusKey.SCHEDULED: _("Scheduled"),
    StatusKey.AIRED: _("Aired"),
}
# States in which the page keeps asking for news (the file is on its way or in processing).
MOVING = (StatusKey.RECEIVED, StatusKey.PROCESSING)


@dataclass
class Status:
    key: StatusKey
    comment: str = ""  # the editor's: changes asked for, reason of a rejection
    failure: str = ""  # why the file could not be used, for the resident
    progress: float | None = None  # processing, in percent
    sent_percent: float | None = None  # an unfinished upload, in percent
    next_airing: dt.datetime | None = None
    next_channel: str = ""
    aired_count: int = 0
    last_aired: dt.datetime | None = None

    @property
    def label(self) -> Promise:
        return LABELS[self.key]

    @property
    def moving(self) -> bool:
        return self.key in MOVING


@dataclass
class Item:
    """One line of "My submissions"."""

    kind: str  # "video" or "post"
    obj: VideoSubmission | Post
    status: Status


def resident_items(*, resident: User, now: dt.datetime) -> list[Item]:
    """The resident's own videos and posts, newest first, each with its status."""
    videos = VideoSubmission.objects.filter(submitter=resident).select_related("asset")
    posts = Post.objects.filter(author=resident)
    items = [Item("video", v, video_status(submission=v, now=now)) for v in videos]
    items += [Item("post", p, post_status(post=p)) for p in posts]
    return sorted(items, key=lambda item: item.obj.created_at, reverse=True)


def post_status(*, post: Post) -> Status:
    key = {
        SubmissionState.CHANGES_REQUESTED: StatusKey.CHANGES_REQUESTED,
        SubmissionState.APPROVED: StatusKey.APPROVED,
        SubmissionState.REJECTED: StatusKey.REJECTED,
    }.get(SubmissionState(post.state), StatusKey.AWAITING_REVIEW)
    return Status(key=key, comment=post.editor_comment)


def video_status(*, submission: VideoSubmission, now: dt.datetime) -> Status:
    state = submission.state
    asset = submission.asset
    if state == SubmissionState.REJECTED:
        reason = submission.editor_comment or (asset.rejection_reason if asset else "")
        return Status(key=StatusKey.REJECTED, comment=reason)
    if state == SubmissionState.APPROVED:
        status = _airings(asset, now=now)
        status.comment = submission.editor_comment  # an approval's note, if any
        return status
    if state == SubmissionState.CHANGES_REQUESTED:
        failure = _asset_failure(asset) if asset else ""
        return Status(
            key=StatusKey.CHANGES_REQUESTED, comment=submission.editor_comment, failure=failure
        )
    if state == SubmissionState.AWAITING_UPLOAD or asset is None:
        return _upload_status(submission)
    return _processing_status(asset, state=state)


def _upload_status(submission: VideoSubmission) -> Status:
    """While the submission waits for its file: its last upload says how far it is."""
    upload = Upload.objects.filter(submission=submission).order_by("-created_at").first()
    if upload is None or upload.state in (UploadState.EXPIRED, UploadState.HANDED_OVER):
        # (a file handed over earlier, whose asset failed, was replaced by the resident)
        return Status(key=StatusKey.WAITING_FILE)
    if upload.state == UploadState.FAILED:
        return Status(key=StatusKey.FILE_FAILED, failure=gettext(upload.failure))
    if upload.state == UploadState.COMPLETE:
        return Status(key=StatusKey.RECEIVED)
    sent = 100.0 * upload.offset / upload.length if upload.length else 0.0
    return Status(key=StatusKey.WAITING_FILE, sent_percent=round(sent, 1))


def _processing_status(asset: Asset, *, state: str) -> Status:
    if asset.state == ProcessingState.FAILED:
        return Status(key=StatusKey.FILE_FAILED, failure=_asset_failure(asset))
    if asset.state != ProcessingState.READY:
        return Status(key=StatusKey.PROCESSING, progress=round(asset.progress_percent, 1))
    if state == SubmissionState.AWAITING_REVIEW:
        return Status(key=StatusKey.AWAITING_REVIEW)
    return Status(key=StatusKey.RECEIVED)


def _asset_failure(asset: Asset) -> str:
    if asset.state != ProcessingState.FAILED:
        return ""
    return str(failure_message(asset.failure_code))


def _airings(asset: Asset | None, *, now: dt.datetime) -> Status:
    """An approved video: scheduled (its next airing on any channel), aired (how often, and
    when last), or just approved."""
    if asset is None:
        return Status(key=StatusKey.APPROVED)
    upcoming = (
        ScheduledItem.objects.filter(asset=asset, start__gt=now)
        .select_related("channel")
        .order_by("start")
        .first()
    )
    aired = (
        AsRunEntry.objects.filter(asset=asset, actual_start__lte=now)
        .exclude(reason=AsRunReason.MISSING_ASSET)
        .aggregate(count=Count("pk"), last=Max("actual_start"))
    )
    status = Status(key=StatusKey.APPROVED, aired_count=aired["count"], last_aired=aired["last"])
    if upcoming is not None:
        status.key = StatusKey.SCHEDULED
        status.next_airing, status.next_channel = upcoming.start, upcoming.channel.name
    elif status.aired_count:
        status.key = StatusKey.AIRED
    return status
