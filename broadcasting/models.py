"""Media assets, their renditions in the channel format, and transcode jobs.

A ``ChannelFormat`` fixes how every asset is encoded (one default row from a migration).
An ``Asset`` is one video (a resident's upload or a city clip: programme, ident, filler, slate
or card). Its original stays in private storage; ``Rendition`` rows describe the HLS ladder in
public storage. A ``TranscodeJob`` row exists before any Celery message: the sweeper re-enqueues
jobs whose message or worker was lost.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from broadcasting.media.formats import FormatSpec, Rung


class ChannelFormat(models.Model):
    """The encoding parameters shared by every asset of the channels that use this format."""

    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    fps = models.PositiveSmallIntegerField(default=25)
    segment_ms = models.PositiveIntegerField(default=4800)
    gop_ms = models.PositiveIntegerField(default=2400)
    audio_rate = models.PositiveIntegerField(default=48_000)
    audio_channels = models.PositiveSmallIntegerField(default=2)
    audio_bitrate = models.PositiveIntegerField(default=128_000)
    loudness_lufs = models.FloatField(default=-23.0)
    true_peak_dbtp = models.FloatField(default=-1.0)
    x264_preset = models.CharField(max_length=20, default="veryfast")
    rungs = models.JSONField(
        verbose_name=_("ladder"),
        help_text=_("Renditions: name, width, height, bitrates, profile and level."),
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("channel format")
        verbose_name_plural = _("channel formats")

    def __str__(self) -> str:
        return self.name

    def to_spec(self) -> FormatSpec:
        return FormatSpec(
            fps=self.fps,
            segment_ms=self.segment_ms,
            gop_ms=self.gop_ms,
            audio_rate=self.audio_rate,
            audio_channels=self.audio_channels,
            audio_bitrate=self.audio_bitrate,
            loudness_lufs=self.loudness_lufs,
            true_peak_dbtp=self.true_peak_dbtp,
            x264_preset=self.x264_preset,
            rungs=tuple(Rung(**rung) for rung in self.rungs),
        )


class AssetKind(models.TextChoices):
    PROGRAMME = "programme", _("Programme")
    IDENT = "ident", _("Ident")
    FILLER = "filler", _("Filler")
    SLATE = "slate", _("Slate")
    CARD = "card", _("Information card")


class AssetOrigin(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    CITY = "city", _("City")


class Category(models.Model):
    """A category of videos that editors manage: residents pick one when they submit, rotations
    weight them (``playlists.Rotation.weights``, keyed by ``slug``). ``Asset.category`` refers
    to the ``slug``, which therefore never changes once the category exists; a category stops
    being offered when it is made inactive, and cannot be deleted while anything uses it."""

    slug = models.SlugField(
        verbose_name=_("slug"),
        max_length=30,
        unique=True,
        help_text=_("Short name used by rotations' weights, e.g. “culture”; cannot be changed."),
    )
    name = models.CharField(verbose_name=_("name (French)"), max_length=100)
    name_en = models.CharField(
        verbose_name=_("name (English)"),
        max_length=100,
        blank=True,
        help_text=_("Blank: the French name."),
    )
    order = models.PositiveSmallIntegerField(
        verbose_name=_("order"), default=0, help_text=_("Lower numbers are listed first.")
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
        help_text=_("Inactive categories are no longer offered; their videos keep them."),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the language of the request (English when asked for and written)."""
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name


DEFAULT_CATEGORY = "other"  # the slug of new videos' category (a row from the migration)


