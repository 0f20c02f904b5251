"""Emergency alerts: from a CAP message, or an editor, to overrides on the channels concerned.

``alert_receive`` stores each alert item (by its CAP identifier) and decides:

- only an ``Actual`` alert airs (``Test``, ``Exercise``, ``System``, ``Draft``: stored, never
  aired), and only when it is severe (``Severe``/``Extreme``) or its urgency ``Immediate``, not
  expired, and its area meets a channel's (``city_feeds.areas``);
- an ``Update`` or ``Cancel`` ends the alerts it references (of the same sender): a Cancel ends
  them, an Update replaces them with itself.

An alert airs on a channel (``AlertAiring``) through overrides of the live wing
(``broadcasting.live.overrides``), reason ``alert``, above any manual take-over. Each starts
at the first boundary the playout has NOT published yet (``broadcasting.live.published``), so
that the as-run log, written from what the playout published, stays true; each ends the same way.

1. At once: the category's generic clip (``city_feeds.alert_clips``), looped.
2. Its own card (headline, description, instruction) is made on the ``cards`` queue
   (``alert_card_build``); once ready it replaces the generic clip and airs once.
3. Then the card comes back every ``CARILLON_ALERT_REPEAT_MINUTES`` (default 15), just before
   the next programme starts when one starts soon after (``alerts_tick``, run by beat), until
   the alert expires or is cancelled. The ticker shows it meanwhile (``alerts_on_air``).

When its overrides end, the channel resumes its schedule at wall clock (or a manual take-over
still active, at its own wall clock). Editors issue and end alerts in the admin console
(``alert_issue``, ``alert_end``): the same services.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasting.live.overrides import Actor, override_end, override_start
from broadcasting.live.published import first_unpublished_boundary
from broadcasting.media.grid import grid_ceil
from broadcasting.models import Asset, Override, OverrideReason, ProcessingState
from city_feeds.alert_clips import alert_card_make, alert_clip_for, category_of
from city_feeds.areas import area_from_json, area_matches, area_to_json, channel_geocodes
from city_feeds.items import AlertFacts, Item
from city_feeds.models import Alert, AlertAiring, AlertState, ChannelArea, FeedSource
from playlists.models import Channel
from playlists.selectors import scheduled_items

logger = logging.getLogger(__name__)

AIRED_STATUS = "Actual"
SEVERE = frozenset({"Severe", "Extreme"})
# Alerts rank above manual take-overs (100) and the default alert priority (200).
PRIORITY = {"Extreme": 220, "Severe": 210}
DEFAULT_PRIORITY = 200
REPEAT_AHEAD = dt.timedelta(minutes=5)  # a repeat is planned this long before it airs
PROGRAMME_WAIT = dt.timedelta(minutes=10)  # how long a repeat waits for a programme's start
JUST_BEFORE = dt.timedelta(microseconds=1)
CARD_RESEND_AFTER = dt.timedelta(minutes=2)  # a card not made by then is queued again
MANUAL_SENDER = "carillon"


def repeat_every() -> dt.timedelta:
    minutes = settings.CARILLON_ALERT_REPEAT_MINUTES
    return dt.timedelta(minutes=max(1, int(minutes)))


def alert_ref(alert: Alert) -> str:
    """What the alert's overrides carry in ``Override.alert_ref`` (unique by the alert's id)."""
    return f"{alert.pk}:{alert.identifier}"[:100]


def alert_priority(alert: Alert) -> int:
    return PRIORITY.get(alert.severity, DEFAULT_PRIORITY)


def referenced_identifier(reference: str) -> str:
    """An identifier from a CAP reference ``sender,identifier,sent`` (or a bare identifier)."""
    parts = reference.split(",")
    return parts[1].strip() if len(parts) == 3 else reference.strip()


def airing_refusal(*, alert: Alert, now: dt.datetime) -> str | None:
    """Why the alert must not air, or ``None`` when it may (its area aside)."""
    if alert.status != AIRED_STATUS:
        return _("Status %(status)s: never aired.") % {"status": alert.status or "?"}
    if alert.msg_type not in ("Alert", "Update"):
        return _("Message type %(type)s: not aired.") % {"type": alert.msg_type or "?"}
    if alert.expires is not None and alert.expires <= now:
        return _("Already expired.")
    if alert.severity not in SEVERE and alert.urgency != "Immediate":
        return _("Neither severe nor immediate.")
    return None


# --- selectors --------------------------------------------------------------------------------


def channels_concerned(*, alert: Alert) -> list[Channel]:
    """The channels on air whose area the alert's areas meet."""
    areas = [area_from_json(area) for area in alert.areas]
    served = ChannelArea.objects.select_related("channel__channel_format").filter(
        channel__is_active=True
    )
    return [
        area.channel
        for area in served
        if area_matches(
            areas=areas, geocodes=channel_geocodes(area.geocodes), outline=area.outline or []
        )
    ]


