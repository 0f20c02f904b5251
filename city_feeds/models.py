"""The city's data: where it comes from (``FeedSource``), what it says (``FeedItem``, one row
per normalised item, upserted by its external id), emergency alerts (``Alert``) and the area a
channel serves (``ChannelArea``), against which alerts are matched.

Adapters (``city_feeds/adapters/``) turn payloads into ``city_feeds.items.Item``; the services
store them here. Nothing here airs by itself: cards are videos of kind card (made from these
rows), alerts become ``broadcasting.Override`` rows through the live wing's override service.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    return secrets.token_urlsafe(32)


class FeedStandard(models.TextChoices):
    NGSI_LD = "ngsi-ld", "NGSI-LD"
    NGSI_V2 = "ngsiv2", "NGSIv2"
    CAP = "cap", "CAP"
    DATEX2 = "datex2", "DATEX II"
    RSS = "rss", "RSS / Atom"
    ICALENDAR = "icalendar", "iCalendar"
    GTFS_RT = "gtfs-rt", "GTFS-RT"
    OPEN311 = "open311", "Open311"
    JSON = "json", "JSON"
    CARILLON = "carillon", "Carillon"  # made by this site (residents' posts): no adapter


class FeedDelivery(models.TextChoices):
    POLL = "poll", _("Polled URL")
    PUSH = "push", _("Push (webhook)")
    MQTT = "mqtt", _("MQTT topic")
    LOCAL = "local", _("This site (residents' posts)")


class FeedSource(models.Model):
    """One source of city data, as editors set it in the admin, with its health."""

    name = models.CharField(verbose_name=_("name"), max_length=120)
    slug = models.SlugField(verbose_name=_("slug"), unique=True)
    standard = models.CharField(verbose_name=_("standard"), max_length=20, choices=FeedStandard)
    delivery = models.CharField(
        verbose_name=_("delivery"), max_length=10, choices=FeedDelivery, default=FeedDelivery.POLL
    )
    url = models.URLField(verbose_name=_("URL"), max_length=500, blank=True)
    topic = models.CharField(verbose_name=_("MQTT topic"), max_length=300, blank=True)
    allow_private_addresses = models.BooleanField(
        verbose_name=_("allow private addresses"),
        default=False,
        help_text=_("Only for a server of the city's own network: loopback never."),
    )
    credentials = models.JSONField(
        verbose_name=_("credentials"),
        default=dict,
        blank=True,
        help_text=_('Headers sent when polling, e.g. {"apikey": "…"}.'),
    )
    push_token = models.CharField(
        max_length=100,
        default=new_token,
        help_text="Sent by NGSI brokers in the X-Carillon-Token header (Orion's httpCustom).",
    )
    hmac_secret = models.CharField(
        max_length=100,
        default=new_token,
        help_text="Key of the HMAC-SHA256 signatures of the city's own systems.",
    )
    field_mapping = models.JSONField(
        verbose_name=_("field mapping"),
        default=dict,
        blank=True,
        help_text=_("For generic JSON: where the items are and which field is which."),
    )
    item_kind = models.CharField(
        verbose_name=_("kind of data"),
        max_length=20,
        blank=True,
        help_text=_("For standards that carry several kinds (JSON, RSS): the kind of its items."),
    )
    poll_interval_seconds = models.PositiveIntegerField(
        verbose_name=_("poll interval (s)"), default=300
    )
    ttl_seconds = models.PositiveIntegerField(
        verbose_name=_("time to live of its data (s)"), default=3600
    )
    area = models.CharField(verbose_name=_("area"), max_length=200, blank=True)
    enabled = models.BooleanField(verbose_name=_("enabled"), default=True)
    # Health
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_reason = models.TextField(blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)
    next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReviewState(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING = "pending", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class FeedItem(models.Model):
    """One normalised item of a source (``city_feeds.items.Item``), kept until its validity or
    the source's time to live ends; expired items never air. Citizen reports air only once an
    editor approved them (``review``), and never with a person's name or contact."""

    source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, db_index=True)
    external_id = models.CharField(max_length=300)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    values = models.JSONField(default=list, blank=True)  # [{"name", "value", "unit"}]
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True, db_index=True)
    severity = models.CharField(max_length=20, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    review = models.CharField(
        max_length=20, choices=ReviewState, default=ReviewState.NOT_NEEDED, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True, help_text="Never airs after this.")

    class Meta:
        verbose_name = _("data item")
        verbose_name_plural = _("data items")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="one_item_per_id")
        ]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class PushNonce(models.Model):
    """A nonce of a signed push already accepted: a replay is refused (kept in the database,
    not in a cache that may be away, until its timestamp is too old to be accepted anyway)."""

    source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "nonce"], name="one_use_per_nonce")
        ]

    def __str__(self) -> str:
        return self.nonce


