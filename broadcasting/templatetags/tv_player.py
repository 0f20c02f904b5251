"""``{% tv_player channel %}``: the TV player embedded in a page (the channel page of ``cms``).

Pages sit below delivery in the house (``cms`` never imports ``broadcasting.delivery``); they
ask for the player through this tag, which renders ``broadcasting/_player.html`` with the data
``static/tv/player.js`` reads.
"""

from typing import Any

from django import template
from django.utils import translation

from broadcasting.delivery.tv import player_data
from playlists.models import Channel

register = template.Library()


@register.inclusion_tag("broadcasting/_player.html")
def tv_player(channel: Channel) -> dict[str, Any]:
    """The embedded player of ``channel``: its picture, now/next and guide, or a notice when
    the channel is not on air."""
    shown = [channel] if channel.is_active else []
    data = player_data(
        channels=shown,
        initial=channel.slug if shown else None,
        language=translation.get_language() or "fr",
        embedded=True,
    )
    return {"tv_data": data}