def alert_overrides(alert: Alert) -> QuerySet[Override]:
    """Every override the alert aired or will air through, on every channel, by start."""
    return (
        Override.objects.select_related("channel__channel_format", "asset")
        .filter(reason=OverrideReason.ALERT, alert_ref=alert_ref(alert))
        .order_by("start", "pk")
    )


def alerts_on_air(*, channel: Channel, now: dt.datetime | None = None) -> QuerySet[Alert]:
    """The active alerts airing on ``channel`` (for the ticker)."""
    now = now or timezone.now()
    return (
        Alert.objects.filter(state=AlertState.ACTIVE, airings__channel=channel)
        .filter(Q(expires__isnull=True) | Q(expires__gt=now))
        .distinct()
        .order_by("-sent")
    )


# --- receiving --------------------------------------------------------------------------------


def _fields_of(item: Item, facts: AlertFacts, source: FeedSource | None) -> dict[str, object]:
    return {
        "source": source,
        "sender": facts.sender[:300],
        "sent": facts.sent,
        "status": facts.status[:20],
        "msg_type": facts.msg_type[:20],
        "category": category_of(item.extra.get("category", "")),
        "event": facts.event[:300],
        "urgency": facts.urgency[:20],
        "severity": item.severity[:20],
        "certainty": facts.certainty[:20],
        "headline": item.title[:300],
        "description": item.body,
        "instruction": facts.instruction,
        "language": facts.language[:20],
        "areas": [area_to_json(area) for area in facts.areas],
        "expires": item.valid_until,
    }


def _ignore(alert: Alert, reason: str) -> Alert:
    alert.state = AlertState.IGNORED
    alert.state_reason = reason[:300]
    alert.save(update_fields=["state", "state_reason"])
    logger.info("alert not aired alert=%s: %s", alert.pk, reason)
    return alert


def _referenced(facts: AlertFacts, *, alert: Alert) -> list[Alert]:
    """The earlier alerts an Update or Cancel refers to: the same sender's only."""
    identifiers = {referenced_identifier(r) for r in facts.references} - {alert.identifier}
    found = Alert.objects.filter(identifier__in=identifiers, sender=facts.sender)
    return list(found.exclude(pk=alert.pk))


@transaction.atomic
def alert_receive(
    *, item: Item, source: FeedSource | None, now: dt.datetime | None = None
) -> Alert:
    """Store an alert item and air it where it must (see the module's docstring). Receiving
    the same alert again (a polled feed) updates its texts and expiry, never airs it twice."""
    facts = item.alert
    if facts is None:
        raise ValueError("an alert item carries AlertFacts")
    now = now or timezone.now()
    alert, created = Alert.objects.select_for_update().get_or_create(
        identifier=facts.identifier[:300], defaults=_fields_of(item, facts, source)
    )
    if not created:
        for name, value in _fields_of(item, facts, source).items():
            setattr(alert, name, value)
        alert.save()
        if alert.state != AlertState.IGNORED:
            return alert  # airing, or ended: as it was
    if facts.status == AIRED_STATUS and facts.msg_type in ("Update", "Cancel"):
        _end_referenced(facts, alert=alert, now=now)
        if facts.msg_type == "Cancel":
            return _ignore(alert, _("A cancellation: it ends the alerts it refers to."))
    refusal = airing_refusal(alert=alert, now=now)
    if refusal is not None:
        return _ignore(alert, refusal)
    channels = channels_concerned(alert=alert)
    if not channels:
        return _ignore(alert, _("Outside the area of every channel."))
    return _air_on(alert, channels=channels, now=now)


