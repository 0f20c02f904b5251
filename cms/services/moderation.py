"""Editors' decisions on what residents send, and the reviews that lead to them.

A review is a run of Wagtail's workflow "Modération CMIN" (one ``cms.workflows.ModerationTask``)
on a video or a post. The services below are the only writers of a submission's ``state`` and
decision fields, and, for videos, the only callers of ``asset_approve`` / ``asset_reject``: the
task's actions in the admin and the moderation queue's bulk actions both come here.

A decision, in one transaction: the editor check; the review's task state, locked, must still
be in progress (two editors never both decide); Wagtail's workflow moves (approved: the workflow
ends and publishes the latest revision; changes requested: it waits for the resident; rejected:
it is closed for good); then the submission's state, comment, editor and time; the asset's
approval for a video; a log entry (who, what, when, with what comment); and, after commit, the
e-mail to the resident. A resubmission after "changes requested" starts a new workflow run; a
rejection is final (only a new submission can appeal).
"""

import logging
from typing import TypeVar

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log
from wagtail.models import TaskState, WorkflowState

from broadcasting.media.permissions import user_is_editor
from broadcasting.media.services import ReviewError, asset_approve, asset_reject
from cms import emails
from cms.models.submissions import Moderated, Post, SubmissionState, VideoSubmission
from cms.services.posts_on_air import post_on_air_sync

logger = logging.getLogger(__name__)

Item = TypeVar("Item", VideoSubmission, Post)


class ModerationError(Exception):
    """A decision or a review that is not allowed (not an editor, not awaiting review, no text
    where one is required, a rejection is final)."""


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REQUEST_CHANGES = "request_changes", _("Request changes")
    REJECT = "reject", _("Reject")


STATE_AFTER = {
    Decision.APPROVE: SubmissionState.APPROVED,
    Decision.REQUEST_CHANGES: SubmissionState.CHANGES_REQUESTED,
    Decision.REJECT: SubmissionState.REJECTED,
}
LOG_ACTION = {
    Decision.APPROVE: "cms.moderation.approve",
    Decision.REQUEST_CHANGES: "cms.moderation.request_changes",
    Decision.REJECT: "cms.moderation.reject",
}
REVIEW_STARTED = "cms.moderation.review_start"


# --- Reviews -----------------------------------------------------------------------------------


def video_submission_review_start(*, submission: VideoSubmission) -> VideoSubmission:
    """The submission's file is in the media pipeline: it now waits for an editor."""
    return _review_start(submission, requester=submission.submitter)


def post_review_start(*, post: Post) -> Post:
    """The post is written (or fixed after a request for changes): it now waits for an editor."""
    return _review_start(post, requester=post.author)


def _review_start(item: Item, *, requester: User) -> Item:
    """A new workflow run on a snapshot (revision) of the item. Running it again while the same
    review is in progress changes nothing; after "changes requested" the old run is closed and a
    new one starts; a rejected item is never reviewed again."""
    if item.state == SubmissionState.REJECTED:
        raise ModerationError("A rejected submission is final: send a new one.")
    with transaction.atomic():
        type(item).objects.select_for_update().filter(pk=item.pk).first()
        current = item.current_workflow_state
        if current is not None and current.status == WorkflowState.STATUS_IN_PROGRESS:
            return item
        if current is not None:  # changes were requested: that run ends here
            current.cancel(user=requester)
        item.state = SubmissionState.AWAITING_REVIEW
        item.live = item.first_published_at is not None  # a draft in Wagtail until approved
        item.save(update_fields=["state", "live", "updated_at"])
        item.save_revision(user=requester, clean=False)
        workflow = item.get_workflow()
        if workflow is None:
            logger.error("no moderation workflow for %s=%s", item._meta.model_name, item.pk)
            return item
        workflow.start(item, requester)
        log(instance=item, action=REVIEW_STARTED, user=requester)
    logger.info("review started %s=%s", item._meta.model_name, item.pk)
    return item


# --- Decisions on videos -----------------------------------------------------------------------


def video_submission_approve(
    *, submission: VideoSubmission, editor: User, comment: str = ""
) -> VideoSubmission:
    """The video may air and be public (once transcoded): ``asset_approve``."""
    return _decide(submission, editor=editor, decision=Decision.APPROVE, comment=comment)


def video_submission_request_changes(
    *, submission: VideoSubmission, editor: User, comment: str
) -> VideoSubmission:
    """The resident is asked to fix something and send the video again."""
    return _decide(submission, editor=editor, decision=Decision.REQUEST_CHANGES, comment=comment)


