"""Celery entry points of the info cards, routed to the ``cards`` queue (a worker of its own,
so that transcodes never delay them; the cards' own transcodes go there too)."""

from celery import shared_task
from django.utils import timezone

from city_feeds.cards.services import card_categories, cards_prune, cards_refresh


@shared_task(ignore_result=True)
def refresh_card(category: str) -> str:
    """Bring one category's card up to date (the ingest sends it after new data)."""
    return cards_refresh(category=category, now=timezone.now()).value


@shared_task(ignore_result=True)
def refresh_cards() -> None:
    """Beat, every minute: every card up to date, stale ones withdrawn (catches what a lost
    message or a throttled refresh left behind)."""
    for category in card_categories():
        refresh_card.delay(category)


@shared_task(ignore_result=True)
def prune_cards() -> None:
    """Beat: delete the cards that stopped airing some minutes ago."""
    cards_prune(now=timezone.now())