class ProcessingState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PROBING = "probing", _("Checking the file")
    TRANSCODING = "transcoding", _("Transcoding")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Asset(models.Model):
    """One video that may air once it is ready (transcoded) and approved."""

    title = models.CharField(verbose_name=_("title"), max_length=200)
    description = models.TextField(verbose_name=_("description"), blank=True)
    kind = models.CharField(
        verbose_name=_("kind"), max_length=20, choices=AssetKind, default=AssetKind.PROGRAMME
    )
    origin = models.CharField(
        verbose_name=_("origin"), max_length=20, choices=AssetOrigin, default=AssetOrigin.CITY
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        to_field="slug",
        db_column="category",
        default=DEFAULT_CATEGORY,
        on_delete=models.PROTECT,
        related_name="assets",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assets",
    )
    channel_format = models.ForeignKey(ChannelFormat, on_delete=models.PROTECT, related_name="+")
    builtin_slate_for = models.ForeignKey(
        "playlists.Channel",
        verbose_name=_("built-in slate of"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.CASCADE,
        related_name="builtin_slates",
        help_text=_("Set on the slate the playout made for a channel that had none."),
    )

    public_key = models.CharField(
        max_length=40,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Random name of the published renditions; set on approval, cleared on take-down.",
    )

    # The original, kept private so that the ladder can be rebuilt when the format changes.
    source = models.CharField(max_length=500, help_text="Name in the private storage.")
    original_filename = models.CharField(max_length=255, blank=True)
    source_size = models.BigIntegerField(default=0)
    demuxer = models.CharField(max_length=20, blank=True)

    state = models.CharField(
        verbose_name=_("processing"),
        max_length=20,
        choices=ProcessingState,
        default=ProcessingState.UPLOADED,
        db_index=True,
    )
    failure_code = models.CharField(max_length=40, blank=True)
    failure_detail = models.TextField(blank=True, help_text="Technical detail for editors.")
    progress_percent = models.FloatField(default=0.0)
    eta_seconds = models.FloatField(null=True, blank=True)
    progress_updated_at = models.DateTimeField(null=True, blank=True)

    approval = models.CharField(
        verbose_name=_("approval"),
        max_length=20,
        choices=ApprovalState,
        default=ApprovalState.PENDING,
        db_index=True,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_assets",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(verbose_name=_("reason for rejection"), blank=True)

    # Probe facts of the source.
    container = models.CharField(max_length=40, blank=True)
    video_codec = models.CharField(max_length=40, blank=True)
    audio_codec = models.CharField(max_length=40, blank=True)
    audio_layout = models.CharField(max_length=40, blank=True)
    duration = models.FloatField(verbose_name=_("duration (s)"), null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.SmallIntegerField(default=0)
    frame_rate = models.FloatField(null=True, blank=True)
    color = models.CharField(max_length=80, blank=True)
    probe = models.JSONField(default=dict, blank=True)
    loudness_before = models.FloatField(null=True, blank=True)
    loudness_after = models.FloatField(null=True, blank=True)

    # The channel-format output.
    segment_count = models.PositiveIntegerField(default=0)
    padded_duration = models.FloatField(null=True, blank=True)
    master_playlist = models.CharField(max_length=500, blank=True)
    poster = models.CharField(max_length=500, blank=True)

    # Information cards (kind ``card``), made by the city feeds: which card slots they fill
    # (``playlists.CardCategory`` values) and when their data stop being true.
    card_category = models.CharField(max_length=40, blank=True)
    card_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("video")
        verbose_name_plural = _("videos")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "approval", "kind"])]
        # Who is an editor: ``broadcasting.media.permissions.user_is_editor``, everywhere.
        permissions = [("moderate_asset", _("Can moderate videos and posts"))]

    def __str__(self) -> str:
        return self.title

    @property
    def is_schedulable(self) -> bool:
        return self.state == ProcessingState.READY and self.approval == ApprovalState.APPROVED


class Rendition(models.Model):
    """One rung of an asset's HLS ladder in public storage."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="renditions")
    name = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bandwidth = models.PositiveIntegerField()
    average_bandwidth = models.PositiveIntegerField()
    codecs = models.CharField(max_length=60)
    playlist = models.CharField(max_length=500)
    segment_prefix = models.CharField(max_length=500)
    segment_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="one_rendition_per_rung"),
        ]
        ordering = ["-height"]

    def __str__(self) -> str:
        return f"{self.asset_id}/{self.name}"


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class TranscodeJob(models.Model):
    """The durable record of one asset's transcode; Celery messages only point at it."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="jobs")
    state = models.CharField(
        max_length=20, choices=JobState, default=JobState.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_count = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["asset"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_active_job_per_asset",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} asset {self.asset_id} {self.state}"


class OverrideReason(models.TextChoices):
    MANUAL = "manual", _("Manual take-over")
    ALERT = "alert", _("Emergency alert")


class Override(models.Model):
    """A clip that takes the channel over from ``start`` (a segment boundary) until ``end``
    (none: until ended); the timeline then resumes at wall clock (see ``broadcasting.live.overrides``)."""

    channel = models.ForeignKey(
        "playlists.Channel",
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("clip"), on_delete=models.PROTECT, related_name="overrides"
    )
    start = models.DateTimeField(verbose_name=_("start"), db_index=True)
    end = models.DateTimeField(verbose_name=_("end"), null=True, blank=True)
    repeat = models.BooleanField(
        verbose_name=_("repeat"),
        default=True,
        help_text=_("Loop the clip; otherwise the schedule resumes when the clip ends."),
    )
    reason = models.CharField(
        verbose_name=_("reason"),
        max_length=20,
        choices=OverrideReason,
        default=OverrideReason.MANUAL,
    )
    priority = models.PositiveSmallIntegerField(
        verbose_name=_("priority"),
        default=0,
        help_text=_("When several overrides are active, the highest priority airs."),
    )
    note = models.CharField(verbose_name=_("note"), max_length=200, blank=True)
    alert_ref = models.CharField(verbose_name=_("alert reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        ordering = ["-start"]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.start:%Y-%m-%d %H:%M:%S} {self.asset_id}"
