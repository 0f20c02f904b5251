"""The "Programming" menu of the Wagtail admin: week grid, channels, blocks, rotations, playlists,
fillers, events and the as-run log (read-only: the playout writes it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from broadcasting.media.selectors import category_labels
from playlists import views
from playlists.admin_columns import (
    LocalTimeColumn,
    WarningsColumn,
    WeekLinkColumn,
    block_content,
    block_days,
)
from playlists.admin_filters import AsRunFilterSet, BlockFilterSet, EventFilterSet
from playlists.forms import ChannelForm, RotationForm
from playlists.models import AsRunEntry, Block, Channel, Event, FillerSet, Playlist, Rotation


class ProgrammingViewSet(ViewSet):
    """The screens that are not a model's list: week grid, rebuild now, as-run CSV."""

    name = "programming"
    icon = "calendar-alt"
    menu_label = _("Week grid")

    def get_urlpatterns(self) -> list[URLPattern]:
        return [
            path("", views.index, name="index"),
            path("as-run.csv", views.as_run_export, name="as_run_csv"),
            path("<slug:slug>/week/", views.WeekGridView.as_view(), name="week"),
            path("<slug:slug>/rebuild/", views.rebuild, name="rebuild"),
        ]

    @property
    def menu_item_class(self) -> type[MenuItem]:
        class WeekGridMenuItem(MenuItem):
            def is_shown(self, request: HttpRequest) -> bool:
                return views.can_view_grid(request.user)

        return WeekGridMenuItem


class ChannelViewSet(ModelViewSet):
    model = Channel
    icon = "desktop"
    list_display = [
        "number",
        "name",
        "slug",
        BooleanColumn(
            "is_active", label=capfirst(Channel._meta.get_field("is_active").verbose_name)
        ),
        WarningsColumn("warnings", label=_("Warnings")),
        WeekLinkColumn("week", label=_("Week grid")),
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("number")]),
            FieldRowPanel([FieldPanel("slug"), FieldPanel("group_title")]),
            FieldPanel("description"),
            FieldPanel("logo"),
            FieldPanel("slate"),
            FieldPanel("default_fillers"),
            FieldPanel("is_active"),
            MultiFieldPanel(
                [
                    FieldPanel("channel_format"),
                    FieldPanel("time_zone"),
                    FieldPanel("epoch"),
                    FieldPanel("seed"),
                ],
                heading=_("Technical settings"),
            ),
        ],
        base_form_class=ChannelForm,
    )


class BlockViewSet(ModelViewSet):
    model = Block
    icon = "time"
    list_display = [
        "name",
        "channel",
        Column("days", label=_("Days"), accessor=block_days),
        "start",
        "end",
        "priority",
        Column("content", label=_("Content"), accessor=block_content),
        "fillers",
    ]
    filterset_class = BlockFilterSet
    search_fields = ["name"]


def _labels(field: str) -> Callable[[Rotation], str]:
    """An accessor listing the labels of a rotation's ticked choices (categories: the editors'
    rows, read when the list is shown)."""
    fixed = dict(RotationForm.base_fields[field].choices)  # type: ignore[attr-defined]

    def accessor(rotation: Rotation) -> str:
        values = getattr(rotation, field)
        labels = category_labels(slugs=values) if field == "categories" else fixed
        return ", ".join(str(labels.get(value, value)) for value in values) or "—"

    return accessor


class RotationViewSet(ModelViewSet):
    model = Rotation
    icon = "rotate"
    list_display = [
        "name",
        *(
            Column(name, label=RotationForm.base_fields[name].label, accessor=_labels(name))
            for name in ("kinds", "categories", "origins")
        ),
        "no_repeat_hours",
        "max_plays_per_day",
    ]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldRowPanel([FieldPanel("kinds"), FieldPanel("origins")]),
            FieldPanel("categories"),
            FieldPanel("weights"),
            FieldRowPanel([FieldPanel("no_repeat_hours"), FieldPanel("max_plays_per_day")]),
            FieldRowPanel([FieldPanel("fresh_boost_days"), FieldPanel("fresh_boost")]),
        ],
        base_form_class=RotationForm,
    )


class PlaylistViewSet(ModelViewSet):
    model = Playlist
    icon = "list-ol"
    list_display = ["name", Column("items", label=_("Videos"), accessor=lambda p: p.items.count())]
    search_fields = ["name"]


class FillerSetViewSet(ModelViewSet):
    model = FillerSet
    icon = "snippet"
    list_display = [
        "name",
        "ident_every_n_items",
        Column("card_slots", label=_("Card slots"), accessor=lambda f: f.card_slots.count()),
    ]
    search_fields = ["name"]


class EventViewSet(ModelViewSet):
    model = Event
    icon = "date"
    list_display = ["title", "channel", "start_date", "start_time", "rrule", "hard"]
    filterset_class = EventFilterSet
    search_fields = ["title"]


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Editors may read the as-run log, never write it: only the playout does."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action not in ("add", "change", "delete") and super().user_has_permission(
            user, action
        )


register_permission_policy(AsRunEntry, ReadOnlyPermissionPolicy(AsRunEntry))


class AsRunViewSet(ModelViewSet):
    model = AsRunEntry
    icon = "history"
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        LocalTimeColumn("actual_start", label=_("actual start"), sort_key="actual_start"),
        "channel",
        "title",
        "role",
        LocalTimeColumn("planned_start", label=_("planned start")),
        "reason",
    ]
    filterset_class = AsRunFilterSet
    search_fields = ["title", "note"]
    form_fields = ["title", "note"]  # never reachable: the permission policy refuses changes
    inspect_view_fields = [
        "channel",
        "title",
        "role",
        "asset",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "reason",
        "note",
    ]


class ProgrammingGroup(ViewSetGroup):
    menu_label = _("Programming")
    menu_icon = "calendar-alt"
    menu_order = 220
    items = (
        ProgrammingViewSet(),
        ChannelViewSet("programming_channels", url_prefix="programming/channels"),
        BlockViewSet("programming_blocks", url_prefix="programming/blocks"),
        RotationViewSet("programming_rotations", url_prefix="programming/rotations"),
        PlaylistViewSet("programming_playlists", url_prefix="programming/playlists"),
        FillerSetViewSet("programming_fillers", url_prefix="programming/fillers"),
        EventViewSet("programming_events", url_prefix="programming/events"),
        AsRunViewSet("programming_as_run", url_prefix="programming/as-run"),
    )


@hooks.register("register_admin_viewset")
def register_programming() -> ProgrammingGroup:
    return ProgrammingGroup()
