"""Filters of the programming lists in the Wagtail admin."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from playlists.models import DAYS, AsRunEntry, AsRunReason, Block, Event, ItemRole

DAY_CHOICES = [
    *zip(
        DAYS,
        (
            _("Monday"),
            _("Tuesday"),
            _("Wednesday"),
            _("Thursday"),
            _("Friday"),
            _("Saturday"),
            _("Sunday"),
        ),
        strict=True,
    ),
    ("holiday", _("Public holidays")),
]


class BlockFilterSet(WagtailFilterSet):
    day = django_filters.ChoiceFilter(label=_("day"), choices=DAY_CHOICES, method="on_day")
    content = django_filters.ChoiceFilter(
        label=_("content"),
        choices=[("rotation", _("Rotation")), ("playlist", _("Playlist")), ("none", _("None"))],
        method="with_content",
    )

    class Meta:
        model = Block
        fields = ["channel", "day", "priority", "content", "rotation", "playlist", "fillers"]

    def on_day(self, queryset: QuerySet[Block], name: str, value: str) -> QuerySet[Block]:
        return queryset.filter(**{f"on_{value}": True}) if value else queryset

    def with_content(self, queryset: QuerySet[Block], name: str, value: str) -> QuerySet[Block]:
        if value == "rotation":
            return queryset.filter(rotation__isnull=False)
        if value == "playlist":
            return queryset.filter(playlist__isnull=False)
        if value == "none":
            return queryset.filter(Q(rotation__isnull=True) & Q(playlist__isnull=True))
        return queryset


class EventFilterSet(WagtailFilterSet):
    recurring = django_filters.BooleanFilter(
        label=_("recurring"), method="is_recurring", widget=django_filters.widgets.BooleanWidget
    )

    class Meta:
        model = Event
        fields = ["channel", "hard", "recurring", "start_date"]

    def is_recurring(
        self, queryset: QuerySet[Event], name: str, value: bool | None
    ) -> QuerySet[Event]:
        if value is None:
            return queryset
        return queryset.exclude(rrule="") if value else queryset.filter(rrule="")


class AsRunFilterSet(WagtailFilterSet):
    actual_start = django_filters.DateFromToRangeFilter(
        label=_("aired between"), widget=DateRangePickerWidget
    )
    reason = django_filters.ChoiceFilter(label=_("reason"), choices=AsRunReason.choices)
    role = django_filters.ChoiceFilter(label=_("role"), choices=ItemRole.choices)

    class Meta:
        model = AsRunEntry
        fields = ["channel", "reason", "role", "actual_start"]
