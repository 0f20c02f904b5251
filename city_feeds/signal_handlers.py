"""Receivers of the city data app, connected in ``CityFeedsConfig.ready()``."""

import logging
from collections.abc import Iterable
from typing import Any

from django.dispatch import receiver

from city_feeds.alerts import alert_receive
from city_feeds.items import Item, ItemKind
from city_feeds.models import FeedSource
from city_feeds.signals import alert_items_received

logger = logging.getLogger(__name__)


@receiver(alert_items_received, dispatch_uid="city_feeds.alerts.receive")
def alert_items_air(
    sender: type[FeedSource],
    *,
    source: FeedSource | None = None,
    items: Iterable[Item] = (),
    **kwargs: Any,
) -> None:
    """Every alert item of a payload, in its order (an Update after the alert it updates)."""
    for item in items:
        if item.kind == ItemKind.ALERT and item.alert is not None:
            alert = alert_receive(item=item, source=source)
            logger.info("alert received alert=%s state=%s", alert.pk, alert.state)
