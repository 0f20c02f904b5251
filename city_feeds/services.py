"""Writes of the city data app: payloads in, items upserted, sources' health kept.

Every way a payload arrives (a poll, a push, an MQTT message, ``ingest_feed``) ends in
``payload_ingest``: the source's adapter parses the bytes (``city_feeds.adapters``), the items
are upserted by (source, external id) in one transaction, the source's health is updated, and
alert items are handed to the alerts side through ``signals.alert_items_received``. Items this
site makes itself (residents' approved posts, from ``cms``) are stored by ``local_items_store``
into a local source, which takes no payload from outside.
A payload that cannot be read (``FeedError``) or a URL that cannot be fetched (``FetchError``)
is recorded on the source (``source_failure_record``); after
``CARILLON_FEED_MAX_FAILURES`` failures in a row the source is disabled and the editors are told.
The items already stored stay until they expire (``expires_at``): a dead feed keeps its last
good data for their time to live, never longer.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from city_feeds.adapters import adapters
from city_feeds.cards.services import cards_refresh_enqueue
from city_feeds.fetch import FetchError, url_fetch
from city_feeds.items import FeedError, Item, ItemKind, ParseOptions
from city_feeds.models import (
    FeedDelivery,
    FeedItem,
    FeedSource,
    FeedStandard,
    PushNonce,
    ReviewState,
)
from city_feeds.signals import alert_items_received

logger = logging.getLogger(__name__)

EDITORS_GROUP = "Éditeurs CMIN"
REASON_MAX_CHARS = 1000


@dataclass(frozen=True)
class IngestResult:
    created: int
    updated: int
    alerts: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated


def payload_ingest(
    *, source: FeedSource, data: bytes, now: dt.datetime | None = None
) -> IngestResult:
    """Parse ``data`` with the source's adapter and store its items; raises ``FeedError``
    (recorded on the source) when the payload cannot be read."""
    now = now or timezone.now()
    try:
        items = _parse(source=source, data=data, now=now)
    except FeedError as err:
        source_failure_record(source=source, reason=str(err), now=now)
        raise
    with transaction.atomic():
        created, updated = _items_upsert(source=source, items=items, now=now)
        _alerts_superseded_expire(source=source, items=items, now=now)
        _source_success_record(source=source, now=now)
    alerts = tuple(item for item in items if item.kind == ItemKind.ALERT)
    if alerts:
        _alerts_hand_over(source=source, items=alerts)
    cards_refresh_enqueue(kinds={str(item.kind) for item in items})
    logger.info(
        "feed ingested source=%s created=%s updated=%s alerts=%s",
        source.slug, created, updated, len(alerts),
    )  # fmt: skip
    return IngestResult(created=created, updated=updated, alerts=len(alerts))


# --- Items this site makes itself: residents' approved posts ----------------------------------

RESIDENTS_SOURCE = "contributions-habitants"
LOCAL_KINDS = frozenset({ItemKind.NEWS, ItemKind.EVENT})  # what a local source may store


def residents_source() -> FeedSource:
    """The source of the residents' approved posts (made on first use): local, so it takes no
    push, no poll, no MQTT message; its items come only from ``local_items_store``."""
    source, _created = FeedSource.objects.get_or_create(
        slug=RESIDENTS_SOURCE,
        defaults={
            "name": gettext("Residents' posts"),
            "standard": FeedStandard.CARILLON,
            "delivery": FeedDelivery.LOCAL,
        },
    )
    return source


def local_items_store(
    *, source: FeedSource, items: list[Item], now: dt.datetime | None = None
) -> IngestResult:
    """Store items this site made (not parsed from a payload) as a payload's would be: upserted
    by external id, on the cards and the ticker once committed. News and events only: nothing
    local may start an alert."""
    now = now or timezone.now()
    if source.delivery != FeedDelivery.LOCAL:
        raise ValueError(f"{source.slug} is not a local source")
    if refused := sorted({str(i.kind) for i in items} - LOCAL_KINDS):
        raise ValueError(f"a local source stores no items of kind {refused}")
    with transaction.atomic():
        created, updated = _items_upsert(source=source, items=items, now=now)
        _source_success_record(source=source, now=now)
    cards_refresh_enqueue(kinds={str(item.kind) for item in items})
    return IngestResult(created=created, updated=updated, alerts=0)


def local_items_withdraw(
    *, source: FeedSource, external_ids: list[str], now: dt.datetime | None = None
) -> int:
    """Stop airing a local source's items now (a post taken down, deleted, sent back for
    changes): they expire, and the cards showing them are made again without them."""
    now = now or timezone.now()
    rows = FeedItem.objects.filter(source=source, external_id__in=external_ids, expires_at__gt=now)
    kinds = set(rows.values_list("kind", flat=True))
    withdrawn = rows.update(expires_at=now)
    cards_refresh_enqueue(kinds={str(kind) for kind in kinds})
    return withdrawn


def _parse(*, source: FeedSource, data: bytes, now: dt.datetime) -> list[Item]:
    parse = adapters().get(source.standard)
    if parse is None:
        raise FeedError(f"no adapter for the standard {source.standard!r}")
    options = ParseOptions(
        item_kind=source.item_kind,
        field_mapping=dict(source.field_mapping or {}),
        now=now,
        max_bytes=settings.CARILLON_FEED_MAX_BYTES,
    )
    if len(data) > options.max_bytes:
        raise FeedError(f"payload too large: {len(data)} bytes (limit {options.max_bytes})")
    try:
        return parse(data, options)
    except FeedError:
        raise
    except Exception as err:  # noqa: BLE001 - a hostile payload an adapter did not foresee
        logger.exception("adapter failed source=%s standard=%s", source.slug, source.standard)
        raise FeedError(f"unreadable payload ({type(err).__name__}: {err})") from err


def item_expiry(*, item: Item, source: FeedSource, now: dt.datetime) -> dt.datetime:
    """When an item stops airing: its own end of validity, else its observation (or its
    arrival) plus the source's time to live."""
    if item.valid_until is not None:
        return item.valid_until
    return (item.observed_at or now) + dt.timedelta(seconds=source.ttl_seconds)


