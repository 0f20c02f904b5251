"""Writes of the cards: refresh a card from the city's fresh items, withdraw it when its data
have gone, prune the old ones.

``cards_refresh`` builds what the card of a category says now; if the newest card already says
exactly that, only its validity is extended. Otherwise a new card is drawn and imported
(``encode.card_encode``: an approved video of kind card, transcoded on the ``cards`` queue),
at most once a minute per category (a throttle in Redis, shared by every worker): a refresh
refused by it is sent again when the minute is over, once. A category with nothing fresh to
say has its cards withdrawn (their expiry set to now: the playout's selector no longer offers
them, the ident airs). Old cards are deleted by ``cards_prune`` some minutes after they stopped
airing.
"""

import datetime as dt
import enum
import logging
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from kombu.exceptions import OperationalError as BrokerError
from PIL import Image, UnidentifiedImageError
from redis.exceptions import RedisError

from broadcasting.media.selectors import channel_format_default
from broadcasting.models import Asset, AssetKind, ProcessingState
from city_feeds.cards import encode
from city_feeds.cards.content import KINDS, MAP, CardContent, card_content
from city_feeds.cards.map import BoundingBox, map_content, map_points, render_map
from city_feeds.cards.render import RenderedCard, render_card
from city_feeds.cards.selectors import card_latest, items_for_cards, map_background_latest
from city_feeds.models import MapBackground

logger = logging.getLogger(__name__)
REFRESH_TASK = "city_feeds.tasks_cards.refresh_card"
CARDS_QUEUE = "cards"
KEEP_AFTER_AIR = dt.timedelta(minutes=15)  # longer than any playout plan holds a card
MAX_BACKGROUND_PIXELS = 40_000_000


class CardOutcome(enum.StrEnum):
    MADE = "made"  # a new card was drawn and its clip queued
    UNCHANGED = "unchanged"  # the newest card already says this (its validity extended)
    THROTTLED = "throttled"  # made less than a minute ago: sent again when the minute is over
    WITHDRAWN = "withdrawn"  # nothing fresh to say: its cards no longer air
    FAILED = "failed"  # could not be drawn (an unusable map picture)


def card_categories() -> list[str]:
    return list(KINDS)


def cards_refresh(*, category: str, now: dt.datetime) -> CardOutcome:
    """Bring the card of ``category`` up to date with the fresh items at ``now``."""
    with translation.override(settings.LANGUAGE_CODE):  # the channel speaks French first
        drawn = _content_of(category=category, now=now)
        if drawn is None:
            cards_withdraw(category=category, now=now)
            return CardOutcome.WITHDRAWN
        content, background = drawn
        latest = card_latest(category=category)
        if latest is not None and latest.description == content.text:
            _extend(latest, expires_at=content.expires_at)
            return CardOutcome.UNCHANGED
        wait = throttle_wait(category=category, now=now)
        if wait > 0:
            transaction.on_commit(partial(_refresh_later, category=category, wait=wait))
            return CardOutcome.THROTTLED
        try:
            card = _render(content, background=background, now=now)
        except ValueError as err:  # an unusable map picture: editors must upload another
            logger.error("card not drawn category=%s: %s", category, err)
            return CardOutcome.FAILED
        title = f"{content.title} · {content.category}"
        encode.card_encode(
            image=card.image, content=content, title=title, spec=channel_format_default().to_spec()
        )
    return CardOutcome.MADE


def _content_of(
    *, category: str, now: dt.datetime
) -> tuple[CardContent, MapBackground | None] | None:
    items = items_for_cards(kinds=KINDS[category], now=now)
    if category != MAP:
        content = card_content(category, items, now=now)
        return None if content is None else (content, None)
    background = map_background_latest()
    content = map_content(items, now=now) if background is not None else None
    return None if content is None else (content, background)


def _render(
    content: CardContent, *, background: MapBackground | None, now: dt.datetime
) -> RenderedCard:
    if background is None:
        return render_card(content)
    items = items_for_cards(kinds=KINDS[MAP], now=now)
    return render_map(
        background=map_picture(background),
        box=BoundingBox(background.south, background.west, background.north, background.east),
        points=map_points(items),
        content=content,
    )


def map_picture(background: MapBackground) -> Image.Image:
    """The editor's map picture, read from private storage (a decompression bomb refused)."""
    with storages["private"].open(background.image.name, "rb") as handle:
        try:
            picture = Image.open(handle)
            if picture.width * picture.height > MAX_BACKGROUND_PIXELS:
                raise ValueError(f"map picture too large: {picture.width}x{picture.height}")
            picture.load()
        except (UnidentifiedImageError, Image.DecompressionBombError) as err:
            raise ValueError(f"map picture unreadable: {err}") from err
    return picture


