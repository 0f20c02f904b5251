"""Programming screens of the Wagtail admin: the week grid, "rebuild now" and the as-run CSV.

Who may do what (Django model permissions, granted to editors' groups in Settings → Groups):

- see the week grid: ``playlists.view_channel``, ``change_channel`` or ``change_block``;
- rebuild now: ``playlists.change_block`` (whoever may change the rules may rebuild from them);
- export the as-run log: ``playlists.view_asrunentry``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from playlists import as_run_csv
from playlists.calendar import zone_for
from playlists.models import (
    AsRunEntry,
    CardCategory,
    Channel,
    ItemKind,
    ItemRole,
    ScheduledItem,
)
from playlists.services import schedule_rebuild_request
from playlists.warnings import ProgrammingWarning, programming_warnings
from playlists.week_grid import BREAK_ROLE, GridItem, day_bounds, week_columns, week_monday

logger = logging.getLogger(__name__)

VIEW_GRID_PERMISSIONS = (
    "playlists.view_channel",
    "playlists.change_channel",
    "playlists.change_block",
)
REBUILD_PERMISSION = "playlists.change_block"
AS_RUN_PERMISSION = "playlists.view_asrunentry"
REBUILD_REASON = "rebuild now (week grid)"


def can_view_grid(user: Any) -> bool:
    return any(user.has_perm(permission) for permission in VIEW_GRID_PERMISSIONS)


def can_rebuild(user: Any) -> bool:
    return bool(user.has_perm(REBUILD_PERMISSION))


def can_export_as_run(user: Any) -> bool:
    return bool(user.has_perm(AS_RUN_PERMISSION))


def role_legend() -> list[tuple[str, str]]:
    """(css role, label) of every colour of the grid."""
    roles = [(str(value), str(label)) for value, label in ItemRole.choices]
    return [*roles, (BREAK_ROLE, str(_("Break (several short fillers)")))]


def week_url(channel: Channel, monday: dt.date | None = None) -> str:
    url = reverse("programming:week", args=[channel.slug])
    return f"{url}?{urlencode({'week': monday.isoformat()})}" if monday else url


# Index ----------------------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    """Open the week grid of the first channel on air."""
    if not can_view_grid(request.user):
        raise PermissionDenied
    channel = Channel.objects.filter(is_active=True).first() or Channel.objects.first()
    if channel is None:
        return redirect("programming_channels:index")
    return redirect(week_url(channel))


# Week grid ------------------------------------------------------------------------------------


class WeekGridView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "playlists/admin/week.html"
    header_icon = "calendar-alt"
    page_title = _("Week grid")
    channel: Channel
    monday: dt.date

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_view_grid(request.user):
            raise PermissionDenied
        self.channel = get_object_or_404(Channel, slug=kwargs["slug"])
        today = timezone.localtime(timezone.now(), zone_for(self.channel.time_zone)).date()
        self.monday = week_monday(request.GET.get("week"), today)
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self) -> str:
        return self.channel.name

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("programming_channels:index"), "label": _("Channels")},
            {"url": "", "label": self.get_header_title()},
        ]

    def get_header_buttons(self) -> list[HeaderButton]:
        buttons = []
        if can_export_as_run(self.request.user):
            buttons.append(
                HeaderButton(_("As-run log (CSV)"), url=self._as_run_url(), icon_name="download")
            )
        return buttons

    def _as_run_url(self) -> str:
        query = {"channel": self.channel.slug, "from": self.monday.isoformat()}
        query["to"] = (self.monday + dt.timedelta(days=6)).isoformat()
        return f"{reverse('programming:as_run_csv')}?{urlencode(query)}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        items = grid_items(self.channel, self.monday)
        context.update(
            channel=self.channel,
            channels=Channel.objects.all(),
            monday=self.monday,
            columns=week_columns(items, self.monday, self.channel.time_zone, now),
            legend=role_legend(),
            version=self.channel.versions.first(),
            warnings=warning_rows(self.channel, self.request.user),
            previous_url=week_url(self.channel, self.monday - dt.timedelta(days=7)),
            next_url=week_url(self.channel, self.monday + dt.timedelta(days=7)),
            this_week_url=week_url(self.channel),
            can_rebuild=can_rebuild(self.request.user),
            time_zone=self.channel.time_zone,
        )
        return context


def week_items(channel: Channel, monday: dt.date) -> QuerySet[ScheduledItem]:
    """Scheduled items of ``channel`` that overlap its local week starting ``monday``."""
    start = day_bounds(monday, channel.time_zone)[0]
    end = day_bounds(monday + dt.timedelta(days=6), channel.time_zone)[1]
    return (
        ScheduledItem.objects.filter(channel=channel, start__lt=end, end__gt=start)
        .select_related("asset")
        .only("start", "end", "kind", "role", "card_category", "asset__title")
        .order_by("start")
    )


def grid_items(channel: Channel, monday: dt.date) -> list[GridItem]:
    urls: dict[int, str] = {}
    return [
        GridItem(
            start=item.start,
            end=item.end,
            role=item.role,
            title=item_title(item),
            url=_asset_url(item.asset_id, urls) if item.asset_id else "",
        )
        for item in week_items(channel, monday)
    ]


def _asset_url(asset_id: int, cache: dict[int, str]) -> str:
    if asset_id not in cache:
        cache[asset_id] = reverse("videos:inspect", args=[asset_id])
    return cache[asset_id]


def item_title(item: ScheduledItem) -> str:
    """What the editor reads on an entry: the video's title, the card's category, "Slate"."""
    if item.kind == ItemKind.CARD_SLOT:
        label = CardCategory(item.card_category).label if item.card_category in CardCategory else ""
        return f"{ItemRole.CARD.label}: {label or item.card_category}"
    if item.asset is not None:
        return item.asset.title
    return str(ItemRole(item.role).label if item.role in ItemRole else item.role)


def warning_rows(channel: Channel, user: Any) -> list[dict[str, Any]]:
    """The channel's warnings with a link to the object to fix, when the user may edit it."""
    finder = AdminURLFinder(user)
    return [_warning_row(warning, finder) for warning in programming_warnings(channel=channel)]


