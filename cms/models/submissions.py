"""What residents send: videos (a ``VideoSubmission`` wraps the ``broadcasting.Asset`` its upload
became) and posts. Both go through the editors' moderation workflow (Wagtail workflows on
snippets: hence the workflow, draft state, lock and revision mixins).

``state`` is the resident's view of the submission ("where is my video?"); it is written only
by the services in ``cms.services`` (the workflow's outcome calls them). Whether a video may air
stays ``Asset.approval``, set by ``asset_approve``/``asset_reject`` from those same services.
"""

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin


class SubmissionState(models.TextChoices):
    AWAITING_UPLOAD = "awaiting_upload", _("Waiting for the file")
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


def new_public_key() -> str:
    """A URL name nobody can guess (ids are never public)."""
    return secrets.token_urlsafe(12)


class Moderated(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """What videos and posts share: their author, state in words and the last decision."""

    state = models.CharField(
        verbose_name=_("state"),
        max_length=30,
        choices=SubmissionState,
        default=SubmissionState.RECEIVED,
        db_index=True,
        editable=False,
    )
    editor_comment = models.TextField(
        verbose_name=_("editor's comment"),
        blank=True,
        editable=False,
        help_text=_("The reason of a rejection, the changes asked for, or a note on approval."),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class VideoSubmission(Moderated):
    """A resident's video: the form's facts, the consent to the charter, and the asset that
    its resumable upload became (none until the upload is complete)."""

    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.CASCADE,
        related_name="video_submissions",
    )
    asset = models.OneToOneField(
        "broadcasting.Asset",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="submission",
    )
    title = models.CharField(verbose_name=_("title"), max_length=200)
    description = models.TextField(verbose_name=_("description"), blank=True)
    category = models.ForeignKey(
        "broadcasting.Category",
        verbose_name=_("category"),
        to_field="slug",
        db_column="category",
        default="other",
        on_delete=models.PROTECT,
        related_name="+",
    )
    subtitles_vtt = models.TextField(
        verbose_name=_("subtitles (WebVTT)"),
        blank=True,
        editable=False,
        help_text="Validated and converted to WebVTT on submission.",
    )
    charter_version = models.CharField(max_length=20, editable=False)
    consented_at = models.DateTimeField(editable=False)

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="video_submission")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="video_submission",
        for_concrete_model=False,
    )

    class Meta:
        verbose_name = _("video submission")
        verbose_name_plural = _("video submissions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def revisions(self):  # type: ignore[no-untyped-def]
        return self._revisions


class Post(Moderated):
    """A resident's short post (news, an event, an announcement): sanitised HTML, an optional
    image kept in private storage (re-encoded, metadata stripped) until the post is approved."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.CASCADE,
        related_name="posts",
    )
    public_key = models.CharField(
        max_length=40, unique=True, default=new_public_key, editable=False
    )
    title = models.CharField(verbose_name=_("title"), max_length=200)
    body = models.TextField(verbose_name=_("text"), help_text="Sanitised HTML.")
    image = models.CharField(
        max_length=300,
        blank=True,
        editable=False,
        help_text="Name in the private storage of the re-encoded image (none: no image).",
    )
    event_start = models.DateTimeField(verbose_name=_("event date"), null=True, blank=True)
    event_place = models.CharField(verbose_name=_("event place"), max_length=200, blank=True)

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="post")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="post",
        for_concrete_model=False,
    )

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def revisions(self):  # type: ignore[no-untyped-def]
        return self._revisions
