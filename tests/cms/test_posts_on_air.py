# ruff: noqa: F811 - the moderation tests' fixtures are imported by name
"""Residents' approved posts on the channel (issue 12): the city news card labelled
"Habitants", today's events card for a post with an event date, the ticker; never their
author; off the air at once when deleted; never before approval."""

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from city_feeds.cards.content import card_content
from city_feeds.cards.selectors import items_for_cards
from city_feeds.cards.services import _send_refresh
from city_feeds.models import FeedDelivery, FeedItem
from city_feeds.selectors import ticker_lines
from city_feeds.services import RESIDENTS_SOURCE
from cms.models import Post, SubmissionState
from cms.services.moderation import post_reject, post_review_start
from cms.services.posts_on_air import post_on_air_sync
from playlists.models import CardCategory
from tests.cms.test_moderation import (  # noqa: F401 - fixtures used by name
    _public_site,
    action_url,
    editor,
    editor_client,
    fresh,
    make_post,
    resident,
)

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _card(category: str, now: dt.datetime) -> list[tuple[str, str]]:
    from city_feeds.cards.content import KINDS

    content = card_content(category, items_for_cards(kinds=KINDS[category], now=now), now=now)
    return [] if content is None else [(line.label, line.value) for line in content.lines]


def _approve(client: Client, post: Post, capture: Any) -> list[Callable[[], None]]:
    with capture(execute=False) as callbacks:
        response = client.post(action_url(post, "approve"))
    assert response.status_code in (200, 302)
    return list(callbacks)


def _refreshes(callbacks: list[Callable[[], None]]) -> set[str]:
    return {
        c.keywords["category"]
        for c in callbacks
        if isinstance(c, partial) and c.func is _send_refresh
    }


def test_an_approved_post_airs_on_the_city_news_card_and_the_ticker_without_its_author(
    resident: User, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    post = make_post(resident, title="Vide-grenier dimanche rue des Changes")
    now = timezone.now()
    assert _card(CardCategory.CITY_NEWS, now) == []  # nothing before approval
    callbacks = _approve(editor_client, post, django_capture_on_commit_callbacks)
    assert fresh(post).state == SubmissionState.APPROVED
    assert CardCategory.CITY_NEWS in _refreshes(callbacks)  # its card is made again
    later = timezone.now() + dt.timedelta(seconds=1)
    assert ("Habitants", "Vide-grenier dimanche rue des Changes") in _card(
        CardCategory.CITY_NEWS, later
    )
    lines = ticker_lines(now=later)
    assert any("Vide-grenier dimanche rue des Changes" in line for line in lines), lines
    item = FeedItem.objects.get(source__slug=RESIDENTS_SOURCE)
    assert item.source.delivery == FeedDelivery.LOCAL
    assert "Jeanne" not in f"{item.title} {item.body} {item.extra}"  # never its author
    assert item.body == "Place Billard."  # plain text, no markup
    week = later + dt.timedelta(days=7, seconds=1)
    assert _card(CardCategory.CITY_NEWS, week) == []  # a week on air, no longer


def test_a_post_with_an_event_date_airs_on_that_days_events_card(
    resident: User, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    start = (
        (timezone.now() + dt.timedelta(days=2))
        .astimezone(PARIS)
        .replace(hour=15, minute=0, second=0, microsecond=0)
    )
    post = post_review_start(
        post=Post.objects.create(
            author=resident,
            title="Concert au jardin d'entomologie",
            body="<p>Gratuit.</p>",
            event_start=start,
            event_place="Jardin d'entomologie",
        )  # fmt: skip
    )
    callbacks = _approve(editor_client, post, django_capture_on_commit_callbacks)
    assert CardCategory.EVENTS in _refreshes(callbacks)
    assert _card(CardCategory.EVENTS, start - dt.timedelta(days=1)) == []  # not the day before
    morning = start.replace(hour=9)
    assert ("15\xa0h", "Concert au jardin d'entomologie") in _card(CardCategory.EVENTS, morning)
    assert _card(CardCategory.EVENTS, start + dt.timedelta(hours=3, seconds=1)) == []


def test_a_deleted_post_leaves_the_card_and_the_ticker_at_once(
    resident: User, editor_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    post = make_post(resident, title="Fête des voisins à la Madeleine")
    _approve(editor_client, post, django_capture_on_commit_callbacks)
    assert _card(CardCategory.CITY_NEWS, timezone.now() + dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fresh(post).delete()
    assert CardCategory.CITY_NEWS in _refreshes(list(callbacks))
    now = timezone.now() + dt.timedelta(seconds=1)
    assert _card(CardCategory.CITY_NEWS, now) == []
    assert not any("Fête des voisins" in line for line in ticker_lines(now=now))


def test_a_post_awaiting_review_or_rejected_never_airs(resident: User, editor: User) -> None:
    waiting = make_post(resident, title="En attente")
    assert post_on_air_sync(post=waiting) is False
    rejected = post_reject(post=make_post(resident, title="Refusé"), editor=editor,
                           reason="Hors sujet.")  # fmt: skip
    assert rejected.state == SubmissionState.REJECTED
    now = timezone.now() + dt.timedelta(seconds=1)
    assert _card(CardCategory.CITY_NEWS, now) == []
    assert not FeedItem.objects.filter(expires_at__gt=now).exists()