def _warning_row(warning: ProgrammingWarning, finder: AdminURLFinder) -> dict[str, Any]:
    url = finder.get_edit_url(warning.subject) if warning.subject is not None else None
    return {"level": warning.level, "message": warning.message, "url": url or ""}


# Rebuild now ----------------------------------------------------------------------------------


@require_POST
def rebuild(request: HttpRequest, slug: str) -> HttpResponse:
    """Have the channel's timeline rebuilt to the horizon now, then go back to the grid."""
    if not can_rebuild(request.user):
        raise PermissionDenied
    channel = get_object_or_404(Channel, slug=slug)
    _rebuild(request, channel)
    return redirect(week_url(channel, _posted_monday(request.POST.get("week", ""))))


def _posted_monday(value: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day - dt.timedelta(days=day.weekday())


def _editor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _rebuild(request: HttpRequest, channel: Channel) -> None:
    """Send the rebuild to a worker (after commit) and answer at once: building the horizon
    takes seconds."""
    schedule_rebuild_request(channel=channel, user=_editor(request), reason=REBUILD_REASON)
    messages.success(
        request,
        gettext(
            "The schedule is being rebuilt in the background: reload this page in a few "
            "seconds to see the new version."
        ),
    )


# As-run CSV -----------------------------------------------------------------------------------


def as_run_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The as-run log of one channel (or all) between two local dates, inclusive, as CSV."""
    if not can_export_as_run(request.user):
        raise PermissionDenied
    channel = _channel_param(request.GET.get("channel"))
    tz = channel.time_zone if channel else timezone.get_default_timezone_name()
    today = timezone.localtime(timezone.now(), zone_for(tz)).date()
    dates = as_run_csv.date_range(request.GET.get("from"), request.GET.get("to"), today)
    if dates is None:
        return HttpResponse(gettext("Dates must be YYYY-MM-DD, from before to."), status=400)
    entries = as_run_entries(channel, day_bounds(dates[0], tz)[0], day_bounds(dates[1], tz)[1])
    response = StreamingHttpResponse(
        as_run_csv.csv_lines(entries), content_type="text/csv; charset=utf-8"
    )
    name = f"as-run-{channel.slug if channel else 'all'}-{dates[0]}-{dates[1]}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _channel_param(slug: str | None) -> Channel | None:
    return get_object_or_404(Channel, slug=slug) if slug else None


def as_run_entries(
    channel: Channel | None, start: dt.datetime, end: dt.datetime
) -> QuerySet[AsRunEntry]:
    entries = AsRunEntry.objects.filter(actual_start__gte=start, actual_start__lt=end)
    if channel is not None:
        entries = entries.filter(channel=channel)
    return entries.select_related("channel").order_by("actual_start", "pk")
