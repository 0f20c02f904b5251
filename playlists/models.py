"""Channels, their programming rules, the published timeline and the as-run log.

A ``Channel`` airs assets in its ``ChannelFormat`` on a grid of 4.8-s segments counted from its
``epoch``. Editors programme it with ``Block`` dayparts (each filled by a rotation or a fixed
playlist, with fillers and card slots) and fixed-time ``Event`` rows. The scheduler turns them
into ``ScheduledItem`` rows (one ``ScheduleVersion`` per build) and the playout records what
really aired in ``AsRunEntry``.
"""

import datetime as dt

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

from broadcasting.media.formats import DEFAULT_FORMAT

DEFAULT_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Channel(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=100)
    slug = models.SlugField(verbose_name=_("slug"), unique=True)
    number = models.PositiveSmallIntegerField(verbose_name=_("channel number"), unique=True)
    description = models.TextField(verbose_name=_("description"), blank=True)
    group_title = models.CharField(verbose_name=_("group"), max_length=60, default="Chartres")
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel_format = models.ForeignKey(
        "broadcasting.ChannelFormat", verbose_name=_("format"), on_delete=models.PROTECT
    )
    time_zone = models.CharField(verbose_name=_("time zone"), max_length=50, default="Europe/Paris")
    slate = models.ForeignKey(
        "broadcasting.Asset",
        verbose_name=_("slate"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Plays whenever nothing else can: the last resort against dead air."),
    )
    epoch = models.DateTimeField(
        verbose_name=_("epoch"),
        default=DEFAULT_EPOCH,
        help_text=_("Start of the segment grid; never change it on a channel that has aired."),
    )
    seed = models.PositiveIntegerField(default=1, help_text=_("Seed of the rotations' draws."))
    default_fillers = models.ForeignKey(
        "playlists.FillerSet",
        verbose_name=_("default fillers"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Idents, interstitials and card slots used where a block sets none."),
    )
    is_active = models.BooleanField(verbose_name=_("on air"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} · {self.name}"


class ScheduleVersion(models.Model):
    """One build of a channel's timeline: what was built, for which window, and why."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    built_at = models.DateTimeField(auto_now_add=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    build_ms = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "number"], name="one_version_number"),
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.channel.slug} v{self.number}"


class ItemKind(models.TextChoices):
    ASSET = "asset", _("Video")
    CARD_SLOT = "card_slot", _("Information card")
    SLATE = "slate", _("Slate")


class ItemRole(models.TextChoices):
    PROGRAMME = "programme", _("Programme")
    EVENT = "event", _("Event")
    IDENT = "ident", _("Ident")
    PREROLL = "preroll", _("Pre-roll")
    POSTROLL = "postroll", _("Post-roll")
    INTERSTITIAL = "interstitial", _("Interstitial")
    FILLER = "filler", _("Filler")
    CARD = "card", _("Information card")
    SLATE = "slate", _("Slate")


class ScheduledItem(models.Model):
    """One entry of the published timeline, on the channel's segment grid (UTC)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="items")
    version = models.ForeignKey(ScheduleVersion, on_delete=models.CASCADE, related_name="items")
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=ItemKind)
    role = models.CharField(max_length=20, choices=ItemRole)
    asset = models.ForeignKey(
        "broadcasting.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    block = models.ForeignKey(
        "playlists.Block", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.ForeignKey(
        "playlists.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    card_category = models.CharField(max_length=40, blank=True)
    cut = models.BooleanField(default=False)

    class Meta:
        ordering = ["channel", "start"]
        indexes = [
            models.Index(fields=["channel", "start"]),
            models.Index(fields=["channel", "end"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.start:%Y-%m-%d %H:%M:%S} {self.role}"


class AsRunReason(models.TextChoices):
    AS_PLANNED = "as_planned", _("As planned")
    ALERT = "alert", _("Emergency alert pre-emption")
    OVERRIDE = "override", _("Manual take-over")
    MISSING_ASSET = "missing_asset", _("Missing or unreadable video: slate")
    GAP = "gap", _("Nothing planned: slate")


class AsRunEntry(models.Model):
    """What actually aired (written by the playout from what it published): proof of play."""

    # Not a "usage" of its video or channel in the admin (Wagtail's reference index): the log
    # is written at every item, and would fill the index with rows nobody reads.
    wagtail_reference_index_ignore = True

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="as_run")
    scheduled_item = models.ForeignKey(
        ScheduledItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset = models.ForeignKey(
        "broadcasting.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(verbose_name=_("title"), max_length=200)
    role = models.CharField(verbose_name=_("role"), max_length=20, choices=ItemRole)
    planned_start = models.DateTimeField(verbose_name=_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(verbose_name=_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(verbose_name=_("actual start"), db_index=True)
    actual_end = models.DateTimeField(verbose_name=_("actual end"))
    reason = models.CharField(
        verbose_name=_("reason"), max_length=20, choices=AsRunReason, default=AsRunReason.AS_PLANNED
    )
    note = models.CharField(verbose_name=_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("as-run entry")
        verbose_name_plural = _("as-run log")
        ordering = ["-actual_start"]
        # One entry per start on a channel: two playouts (or one re-running a boundary) cannot
        # log the same start twice, and the playout writes through it (``get_or_create``). An
        # item resumed after an override starts again, later: a second entry. Its index also
        # serves the log's reads by channel and time.
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "actual_start"], name="as_run_one_entry_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.actual_start:%Y-%m-%d %H:%M:%S} {self.title}"


class CardCategory(models.TextChoices):
    """Kinds of information card the city feeds provide (resolved by the playout)."""

    WEATHER = "weather", _("Weather")
    PARKING = "parking", _("Parking")
    AIR_QUALITY = "air_quality", _("Air quality")
    TRAFFIC = "traffic", _("Traffic")
    EVENTS = "events", _("Events")
    CITY_NEWS = "city_news", _("City news")
    MAP = "map", _("Map")


def _segment_multiple(value: float) -> None:
    if round(value * 1000) % DEFAULT_FORMAT.segment_ms:
        raise ValidationError(_("The length must be a multiple of 4.8 s (one segment)."))


class FillerSet(ClusterableModel):
    """What surrounds and pads a block's programmes: idents, pre/post-rolls, interstitials and
    reserved card slots (maps onto ``rules.FillerPolicy``)."""

    name = models.CharField(verbose_name=_("name"), max_length=100)
    idents = ParentalManyToManyField(
        "broadcasting.Asset", verbose_name=_("idents"), blank=True, related_name="+"
    )
    prerolls = ParentalManyToManyField(
        "broadcasting.Asset", verbose_name=_("pre-rolls"), blank=True, related_name="+"
    )
    postrolls = ParentalManyToManyField(
        "broadcasting.Asset", verbose_name=_("post-rolls"), blank=True, related_name="+"
    )
    interstitials = ParentalManyToManyField(
        "broadcasting.Asset", verbose_name=_("interstitials"), blank=True, related_name="+"
    )
    ident_every_n_items = models.PositiveSmallIntegerField(
        verbose_name=_("an ident every N programmes"), null=True, blank=True
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("idents"),
        FieldPanel("ident_every_n_items"),
        FieldPanel("prerolls"),
        FieldPanel("postrolls"),
        FieldPanel("interstitials"),
        InlinePanel("card_slots", label=_("Card slots")),
    ]

    class Meta:
        verbose_name = _("filler set")
        verbose_name_plural = _("filler sets")

    def __str__(self) -> str:
        return self.name


class CardSlot(Orderable):
    """A reserved slot ("a parking card here, 9.6 s") after every N programmes."""

    filler_set = ParentalKey(FillerSet, on_delete=models.CASCADE, related_name="card_slots")
    category = models.CharField(verbose_name=_("card"), max_length=40, choices=CardCategory)
    length_seconds = models.FloatField(
        verbose_name=_("length (s)"), default=9.6, validators=[_segment_multiple]
    )
    every_n_items = models.PositiveSmallIntegerField(
        verbose_name=_("every N programmes"), default=1
    )

    panels = [
        FieldRowPanel(
            [FieldPanel("category"), FieldPanel("length_seconds"), FieldPanel("every_n_items")]
        )
    ]


class Rotation(models.Model):
    """A weighted random pool of videos chosen by kind, category and origin."""

    name = models.CharField(verbose_name=_("name"), max_length=100)
    categories = models.JSONField(
        verbose_name=_("categories"), default=list, blank=True, help_text=_("Empty: any.")
    )
    kinds = models.JSONField(verbose_name=_("kinds"), default=list, blank=True)
    origins = models.JSONField(
        verbose_name=_("origins"), default=list, blank=True, help_text=_("Empty: any.")
    )
    weights = models.JSONField(
        verbose_name=_("weights per category"),
        default=dict,
        blank=True,
        help_text=_('For example {"culture": 2, "sport": 0.5}; missing categories weigh 1.'),
    )
    no_repeat_hours = models.FloatField(verbose_name=_("no repeat within (hours)"), default=6)
    max_plays_per_day = models.PositiveSmallIntegerField(
        verbose_name=_("maximum plays per day"), null=True, blank=True
    )
    fresh_boost_days = models.FloatField(
        verbose_name=_("new residents' videos: boost for (days)"), default=7
    )
    fresh_boost = models.FloatField(verbose_name=_("boost factor"), default=3)

    class Meta:
        verbose_name = _("rotation")
        verbose_name_plural = _("rotations")

    def __str__(self) -> str:
        return self.name


class Playlist(ClusterableModel):
    """A fixed, ordered list of videos (played from the top at each block start, looping)."""

    name = models.CharField(verbose_name=_("name"), max_length=100)

    panels = [FieldPanel("name"), InlinePanel("items", label=_("Videos"))]

    class Meta:
        verbose_name = _("playlist")
        verbose_name_plural = _("playlists")

    def __str__(self) -> str:
        return self.name


class PlaylistItem(Orderable):
    playlist = ParentalKey(Playlist, on_delete=models.CASCADE, related_name="items")
    asset = models.ForeignKey(
        "broadcasting.Asset", verbose_name=_("video"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [FieldPanel("asset")]


class Block(models.Model):
    """A daypart of a channel: local start and end on some day types, filled by a rotation or a
    playlist, with its fillers (maps onto ``rules.Block``)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="blocks")
    name = models.CharField(verbose_name=_("name"), max_length=100)
    on_monday = models.BooleanField(verbose_name=_("Monday"), default=True)
    on_tuesday = models.BooleanField(verbose_name=_("Tuesday"), default=True)
    on_wednesday = models.BooleanField(verbose_name=_("Wednesday"), default=True)
    on_thursday = models.BooleanField(verbose_name=_("Thursday"), default=True)
    on_friday = models.BooleanField(verbose_name=_("Friday"), default=True)
    on_saturday = models.BooleanField(verbose_name=_("Saturday"), default=True)
    on_sunday = models.BooleanField(verbose_name=_("Sunday"), default=True)
    on_holiday = models.BooleanField(verbose_name=_("Public holidays"), default=False)
    start = models.TimeField(verbose_name=_("start (local time)"))
    end = models.TimeField(
        verbose_name=_("end (local time)"),
        help_text=_("An end before the start crosses midnight; 00:00–00:00 is the whole day."),
    )
    priority = models.SmallIntegerField(verbose_name=_("priority"), default=0)
    rotation = models.ForeignKey(
        Rotation, verbose_name=_("rotation"), null=True, blank=True, on_delete=models.PROTECT
    )
    playlist = models.ForeignKey(
        Playlist, verbose_name=_("playlist"), null=True, blank=True, on_delete=models.PROTECT
    )
    fillers = models.ForeignKey(
        FillerSet, verbose_name=_("fillers"), null=True, blank=True, on_delete=models.SET_NULL
    )

    panels = [
        FieldPanel("channel"),
        FieldPanel("name"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel(f"on_{day}") for day in DAYS]),
                FieldPanel("on_holiday"),
            ],
            heading=_("Days"),
        ),
        FieldRowPanel([FieldPanel("start"), FieldPanel("end"), FieldPanel("priority")]),
        FieldRowPanel([FieldPanel("rotation"), FieldPanel("playlist")]),
        FieldPanel("fillers"),
    ]

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["channel", "start", "-priority"]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if bool(self.rotation_id) == bool(self.playlist_id):
            raise ValidationError(_("Choose either a rotation or a playlist."))

    @property
    def day_types(self) -> frozenset[str]:
        days = {
            code for day, code in zip(DAYS, DAY_CODES, strict=True) if getattr(self, f"on_{day}")
        }
        return frozenset(days | ({"holiday"} if self.on_holiday else set()))


class Event(ClusterableModel):
    """A fixed-time programme, one-off or recurring (RFC 5545 RRULE), in local time."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="events")
    title = models.CharField(verbose_name=_("title"), max_length=200)
    description = models.TextField(verbose_name=_("description"), blank=True)
    start_date = models.DateField(verbose_name=_("date"))
    start_time = models.TimeField(verbose_name=_("time (local)"))
    rrule = models.CharField(
        verbose_name=_("repeat (RRULE)"),
        max_length=200,
        blank=True,
        help_text=_("For example FREQ=WEEKLY;BYDAY=SA for every Saturday. Empty: once."),
    )
    hard = models.BooleanField(
        verbose_name=_("hard start"),
        default=True,
        help_text=_("Cut what is on air to start on time; otherwise start after it."),
    )

    panels = [
        FieldPanel("channel"),
        FieldPanel("title"),
        FieldPanel("description"),
        FieldRowPanel([FieldPanel("start_date"), FieldPanel("start_time")]),
        FieldPanel("rrule"),
        FieldPanel("hard"),
        InlinePanel("items", label=_("Videos"), min_num=1),
    ]

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["start_date", "start_time"]

    def __str__(self) -> str:
        return f"{self.title} ({self.start_date} {self.start_time:%H:%M})"

    def clean(self) -> None:
        if self.rrule:
            try:
                rrulestr(self.rrule, dtstart=dt.datetime.combine(self.start_date, self.start_time))
            except (ValueError, TypeError) as err:
                raise ValidationError({"rrule": str(err)}) from err


class EventItem(Orderable):
    event = ParentalKey(Event, on_delete=models.CASCADE, related_name="items")
    asset = models.ForeignKey(
        "broadcasting.Asset", verbose_name=_("video"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [FieldPanel("asset")]