def _end_referenced(facts: AlertFacts, *, alert: Alert, now: dt.datetime) -> None:
    for earlier in _referenced(facts, alert=alert):
        if facts.msg_type == "Cancel":
            reason = _("Cancelled by %(id)s.") % {"id": alert.identifier}
            alert_end(alert=earlier, state=AlertState.CANCELLED, reason=reason, now=now)
        else:
            reason = _("Replaced by its update %(id)s.") % {"id": alert.identifier}
            alert_end(alert=earlier, state=AlertState.ENDED, reason=reason, now=now)


def _air_on(alert: Alert, *, channels: Iterable[Channel], now: dt.datetime) -> Alert:
    alert.state, alert.state_reason = AlertState.ACTIVE, ""
    alert.save(update_fields=["state", "state_reason"])
    for channel in channels:
        alert_air(alert=alert, channel=channel, now=now)
    transaction.on_commit(lambda: _send_card_build(alert.pk), robust=True)
    return alert


def _send_card_build(alert_id: int) -> None:
    """Queue the card's making (a broker outage is logged; ``alerts_tick`` sends it again)."""
    from city_feeds.tasks_alerts import alert_card_build_task  # noqa: PLC0415 - tasks sit above

    try:
        alert_card_build_task.apply_async(args=(alert_id,), retry=False)
    except Exception as err:  # noqa: BLE001 - a broker error of any kind must not fail a push
        logger.warning("alert card not queued alert=%s: %s", alert_id, err)


# --- airing -----------------------------------------------------------------------------------


def _card_for(alert: Alert, channel: Channel) -> Asset | None:
    card = alert.card
    if card is None or card.state != ProcessingState.READY:
        return None
    return card if card.channel_format_id == channel.channel_format_id else None


def _override_from(
    *, alert: Alert, channel: Channel, asset: Asset, start: dt.datetime, looped: bool
) -> Override:
    """An override of the alert from ``start`` (a boundary): looped until ended, or once."""
    segment = dt.timedelta(milliseconds=channel.channel_format.segment_ms)
    return override_start(
        channel=channel, asset=asset, reason=OverrideReason.ALERT,
        note=(alert.headline or alert.event)[:200],
        end=None if looped else start + asset.segment_count * segment,
        repeat=looped, now=start - JUST_BEFORE, alert_ref=alert_ref(alert),
        priority=alert_priority(alert),
    )  # fmt: skip


def alert_air(*, alert: Alert, channel: Channel, now: dt.datetime | None = None) -> AlertAiring:
    """Put the alert on ``channel`` from its first unpublished boundary: its card when ready,
    else its category's generic clip, looped. Without either (no generic clip made yet for the
    channel's format), the airing waits and the clip is queued for making."""
    now = now or timezone.now()
    airing, _created = AlertAiring.objects.select_related("override").get_or_create(
        alert=alert, channel=channel
    )
    if airing.override is not None and airing.override.ended_at is None:
        return airing
    card = _card_for(alert, channel)
    clip = card or alert_clip_for(
        category=alert.category, channel_format_id=channel.channel_format_id
    )
    if clip is None:
        logger.error("no alert clip to air alert=%s channel=%s", alert.pk, channel.slug)
        transaction.on_commit(lambda: _send_clip_build(channel.channel_format_id), robust=True)
        return airing
    start = first_unpublished_boundary(channel=channel, now=now)
    airing.override = _override_from(
        alert=alert, channel=channel, asset=clip, start=start, looped=card is None
    )
    airing.save(update_fields=["override"])
    logger.info("alert on air alert=%s channel=%s from=%s", alert.pk, channel.slug, start)
    return airing


