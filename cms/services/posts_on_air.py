"""Residents' approved posts on the channel: the city news card, today's events card (a post
with an event date) and the ticker.

A post becomes an item of the city data app's local source (``city_feeds.services
.residents_source``): news for ``CARILLON_POST_ON_AIR_DAYS`` after its approval, or an event
from its date for ``CARILLON_POST_EVENT_HOURS``. Only its title and a plain-text excerpt go on
air, never its author. An approval puts it there; a post deleted, or decided otherwise, is taken
off at once (its item expires and the cards showing it are made again without it).
"""

import datetime as dt
import logging
from html import unescape

from django.conf import settings
from django.utils import timezone
from django.utils.html import strip_tags

from city_feeds.items import ORIGIN_RESIDENT_POST, Item, ItemKind
from city_feeds.services import local_items_store, local_items_withdraw, residents_source
from cms.models.submissions import Post, SubmissionState

logger = logging.getLogger(__name__)
EXCERPT_CHARS = 500


def post_external_id(post: Post) -> str:
    """The item's id in the local source: the post's public key (its id is never public)."""
    return f"post:{post.public_key}"


def post_item(post: Post, *, now: dt.datetime) -> Item:
    """What of ``post`` goes on air, and until when."""
    excerpt = " ".join(unescape(strip_tags(post.body)).split())[:EXCERPT_CHARS]
    extra = {"origin": ORIGIN_RESIDENT_POST}
    if post.event_start is not None:
        return Item(
            kind=ItemKind.EVENT, external_id=post_external_id(post), title=post.title,
            body=excerpt, valid_from=post.event_start,
            valid_until=post.event_start + dt.timedelta(hours=settings.CARILLON_POST_EVENT_HOURS),
            extra={**extra, "place": post.event_place},
        )  # fmt: skip
    approved = post.decided_at or now
    return Item(
        kind=ItemKind.NEWS, external_id=post_external_id(post), title=post.title, body=excerpt,
        observed_at=approved, valid_from=approved,
        valid_until=approved + dt.timedelta(days=settings.CARILLON_POST_ON_AIR_DAYS),
        extra=extra,
    )  # fmt: skip


def post_on_air_sync(*, post: Post, now: dt.datetime | None = None) -> bool:
    """Put an approved post on air (until its item's end), take any other off; whether it is
    on air now."""
    now = now or timezone.now()
    source = residents_source()
    if post.state == SubmissionState.APPROVED:
        item = post_item(post, now=now)
        if item.valid_until is not None and item.valid_until > now:
            local_items_store(source=source, items=[item], now=now)
            logger.info("post on air post=%s until=%s", post.pk, item.valid_until)
            return True
    post_off_air(post=post, now=now)
    return False


def post_off_air(*, post: Post, now: dt.datetime | None = None) -> None:
    """Take the post off the cards and the ticker now (deleted, or no longer approved)."""
    if local_items_withdraw(
        source=residents_source(), external_ids=[post_external_id(post)], now=now
    ):
        logger.info("post off air post=%s", post.pk)