def _row_fields(*, item: Item, source: FeedSource, now: dt.datetime) -> dict[str, object]:
    latitude, longitude = item.location if item.location is not None else (None, None)
    return {
        "kind": str(item.kind),
        "title": item.title[:300],
        "body": item.body,
        "values": [{"name": v.name, "value": v.value, "unit": v.unit} for v in item.values],
        "latitude": latitude,
        "longitude": longitude,
        "observed_at": item.observed_at,
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
        "severity": item.severity[:20],
        "extra": {**item.extra, **_alert_extra(item)},
        "expires_at": item_expiry(item=item, source=source, now=now),
    }


def _alert_extra(item: Item) -> dict[str, str]:
    """What the ticker needs of a CAP message: it shows only actual alerts, not cancels."""
    if item.alert is None:
        return {}
    return {
        "alert_identifier": item.alert.identifier,
        "alert_status": item.alert.status,
        "alert_msg_type": item.alert.msg_type,
    }


def _alerts_superseded_expire(*, source: FeedSource, items: list[Item], now: dt.datetime) -> None:
    """An Update or a Cancel ends the items of the alerts it refers to (the alerts side ends
    their airing; this keeps the ticker true)."""
    references = {
        ref
        for item in items
        if item.alert is not None and item.alert.msg_type in ("Update", "Cancel")
        for ref in item.alert.references
    }
    if references:
        FeedItem.objects.filter(
            source=source, extra__alert_identifier__in=sorted(references), expires_at__gt=now
        ).update(expires_at=now)


