"""The parser of each standard (``FeedSource.standard`` values). Adapter modules are added to
this table as they are written."""

from city_feeds.adapters import Parser

ADAPTERS: dict[str, Parser] = {}
