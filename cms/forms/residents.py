"""The residents' forms: a video's facts (with its subtitles and the consent to the charter),
the same facts when fixing it, and a post. Files are checked here, on the server, whatever
the browser said: subtitles become WebVTT (``cms.subtitles``), an image becomes a clean JPEG
(``cms.images``), a post's text becomes safe HTML (``cms.sanitise``)."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from broadcasting.media.selectors import categories_offered
from cms.images import ImageRejected, check_size, post_image_reencode
from cms.models import Post, VideoSubmission
from cms.sanitise import html_is_empty, post_html_clean
from cms.services.residents import PostFacts, VideoFacts
from cms.subtitles import SubtitleError, subtitles_to_webvtt

SUBTITLE_TYPES = ".srt,.vtt,text/vtt,application/x-subrip"
IMAGE_TYPES = "image/jpeg,image/png,image/webp"


class VideoFactsForm(forms.ModelForm):  # type: ignore[type-arg]
    """Title, description, category and optional subtitles of a video."""

    subtitles = forms.FileField(
        label=_("Subtitles (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": SUBTITLE_TYPES}),
    )

    class Meta:
        model = VideoSubmission
        fields = ["title", "description", "category"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = [self.instance.category_id] if self.instance.pk else []
        category = cast(forms.ModelChoiceField, self.fields["category"])  # type: ignore[type-arg]
        category.queryset = categories_offered(keep=current)
        category.empty_label = None
        self.fields["subtitles"].help_text = _("An .srt or .vtt file, at most %(kb)s KB.") % {
            "kb": settings.CARILLON_SUBTITLES_MAX_BYTES // 1024
        }

    def clean_subtitles(self) -> str | None:
        """The subtitles as WebVTT; ``None`` when no file was sent."""
        upload: UploadedFile | None = self.cleaned_data.get("subtitles")
        if not upload:
            return None
        if (upload.size or 0) > settings.CARILLON_SUBTITLES_MAX_BYTES:
            raise forms.ValidationError(
                _("The subtitles file is too large (at most %(kb)s KB).")
                % {"kb": settings.CARILLON_SUBTITLES_MAX_BYTES // 1024}
            )
        try:
            return subtitles_to_webvtt(upload.read(), filename=upload.name or "")
        except SubtitleError as err:
            raise forms.ValidationError(str(err)) from err

    def facts(self) -> VideoFacts:
        data = self.cleaned_data
        return VideoFacts(
            title=data["title"],
            description=data["description"],
            category=data["category"].slug,
            subtitles_vtt=data.get("subtitles"),
        )


class VideoSubmitForm(VideoFactsForm):
    """A new video: its facts and the consent to the charter."""

    consent = forms.BooleanField(
        label=_("I have read the channel's charter and I accept it."),
        required=True,
        error_messages={"required": _("You must accept the charter to send a video.")},
    )


class VideoFixForm(VideoFactsForm):
    """The facts of a video whose changes were asked for; new subtitles replace the old."""

    remove_subtitles = forms.BooleanField(label=_("Remove the subtitles"), required=False)

    def facts(self) -> VideoFacts:
        facts = super().facts()
        if facts.subtitles_vtt is None and self.cleaned_data.get("remove_subtitles"):
            return VideoFacts(facts.title, facts.description, facts.category, subtitles_vtt="")
        return facts


class PostForm(forms.ModelForm):  # type: ignore[type-arg]
    """A post: title, text, optional image and event (its date in Paris time)."""

    event_start = forms.DateTimeField(
        label=_("Event date"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    image_file = forms.FileField(
        label=_("Image (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES}),
    )

    class Meta:
        model = Post
        fields = ["title", "body", "event_start", "event_place"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 10}),
        }
        help_texts = {
            "body": _(
                "Plain text, or a little HTML: <p>, <br>, <strong>, <em>, <ul>, <ol>, <li> "
                'and links <a href="https://...">.'
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["image_file"].help_text = _(
            "JPEG, PNG or WebP, at most %(mb)s MB and %(mp)s megapixels."
        ) % {
            "mb": settings.CARILLON_POST_IMAGE_MAX_BYTES // 1_000_000,
            "mp": settings.CARILLON_POST_IMAGE_MAX_PIXELS // 1_000_000,
        }

    def clean_body(self) -> str:
        cleaned = post_html_clean(self.cleaned_data["body"])
        if html_is_empty(cleaned):
            raise forms.ValidationError(_("Write the text of your post."))
        return cleaned

    def clean_image_file(self) -> bytes | None:
        """The re-encoded image (JPEG bytes); ``None`` when no file was sent."""
        upload: UploadedFile | None = self.cleaned_data.get("image_file")
        if not upload:
            return None
        max_bytes = settings.CARILLON_POST_IMAGE_MAX_BYTES
        try:
            check_size(upload.size or 0, max_bytes=max_bytes)
            return post_image_reencode(
                upload.read(),
                max_bytes=max_bytes,
                max_pixels=settings.CARILLON_POST_IMAGE_MAX_PIXELS,
            )
        except ImageRejected as err:
            raise forms.ValidationError(str(err)) from err

    def facts(self) -> PostFacts:
        data = self.cleaned_data
        return PostFacts(
            title=data["title"],
            body=data["body"],
            image_jpeg=data.get("image_file"),
            event_start=data.get("event_start"),
            event_place=data.get("event_place") or "",
        )