def _items_upsert(*, source: FeedSource, items: list[Item], now: dt.datetime) -> tuple[int, int]:
    """Insert new items, update known ones (the last of a payload's duplicates wins). A citizen
    report keeps the editors' decision across updates; a new one waits for their review."""
    latest = {item.external_id[:300]: item for item in items if item.external_id}
    existing = {
        row.external_id: row
        for row in FeedItem.objects.select_for_update().filter(
            source=source, external_id__in=list(latest)
        )
    }
    new_rows = []
    for external_id, item in latest.items():
        fields = _row_fields(item=item, source=source, now=now)
        row = existing.get(external_id)
        if row is None:
            review = (
                ReviewState.PENDING
                if item.kind == ItemKind.CITIZEN_REPORT
                else ReviewState.NOT_NEEDED
            )
            new_rows.append(
                FeedItem(source=source, external_id=external_id, review=review, **fields)
            )
            continue
        for name, value in fields.items():
            setattr(row, name, value)
        if item.kind == ItemKind.CITIZEN_REPORT and row.review == ReviewState.NOT_NEEDED:
            row.review = ReviewState.PENDING
        row.save()
    FeedItem.objects.bulk_create(new_rows)
    return len(new_rows), len(latest) - len(new_rows)


def _alerts_hand_over(*, source: FeedSource, items: tuple[Item, ...]) -> None:
    responses = alert_items_received.send_robust(sender=FeedSource, source=source, items=items)
    for receiver, response in responses:
        if isinstance(response, Exception):
            logger.error(
                "alert receiver failed source=%s receiver=%s",
                source.slug, receiver, exc_info=response,
            )  # fmt: skip


def _source_success_record(*, source: FeedSource, now: dt.datetime) -> None:
    FeedSource.objects.filter(pk=source.pk).update(last_success_at=now, consecutive_failures=0)
    source.last_success_at = now
    source.consecutive_failures = 0


def source_failure_record(
    *, source: FeedSource, reason: str, now: dt.datetime | None = None
) -> FeedSource:
    """Record a failure on the source's health; past the limit, disable it (once) and tell
    the editors. Returns the source as it now is."""
    now = now or timezone.now()
    reason = reason[:REASON_MAX_CHARS]
    logger.warning("feed failure source=%s reason=%s", source.slug, reason)
    FeedSource.objects.filter(pk=source.pk).update(
        last_failure_at=now,
        last_failure_reason=reason,
        consecutive_failures=F("consecutive_failures") + 1,
    )
    source.refresh_from_db()
    if source.enabled and source.consecutive_failures >= settings.CARILLON_FEED_MAX_FAILURES:
        _source_disable(source=source, reason=reason)
    return source


