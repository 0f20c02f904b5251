"""Signals of the city data app (receivers connect in their ``AppConfig.ready()``)."""

from django.dispatch import Signal

# Sent by ``city_feeds.services.payload_ingest`` once a payload's items are stored, when some
# of them are of kind ``alert``: ``sender`` is ``FeedSource``, with ``source`` (the
# ``FeedSource``) and ``items`` (a tuple of ``city_feeds.items.Item``, in the payload's order,
# so that an Update or a Cancel follows the alert it refers to). Receivers are called robustly:
# an error in one is logged and does not undo the ingest.
alert_items_received = Signal()