class ChannelArea(models.Model):
    """The area a channel serves: geocodes as (valueName, value) pairs (INSEE commune codes,
    département numbers, NUTS3, MeteoAlarm's EMMA_ID) and its outline, a ring of (lat, lon)."""

    channel = models.OneToOneField(
        "playlists.Channel", on_delete=models.CASCADE, related_name="area"
    )
    geocodes = models.JSONField(default=list, blank=True)
    outline = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("channel area")
        verbose_name_plural = _("channel areas")

    def __str__(self) -> str:
        return f"{self.channel}"


class AlertState(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")
    IGNORED = "ignored", _("Not aired")  # a test, an exercise, not severe, outside the area


class Alert(models.Model):
    """An emergency alert (a CAP message, or issued by an editor in the admin) and, per
    channel it airs on, its override (``AlertAiring``)."""

    source = models.ForeignKey(
        FeedSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    identifier = models.CharField(max_length=300, unique=True)
    sender = models.CharField(max_length=300, blank=True)
    sent = models.DateTimeField()
    status = models.CharField(max_length=20)
    msg_type = models.CharField(max_length=20)
    category = models.CharField(max_length=40, blank=True)
    event = models.CharField(max_length=300, blank=True)
    urgency = models.CharField(max_length=20, blank=True)
    severity = models.CharField(max_length=20, blank=True)
    certainty = models.CharField(max_length=20, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    instruction = models.TextField(blank=True)
    language = models.CharField(max_length=20, blank=True)
    areas = models.JSONField(default=list, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=AlertState, default=AlertState.ACTIVE, db_index=True
    )
    state_reason = models.CharField(max_length=300, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    card = models.ForeignKey(
        "broadcasting.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-sent"]

    def __str__(self) -> str:
        return self.headline or self.event or self.identifier


class AlertAiring(models.Model):
    """The override an alert airs through on one channel."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="airings")
    channel = models.ForeignKey("playlists.Channel", on_delete=models.CASCADE, related_name="+")
    override = models.OneToOneField(
        "broadcasting.Override", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="one_airing_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.alert} on {self.channel}"


class AlertClip(models.Model):
    """The pre-encoded generic clip of one CAP category in one channel format ("Alerte —
    Météo"): it airs at once when an alert starts, looped, until the alert's own card is
    ready (``city_feeds.alert_clips``)."""

    category = models.CharField(max_length=20)  # CAP's: Met, Safety, Fire...
    channel_format = models.ForeignKey(
        "broadcasting.ChannelFormat", on_delete=models.CASCADE, related_name="+"
    )
    asset = models.ForeignKey("broadcasting.Asset", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("alert clip")
        verbose_name_plural = _("alert clips")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "channel_format"], name="one_alert_clip_per_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.channel_format_id}"


def _private_storage():  # type: ignore[no-untyped-def]
    from django.core.files.storage import storages

    return storages["private"]


class MapBackground(models.Model):
    """The map the map card draws on (car parks, disruptions, citizen reports), uploaded once by
    editors with the box it shows: its edges in degrees (WGS 84), the picture in Web Mercator
    (an OpenStreetMap export), kept in private storage. The newest one is used."""

    name = models.CharField(verbose_name=_("name"), max_length=120)
    image = models.ImageField(
        verbose_name=_("map picture"), upload_to="map-backgrounds/", storage=_private_storage
    )
    south = models.FloatField(verbose_name=_("south edge (latitude)"))
    west = models.FloatField(verbose_name=_("west edge (longitude)"))
    north = models.FloatField(verbose_name=_("north edge (latitude)"))
    east = models.FloatField(verbose_name=_("east edge (longitude)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("map background")
        verbose_name_plural = _("map backgrounds")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