def video_submission_reject(
    *, submission: VideoSubmission, editor: User, reason: str
) -> VideoSubmission:
    """A final refusal with its reason: ``asset_reject`` (nothing of it stays public)."""
    return _decide(submission, editor=editor, decision=Decision.REJECT, comment=reason)


# --- Decisions on posts ------------------------------------------------------------------------


def post_approve(*, post: Post, editor: User, comment: str = "") -> Post:
    """The post appears on the site."""
    return _decide(post, editor=editor, decision=Decision.APPROVE, comment=comment)


def post_request_changes(*, post: Post, editor: User, comment: str) -> Post:
    """The resident is asked to fix the post and send it again."""
    return _decide(post, editor=editor, decision=Decision.REQUEST_CHANGES, comment=comment)


def post_reject(*, post: Post, editor: User, reason: str) -> Post:
    """A final refusal with its reason."""
    return _decide(post, editor=editor, decision=Decision.REJECT, comment=reason)


def submission_decide(*, item: Moderated, editor: User, decision: str, comment: str) -> Moderated:
    """One decision on a video or a post (the workflow task and the bulk actions call this)."""
    if not isinstance(item, VideoSubmission | Post):
        raise ModerationError(f"{type(item).__name__} is not moderated")
    return _decide(item, editor=editor, decision=Decision(decision), comment=comment)


# --- The decision itself -----------------------------------------------------------------------


def _decide(item: Item, *, editor: User, decision: Decision, comment: str) -> Item:
    comment = comment.strip()
    _check(item, editor=editor, decision=decision, comment=comment)
    with transaction.atomic():
        task_state = _task_state_locked(item)
        _workflow_move(task_state, editor=editor, decision=decision, comment=comment)
        item = type(item).objects.get(pk=item.pk)  # approving published the latest revision
        _record(item, editor=editor, decision=decision, comment=comment)
        if isinstance(item, VideoSubmission):
            _asset_decide(item, editor=editor, decision=decision, comment=comment)
        else:  # a post airs on the city news or events card once approved
            post_on_air_sync(post=item)
        log(
            instance=item,
            action=LOG_ACTION[decision],
            user=editor,
            data={"comment": comment, "state": item.state},
        )
        transaction.on_commit(lambda: emails.decision_email_send(item=item))
    logger.info("%s %s=%s editor=%s", decision, item._meta.model_name, item.pk, editor.pk)
    return item


def _check(item: Moderated, *, editor: User, decision: Decision, comment: str) -> None:
    if not user_is_editor(editor):
        raise ModerationError("Only editors decide on submissions.")
    if decision != Decision.APPROVE and not comment:
        raise ModerationError("This decision needs a text for the resident.")
    if isinstance(item, VideoSubmission) and item.asset_id is None:
        raise ModerationError("The video's file has not arrived yet.")


def _task_state_locked(item: Moderated) -> TaskState:
    """The review's task state in progress, locked against a concurrent decision."""
    workflow_state = item.current_workflow_state
    if workflow_state is None or workflow_state.current_task_state_id is None:
        raise ModerationError("This submission is not awaiting review.")
    task_state = TaskState.objects.select_for_update().get(pk=workflow_state.current_task_state_id)
    if task_state.status != TaskState.STATUS_IN_PROGRESS:
        raise ModerationError("This submission is not awaiting review.")
    return task_state.specific


def _workflow_move(
    task_state: TaskState, *, editor: User, decision: Decision, comment: str
) -> None:
    if decision == Decision.APPROVE:
        task_state.approve(user=editor, comment=comment)  # ends the workflow, publishes
    elif decision == Decision.REQUEST_CHANGES:
        task_state.reject(user=editor, comment=comment)  # the workflow waits for changes
    else:  # final: the task is rejected and the workflow closed, never resumed
        task_state.reject(user=editor, comment=comment, update=False)
        task_state.workflow_state.cancel(user=editor)


def _record(item: Moderated, *, editor: User, decision: Decision, comment: str) -> None:
    item.state = STATE_AFTER[decision]
    item.editor_comment = comment
    item.decided_by = editor
    item.decided_at = timezone.now()
    item.save(update_fields=["state", "editor_comment", "decided_by", "decided_at", "updated_at"])


def _asset_decide(
    submission: VideoSubmission, *, editor: User, decision: Decision, comment: str
) -> None:
    asset = submission.asset
    if asset is None:  # checked before the transaction; gone since
        raise ModerationError("The video's file has not arrived yet.")
    try:
        if decision == Decision.APPROVE:
            asset_approve(asset=asset, editor=editor)
        elif decision == Decision.REJECT:
            asset_reject(asset=asset, editor=editor, reason=comment)
    except ReviewError as err:
        raise ModerationError(str(err)) from err
