"""Signals the broadcasting app sends to the apps that build on it (connected in their
``AppConfig.ready()``)."""

from django.dispatch import Signal

# Sent with ``asset_id`` after an asset became (or stopped being) ready and approved:
# the programming app rebuilds the future of its channels.
library_changed = Signal()
