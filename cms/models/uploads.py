"""A resumable upload (tus 1.0) of a resident's or an editor's video.

Its bytes are assembled on local disk (``CARILLON_UPLOAD_DIR``, shared by the web processes)
under a name made from its random id, never from anything the client sent; ``offset`` advances
by a conditional update so two requests can never both append. Complete uploads are handed to
the media pipeline by a task; unfinished ones expire.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UploadState(models.TextChoices):
    RECEIVING = "receiving", _("Receiving")
    COMPLETE = "complete", _("Complete")
    HANDED_OVER = "handed_over", _("Handed to the media pipeline")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class Upload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    submission = models.ForeignKey(
        "cms.VideoSubmission",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="uploads",
    )
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    filename = models.CharField(
        max_length=255, blank=True, help_text="As the client named it: for its extension only."
    )
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=20, choices=UploadState, default=UploadState.RECEIVING, db_index=True
    )
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self) -> str:
        return f"{self.id} ({self.offset}/{self.length})"
