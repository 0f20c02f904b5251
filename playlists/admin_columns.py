"""Columns of the programming lists in the Wagtail admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from playlists.calendar import zone_for
from playlists.models import DAYS, AsRunEntry, Block, Channel
from playlists.warnings import Level, programming_warnings

DAY_LABELS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


def block_days(block: Block) -> str:
    """The block's days in short form, e.g. "Mon Tue Wed · holidays"."""
    days = [
        str(label)
        for day, label in zip(DAYS, DAY_LABELS, strict=True)
        if getattr(block, f"on_{day}")
    ]
    text = " ".join(days) if len(days) < 7 else str(_("Every day"))
    return f"{text} · {_('holidays')}" if block.on_holiday else text


def block_content(block: Block) -> str:
    return str(block.rotation or block.playlist or "—")


class WarningsColumn(Column):
    """Number of programming warnings of a channel, linked to its week grid."""

    cell_template_name = "playlists/admin/warnings_cell.html"

    def get_cell_context_data(self, instance: Channel, parent_context: Any) -> dict[str, Any]:
        context = super().get_cell_context_data(instance, parent_context)
        warnings = programming_warnings(channel=instance)
        context.update(
            errors=sum(1 for w in warnings if w.level == Level.ERROR),
            count=len(warnings),
            week_url=reverse("programming:week", args=[instance.slug]),
        )
        return context


class WeekLinkColumn(Column):
    cell_template_name = "playlists/admin/week_link_cell.html"

    def get_cell_context_data(self, instance: Channel, parent_context: Any) -> dict[str, Any]:
        context = super().get_cell_context_data(instance, parent_context)
        context["week_url"] = reverse("programming:week", args=[instance.slug])
        return context


def local_datetime(instant: dt.datetime | None, tz: str) -> str:
    """Local date and time to the second, in the admin's date format."""
    if instant is None:
        return ""
    local = instant.astimezone(zone_for(tz))
    return f"{date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M:%S}"


class LocalTimeColumn(Column):
    """An as-run instant in the channel's local time."""

    def get_value(self, instance: AsRunEntry) -> str:
        return local_datetime(getattr(instance, self.name), instance.channel.time_zone)