def _send_clip_build(channel_format_id: int) -> None:
    from city_feeds.tasks_alerts import alert_clips_build_task  # noqa: PLC0415 - tasks sit above

    try:
        alert_clips_build_task.apply_async(args=(channel_format_id,), retry=False)
    except Exception as err:  # noqa: BLE001 - a broker error of any kind must not fail a push
        logger.warning("alert clips not queued format=%s: %s", channel_format_id, err)


def _switch_to_card(airing: AlertAiring, *, card: Asset, now: dt.datetime) -> None:
    """End what the airing airs at the first unpublished boundary and air the card from it."""
    channel, alert = airing.channel, airing.alert
    start = first_unpublished_boundary(channel=channel, now=now)
    if airing.override is not None:
        override_end(override=airing.override, now=start - JUST_BEFORE)
    airing.override = _override_from(
        alert=alert, channel=channel, asset=card, start=start, looped=False
    )
    airing.save(update_fields=["override"])
    logger.info("alert card on air alert=%s channel=%s from=%s", alert.pk, channel.slug, start)


def alert_card_ready(*, alert: Alert, now: dt.datetime | None = None) -> int:
    """The alert's card is ready: it replaces the generic clip on every channel airing it
    (in the card's format). How many airings switched."""
    now = now or timezone.now()
    switched = 0
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",)).select_related("card").get(pk=alert.pk)
        )
        if alert.state != AlertState.ACTIVE:
            return 0
        for airing in _airings(alert):
            card = _card_for(alert, airing.channel)
            if card is not None and (
                airing.override is None or airing.override.asset_id != card.pk
            ):
                _switch_to_card(airing, card=card, now=now)
                switched += 1
    return switched


def _airings(alert: Alert) -> list[AlertAiring]:
    return list(alert.airings.select_related("channel__channel_format", "override", "alert__card"))


def alert_card_build(*, alert_id: int, now: dt.datetime | None = None) -> Asset | None:
    """Make the alert's card (once) in the format of the first channel airing it, then put it
    on air. Seconds of ffmpeg: run on the ``cards`` queue (``tasks_alerts``)."""
    alert = Alert.objects.select_related("card").get(pk=alert_id)
    airing = alert.airings.select_related("channel__channel_format").order_by("pk").first()
    if alert.state != AlertState.ACTIVE or airing is None:
        return None
    card = alert.card
    if card is None or card.state == ProcessingState.FAILED:
        card = alert_card_make(
            category=alert.category, headline=alert.headline or alert.event,
            description=alert.description, instruction=alert.instruction,
            channel_format=airing.channel.channel_format,
        )  # fmt: skip
        Alert.objects.filter(pk=alert.pk).update(card=card)
        alert.card = card
    if card.state == ProcessingState.READY:
        alert_card_ready(alert=alert, now=now)
    return card


# --- ending -----------------------------------------------------------------------------------


def alert_end(
    *,
    alert: Alert,
    state: str = AlertState.ENDED,
    reason: str = "",
    user: Actor = None,
    now: dt.datetime | None = None,
) -> Alert:
    """End every override of the alert at its channel's first unpublished boundary (those
    planned later never air) and record why; the schedule resumes at wall clock."""
    now = now or timezone.now()
    with transaction.atomic():
        for override in alert_overrides(alert).filter(Q(end__isnull=True) | Q(end__gt=now)):
            boundary = first_unpublished_boundary(channel=override.channel, now=now)
            override_end(override=override, user=user, now=boundary - JUST_BEFORE)
        alert.state, alert.state_reason, alert.ended_at = state, reason[:300], now
        alert.save(update_fields=["state", "state_reason", "ended_at"])
    logger.info("alert ended alert=%s state=%s", alert.pk, state)
    return alert


# --- the beat's round: expiry, cards, repeats -------------------------------------------------