def _source_disable(*, source: FeedSource, reason: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        disabled_reason = gettext(
            "Disabled after %(count)s failures in a row. Last: %(reason)s"
        ) % {"count": source.consecutive_failures, "reason": reason}
    claimed = FeedSource.objects.filter(pk=source.pk, enabled=True).update(
        enabled=False, disabled_reason=disabled_reason
    )
    source.refresh_from_db()
    if claimed:  # only the one who disabled it tells the editors
        logger.error("feed disabled source=%s reason=%s", source.slug, reason)
        transaction.on_commit(lambda: source_disabled_notify(source_id=source.pk))


def source_disabled_notify(*, source_id: int) -> None:
    """E-mail the editors that a source was disabled (the admin's dashboard shows it too)."""
    source = FeedSource.objects.get(pk=source_id)
    editors = get_user_model().objects.filter(groups__name=EDITORS_GROUP, is_active=True)
    recipients = sorted({user.email for user in editors if user.email})
    if not recipients:
        logger.warning("no editor to tell that source=%s is disabled", source.slug)
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Data source disabled: %(name)s") % {"name": source.name}
        body = gettext(
            "The data source “%(name)s” failed too often and was disabled.\n\n%(reason)s\n\n"
            "Its last data stay on air until they expire. Once it is repaired, enable it "
            "again in the admin: %(url)s"
        ) % {
            "name": source.name,
            "reason": source.disabled_reason,
            "url": _source_admin_url(source),
        }
    send_mail(subject, body, None, recipients, fail_silently=False)


def _source_admin_url(source: FeedSource) -> str:
    try:
        path = reverse("feed_sources:edit", args=[source.pk])
    except NoReverseMatch:  # the admin's URLs may not be mounted
        path = "/admin/"
    return settings.CARILLON_BASE_URL.rstrip("/") + path


def source_enable(*, source: FeedSource) -> None:
    """An editor enables a source again: its failure count starts over and it is polled now."""
    FeedSource.objects.filter(pk=source.pk).update(
        enabled=True, disabled_reason="", consecutive_failures=0, next_poll_at=None
    )
    source.refresh_from_db()


def source_poll(
    *, source: FeedSource, now: dt.datetime | None = None, record_transient: bool = True
) -> IngestResult | None:
    """Fetch the source's URL and ingest it. A fetch failure is recorded on the source and
    ``None`` returned, except a transient one when ``record_transient`` is false: then the
    ``FetchError`` is raised for the caller to try again. A payload that cannot be read is
    recorded and ``None`` returned."""
    now = now or timezone.now()
    try:
        data = url_fetch(
            url=source.url,
            headers={str(k): str(v) for k, v in (source.credentials or {}).items()},
            allow_private=source.allow_private_addresses,
        )
    except FetchError as err:
        if err.transient and not record_transient:
            raise
        source_failure_record(source=source, reason=err.reason, now=now)
        return None
    try:
        return payload_ingest(source=source, data=data, now=now)
    except FeedError:
        return None


def sources_due_claim(*, now: dt.datetime | None = None) -> list[int]:
    """The ids of the enabled polled sources due now, each claimed (its next poll moved on)
    by a conditional update, so two beats never enqueue one source twice."""
    now = now or timezone.now()
    due = FeedSource.objects.filter(enabled=True, delivery=FeedDelivery.POLL).exclude(url="")
    due = due.filter(next_poll_at__isnull=True) | due.filter(next_poll_at__lte=now)
    claimed = []
    for source_id, interval, previous in due.values_list(
        "pk", "poll_interval_seconds", "next_poll_at"
    ):
        following = now + dt.timedelta(seconds=max(interval, 10))
        if FeedSource.objects.filter(pk=source_id, next_poll_at=previous).update(
            next_poll_at=following
        ):
            claimed.append(source_id)
    return claimed


def items_expire(*, now: dt.datetime | None = None, keep: dt.timedelta | None = None) -> int:
    """Delete the items that expired more than ``keep`` ago (a day by default: until then the
    item browser still shows them, marked expired; they never air after ``expires_at``)."""
    now = now or timezone.now()
    keep = dt.timedelta(days=1) if keep is None else keep
    deleted, _ = FeedItem.objects.filter(expires_at__lte=now - keep).delete()
    return deleted


def push_nonces_prune(*, now: dt.datetime | None = None) -> int:
    """Forget the nonces whose timestamps are too old to be accepted anyway."""
    now = now or timezone.now()
    horizon = now - dt.timedelta(seconds=2 * settings.CARILLON_FEED_PUSH_MAX_SKEW_SECONDS)
    deleted, _ = PushNonce.objects.filter(received_at__lt=horizon).delete()
    return deleted


def push_nonce_use(*, source: FeedSource, nonce: str) -> bool:
    """Record a signed push's nonce; ``False`` if it was used before (a replay)."""
    _, created = PushNonce.objects.get_or_create(source=source, nonce=nonce)
    return created


def report_review(*, item: FeedItem, approve: bool, editor: AbstractBaseUser) -> None:
    """An editor approves (it may air) or rejects a citizen report."""
    item.review = ReviewState.APPROVED if approve else ReviewState.REJECTED
    item.reviewed_by = editor  # type: ignore[assignment]
    item.save(update_fields=["review", "reviewed_by", "updated_at"])
    cards_refresh_enqueue(kinds={str(ItemKind.CITIZEN_REPORT)})