def _extend(card: Asset, *, expires_at: dt.datetime) -> None:
    """The same data, still true: the card (and any newer one of its category) airs longer."""
    Asset.objects.filter(
        kind=AssetKind.CARD, card_category=card.card_category, pk__gte=card.pk
    ).update(card_expires_at=expires_at)


def min_interval_seconds() -> int:
    """How often a category's card may be made at most (``CARILLON_CARD_MIN_INTERVAL_SECONDS``,
    60 s unless set)."""
    return int(settings.CARILLON_CARD_MIN_INTERVAL_SECONDS)


def throttle_wait(*, category: str, now: dt.datetime) -> float:
    """0 when a card of ``category`` may be made at ``now`` (and the minute starts), else the
    seconds left before it may. Kept in Redis for every worker; when Redis is away the card is
    made (a card too many is better than a stale one)."""
    interval = min_interval_seconds()
    key = f"carillon:cards:made:{category}"
    stamp = now.timestamp()
    try:
        if cache.add(key, stamp, timeout=interval):
            return 0.0
        last = cache.get(key)
        if last is None or stamp - float(last) >= interval:
            cache.set(key, stamp, timeout=interval)
            return 0.0
    except (RedisError, OSError) as err:
        logger.warning("card throttle unavailable category=%s: %s", category, err)
        return 0.0
    return interval - (stamp - float(last))


def _refresh_later(*, category: str, wait: float) -> None:
    """Send one refresh for when the minute is over (the changes that came meanwhile)."""
    try:
        if not cache.add(f"carillon:cards:pending:{category}", 1, timeout=max(1, int(wait))):
            return
        current_app.send_task(
            REFRESH_TASK, args=[category], queue=CARDS_QUEUE, countdown=wait + 0.5, retry=False
        )
    except (BrokerError, RedisError, OSError) as err:
        logger.warning("card refresh not sent category=%s (beat catches up): %s", category, err)


def cards_refresh_enqueue(*, kinds: set[str]) -> None:
    """After commit, refresh the cards that items of ``kinds`` appear on (the ingest calls it)."""
    for category in (c for c, shown in KINDS.items() if shown & kinds):
        transaction.on_commit(partial(_send_refresh, category=category))


def _send_refresh(*, category: str) -> None:
    try:
        current_app.send_task(REFRESH_TASK, args=[category], queue=CARDS_QUEUE, retry=False)
    except (BrokerError, RedisError, OSError) as err:
        logger.warning("card refresh not sent category=%s (beat catches up): %s", category, err)


def cards_withdraw(*, category: str, now: dt.datetime) -> int:
    """Stop airing the cards of ``category`` (their data are gone): their expiry becomes now."""
    withdrawn = (
        Asset.objects.filter(kind=AssetKind.CARD, card_category=category)
        .filter(Q(card_expires_at__isnull=True) | Q(card_expires_at__gt=now))
        .update(card_expires_at=now)
    )
    if withdrawn:
        logger.info("cards withdrawn category=%s count=%s", category, withdrawn)
    return withdrawn


def cards_prune(*, now: dt.datetime) -> int:
    """Delete the cards that stopped airing more than ``KEEP_AFTER_AIR`` ago: expired ones,
    failed ones, and ready ones superseded by a newer ready card of their category (their
    files go with them: ``broadcasting.signal_handlers``)."""
    before = now - KEEP_AFTER_AIR
    cards = Asset.objects.filter(kind=AssetKind.CARD).exclude(card_category="")
    doomed = set(
        cards.filter(
            Q(card_expires_at__lt=before) | Q(state=ProcessingState.FAILED, created_at__lt=before)
        ).values_list("pk", flat=True)
    )
    for category in set(cards.values_list("card_category", flat=True)):
        ready = cards.filter(card_category=category, state=ProcessingState.READY)
        newest = ready.order_by("-ready_at", "-pk").first()
        if newest is not None and newest.ready_at is not None and newest.ready_at < before:
            superseded = ready.filter(ready_at__lt=newest.ready_at)
            doomed |= set(superseded.values_list("pk", flat=True))
    for asset in Asset.objects.filter(pk__in=doomed):
        asset.delete()
    if doomed:
        logger.info("cards pruned count=%s", len(doomed))
    return len(doomed)
