"""Signals the broadcasting app sends to the apps that build on it (connected in their
``AppConfig.ready()``)."""

from django.dispatch import Signal

# Sent with ``asset_id`` after an asset became (or stopped being) ready and approved:
# the programming app rebuilds the future of its channels.
library_changed = Signal()

# Sent with ``asset_id`` after the public copy of an asset was removed (a rejection, a deletion,
# any take-down): what may still name its public key (the cached guides) forgets it.
publication_withdrawn = Signal()
