"""E-mails to residents about what they sent: French (the site's language), plain text with an
HTML alternative, and only ever linking to their own page on the public site ("My submissions"),
never into the admin."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from cms.models.submissions import Post, SubmissionState, VideoSubmission

logger = logging.getLogger(__name__)

MY_SUBMISSIONS_PATH = "/mes-contributions/"
TEMPLATES = "cms/emails/decision"


def my_submissions_url() -> str:
    """The absolute URL of the resident's "My submissions" page, in French."""
    with translation.override(settings.LANGUAGE_CODE):
        try:
            path = reverse("cms:my-submissions")
        except NoReverseMatch:
            path = MY_SUBMISSIONS_PATH
    return f"{settings.CARILLON_BASE_URL.rstrip('/')}{path}"


def decision_email_send(*, item: VideoSubmission | Post) -> bool:
    """Tell the resident the editors' decision on their video or post. Returns whether a message
    was sent (not when the resident has no e-mail address)."""
    resident = item.submitter if isinstance(item, VideoSubmission) else item.author
    if not resident.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        context = _context(item)
        subject = render_to_string(f"{TEMPLATES}_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string(f"{TEMPLATES}.txt", context),
            to=[resident.email],
        )
        message.attach_alternative(render_to_string(f"{TEMPLATES}.html", context), "text/html")
    message.send()
    logger.info("decision e-mail sent %s=%s", item._meta.model_name, item.pk)
    return True


def _context(item: VideoSubmission | Post) -> dict[str, object]:
    return {
        "item": item,
        "is_video": isinstance(item, VideoSubmission),
        "approved": item.state == SubmissionState.APPROVED,
        "changes_requested": item.state == SubmissionState.CHANGES_REQUESTED,
        "rejected": item.state == SubmissionState.REJECTED,
        "comment": item.editor_comment,
        "url": my_submissions_url(),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