def alerts_tick(*, now: dt.datetime | None = None) -> int:
    """End the expired alerts, put ready cards on air, plan the cards' next repeats; how many
    overrides or alerts changed. Run by beat every ``CARILLON_ALERT_TICK_SECONDS``."""
    now = now or timezone.now()
    changed = 0
    for alert in Alert.objects.filter(state=AlertState.ACTIVE).select_related("card"):
        if alert.expires is not None and alert.expires <= now:
            alert_end(alert=alert, reason=_("Expired."), now=now)
            changed += 1
            continue
        changed += alert_card_ready(alert=alert, now=now)
        for airing in _airings(alert):
            changed += _airing_advance(alert, airing, now=now)
        if alert.card is None and now - alert.received_at > CARD_RESEND_AFTER:
            _send_card_build(alert.pk)  # lost by a broker outage, or failed
    return changed


def _airing_advance(alert: Alert, airing: AlertAiring, *, now: dt.datetime) -> int:
    if airing.override is None:  # no clip was ready when it came
        return int(alert_air(alert=alert, channel=airing.channel, now=now).override is not None)
    return int(_plan_repeat(alert, airing, now=now) is not None)


def _plan_repeat(alert: Alert, airing: AlertAiring, *, now: dt.datetime) -> Override | None:
    """The card's next airing, ``repeat_every()`` after the last one ended, once it is
    ``REPEAT_AHEAD`` away: just before the next programme starts when one starts within
    ``PROGRAMME_WAIT``, else then; never at or after the alert's expiry."""
    card, last = _card_for(alert, airing.channel), airing.override
    if card is None or last is None or last.asset_id != card.pk or last.end is None:
        return None
    due = last.end + repeat_every()
    if now < due - REPEAT_AHEAD:
        return None
    channel = airing.channel
    start = max(
        _before_programme(channel, due, card=card),
        first_unpublished_boundary(channel=channel, now=now),
    )
    if alert.expires is not None and start >= alert.expires:
        return None
    with transaction.atomic():
        airing.override = _override_from(
            alert=alert, channel=channel, asset=card, start=start, looped=False
        )
        airing.save(update_fields=["override"])
    logger.info("alert card repeat alert=%s channel=%s at=%s", alert.pk, channel.slug, start)
    return airing.override


def _before_programme(channel: Channel, due: dt.datetime, *, card: Asset) -> dt.datetime:
    """When the card starts so that it ends as the first programme after ``due`` begins (within
    ``PROGRAMME_WAIT``); ``due``'s boundary when none begins then."""
    segment = dt.timedelta(milliseconds=channel.channel_format.segment_ms)
    length = card.segment_count * segment
    items = scheduled_items(channel=channel, start=due + length, end=due + PROGRAMME_WAIT + length)
    starts = [item.start for item in items if item.start >= due + length]
    if starts:
        return min(starts) - length
    return grid_ceil(due, epoch=channel.epoch, segment_ms=channel.channel_format.segment_ms)


# --- editors' alerts --------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualAlert:
    """What an editor writes in the alert console."""

    headline: str
    description: str = ""
    instruction: str = ""
    severity: str = "Severe"
    category: str = "Safety"
    expires: dt.datetime | None = None


def alert_issue(
    *,
    text: ManualAlert,
    channels: Sequence[Channel],
    user: Actor = None,
    now: dt.datetime | None = None,
) -> Alert:
    """An editor's alert, on the channels they chose (no area to match), through the same
    services as a CAP alert."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.create(
            identifier=f"{MANUAL_SENDER}-{uuid.uuid4()}", sender=MANUAL_SENDER, sent=now,
            status=AIRED_STATUS, msg_type="Alert", category=category_of(text.category),
            urgency="Immediate", severity=text.severity, certainty="Observed",
            headline=text.headline[:300], description=text.description,
            instruction=text.instruction, language="fr", expires=text.expires,
            issued_by=user if isinstance(user, User) and user.pk else None,
        )  # fmt: skip
        return _air_on(alert, channels=channels, now=now)
