"""The as-run log as CSV: proof of play for residents and the city.

Format (chosen for French spreadsheet users): UTF-8 with a byte-order mark (so Excel detects
the encoding), ``;`` as separator (the list separator of French locales; titles may contain
commas), CRLF line ends, one header row of translated column names. Instants are ISO 8601 in
the channel's local time with their UTC offset and milliseconds
(``2026-10-25T20:00:04.800+01:00``), so the two 02:30 of an autumn night stay distinct. Reasons
and roles are their translated labels. Free text cells that a spreadsheet would read as a formula
(starting with ``= + - @``) are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from playlists.calendar import zone_for
from playlists.models import AsRunEntry

SEPARATOR = ";"
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like object whose ``write`` returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def header() -> list[str]:
    return [
        _("channel"),
        _("title"),
        _("role"),
        _("planned start"),
        _("planned end"),
        _("actual start"),
        _("actual end"),
        _("reason"),
        _("note"),
    ]


def local_iso(instant: dt.datetime | None, tz: str) -> str:
    """ISO 8601 local time with offset and milliseconds; empty for None."""
    if instant is None:
        return ""
    return instant.astimezone(zone_for(tz)).isoformat(timespec="milliseconds")


def safe_text(value: str) -> str:
    """Neutralise spreadsheet formulas in free text."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def row(entry: AsRunEntry) -> list[str]:
    tz = entry.channel.time_zone
    return [
        safe_text(entry.channel.name),
        safe_text(entry.title),
        str(entry.get_role_display()),
        local_iso(entry.planned_start, tz),
        local_iso(entry.planned_end, tz),
        local_iso(entry.actual_start, tz),
        local_iso(entry.actual_end, tz),
        str(entry.get_reason_display()),
        safe_text(entry.note),
    ]


def csv_lines(entries: Iterable[AsRunEntry]) -> Iterator[str]:
    """The CSV file, line by line (for a streaming response)."""
    writer = csv.writer(_Line(), delimiter=SEPARATOR)
    yield BOM + writer.writerow(header())
    for entry in entries:
        yield writer.writerow(row(entry))


def date_range(
    first: str | None, last: str | None, today: dt.date
) -> tuple[dt.date, dt.date] | None:
    """The inclusive local dates asked for (default: the last 7 days); None when malformed."""
    try:
        end = dt.date.fromisoformat(last) if last else today
        start = dt.date.fromisoformat(first) if first else end - dt.timedelta(days=6)
    except ValueError:
        return None
    return (start, end) if start <= end else None
