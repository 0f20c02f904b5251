"""The TV player's weather corner: the latest fresh weather observation, as the player shows it
(``static/tv/player.js``: the temperature, then the sky in French)."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import translation

from city_feeds.cards.content import current_weather, value_of, weather_sky
from city_feeds.cards.selectors import items_for_cards
from city_feeds.items import ItemKind


def weather_now(*, now: dt.datetime) -> dict[str, Any] | None:
    """``{"temperature", "summary", "place", "observed_at"}`` of the weather at ``now``, or
    ``None`` when no fresh weather item is known (expired ones never show)."""
    items = items_for_cards(kinds={ItemKind.WEATHER}, now=now)
    current = current_weather(items, now=now)
    if current is None:
        return None
    temperature = value_of(current, "temperature")
    with translation.override(settings.LANGUAGE_CODE):
        summary = weather_sky(current)
    return {
        "temperature": temperature if isinstance(temperature, int | float) else None,
        "summary": summary,
        "place": current.title,
        "observed_at": current.observed_at.isoformat() if current.observed_at else None,
    }
