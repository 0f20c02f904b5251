"""Editors' decisions on what residents send, and the reviews that lead to them."""

import logging

from cms.models import SubmissionState, VideoSubmission

logger = logging.getLogger(__name__)


def video_submission_review_start(*, submission: VideoSubmission) -> VideoSubmission:
    """The submission's file is in the media pipeline: it now waits for an editor.

    (To be completed by the moderation workflow: start Wagtail's workflow on it.)"""
    submission.state = SubmissionState.AWAITING_REVIEW
    submission.save(update_fields=["state", "updated_at"])
    logger.info("review started submission=%s", submission.pk)
    return submission
