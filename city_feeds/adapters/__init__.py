"""One pure adapter per standard: ``parse(data: bytes, options: ParseOptions) -> list[Item]``.

``ADAPTERS`` maps a ``FeedSource.standard`` value to its parser; each module registers itself
here when it is written (see ``city_feeds.items`` for the contract).
"""

from collections.abc import Callable

from city_feeds.items import Item, ParseOptions

Parser = Callable[[bytes, ParseOptions], list[Item]]


def adapters() -> dict[str, Parser]:
    """The parser of each standard (imported on demand: each pulls its own libraries)."""
    from city_feeds.adapters import registry

    return registry.ADAPTERS
