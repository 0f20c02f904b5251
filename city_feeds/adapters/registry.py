"""The parser of each standard (``FeedSource.standard`` values). Adapter modules are added to
this table as they are written."""

from city_feeds.adapters import (
    Parser,
    cap,
    datex2,
    gtfs_rt,
    icalendar,
    json_mapping,
    ngsi_ld,
    ngsiv2,
    open311,
    rss,
)

ADAPTERS: dict[str, Parser] = {
    "ngsi-ld": ngsi_ld.parse,
    "ngsiv2": ngsiv2.parse,
    "cap": cap.parse,
    "datex2": datex2.parse,
    "rss": rss.parse,
    "icalendar": icalendar.parse,
    "gtfs-rt": gtfs_rt.parse,
    "open311": open311.parse,
    "json": json_mapping.parse,
}
