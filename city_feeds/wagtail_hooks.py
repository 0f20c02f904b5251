"""The city data in the Wagtail admin: the sources with their health at a glance (and "poll
now", "enable again"), the item browser (by source, kind, review, fresh or expired), the
citizen reports' approval (approve / reject: approved reports air), and a dashboard panel
that tells the editors about disabled or failing sources and reports awaiting them."""

from typing import Any

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import MenuItem
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from city_feeds import tasks
from city_feeds.items import ItemKind
from city_feeds.models import FeedDelivery, FeedItem, FeedSource, MapBackground, ReviewState
from city_feeds.services import report_review, source_enable

SOURCE_FORM_FIELDS = [
    "name",
    "slug",
    "standard",
    "delivery",
    "url",
    "topic",
    "allow_private_addresses",
    "credentials",
    "field_mapping",
    "item_kind",
    "poll_interval_seconds",
    "ttl_seconds",
    "area",
    "enabled",
]


def _health(source: FeedSource) -> str:
    if not source.enabled:
        return gettext("Disabled") + (
            f" — {source.disabled_reason}" if source.disabled_reason else ""
        )
    if source.consecutive_failures:
        return gettext("%(count)s failures: %(reason)s") % {
            "count": source.consecutive_failures,
            "reason": source.last_failure_reason[:120],
        }
    if source.last_success_at is None:
        return gettext("Nothing received yet")
    return gettext("OK")


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else "—"


def _source_confirm(
    request: HttpRequest, *, title: str, message: str, action_url: str, confirm: str
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "city_feeds/admin/confirm.html",
        {
            "header_title": title,
            "page_title": title,
            "message": message,
            "confirm_label": confirm,
            "action_url": action_url,
            "cancel_url": request.GET.get("next") or reverse("feed_sources:index"),
        },
    )


class FeedSourceIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance: Any) -> list[Any]:
        buttons: list[Any] = super().get_list_more_buttons(instance)
        if instance.enabled and instance.delivery == FeedDelivery.POLL and instance.url:
            url = reverse("feed_sources:poll", args=[instance.pk])
            buttons.insert(0, MenuItem(_("Poll now"), url=url, icon_name="resubmit", priority=5))
        if not instance.enabled:
            url = reverse("feed_sources:enable", args=[instance.pk])
            buttons.insert(0, MenuItem(_("Enable again"), url=url, icon_name="undo", priority=5))
        return buttons


class FeedSourceViewSet(ModelViewSet):
    model = FeedSource
    icon = "site"
    menu_label = _("Data sources")
    menu_order = 230
    add_to_admin_menu = True
    inspect_view_enabled = True
    index_view_class = FeedSourceIndexView
    list_display = [
        "name",
        "standard",
        "delivery",
        Column("health", label=_("Health"), accessor=_health),
        Column(
            "last_success", label=_("Last success"), accessor=lambda s: _when(s.last_success_at)
        ),  # fmt: skip
        Column(
            "last_failure", label=_("Last failure"), accessor=lambda s: _when(s.last_failure_at)
        ),  # fmt: skip
        "enabled",
    ]
    list_filter = ["standard", "delivery", "enabled"]
    search_fields = ["name", "slug", "url", "topic"]
    form_fields = SOURCE_FORM_FIELDS
    inspect_view_fields = [
        *SOURCE_FORM_FIELDS,
        "last_success_at",
        "last_failure_at",
        "last_failure_reason",
        "consecutive_failures",
        "disabled_reason",
        "next_poll_at",
        "push_token",
        "hmac_secret",
    ]

    def poll_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm (GET), then enqueue a poll of the source at once (POST)."""
        source = get_object_or_404(FeedSource, pk=pk)
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        if request.method == "POST":
            try:
                tasks.source_poll.delay(source.pk)
            except OperationalError:
                messages.error(request, gettext("The workers cannot be reached: try again later."))
            else:
                messages.success(request, gettext("“%(name)s” is being polled.") % {"name": source})
            return redirect("feed_sources:index")
        return _source_confirm(
            request,
            title=gettext("Poll now"),
            message=gettext("Fetch “%(name)s” now?") % {"name": source},
            action_url=reverse("feed_sources:poll", args=[pk]),
            confirm=gettext("Yes, poll now"),
        )

    def enable_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm (GET), then enable a disabled source again, its failures forgotten (POST)."""
        source = get_object_or_404(FeedSource, pk=pk)
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        if request.method == "POST":
            source_enable(source=source)
            messages.success(request, gettext("“%(name)s” is enabled again.") % {"name": source})
            return redirect("feed_sources:index")
        return _source_confirm(
            request,
            title=gettext("Enable again"),
            message=gettext("Enable “%(name)s” again? Its failure count starts over.")
            % {"name": source},
            action_url=reverse("feed_sources:enable", args=[pk]),
            confirm=gettext("Yes, enable it"),
        )

    def get_urlpatterns(self) -> list[URLPattern]:
        patterns: list[URLPattern] = super().get_urlpatterns()
        return [
            *patterns,
            path("poll/<int:pk>/", self.poll_view, name="poll"),
            path("enable/<int:pk>/", self.enable_view, name="enable"),
        ]


@hooks.register("register_admin_viewset")
def register_feed_source_viewset() -> FeedSourceViewSet:
    return FeedSourceViewSet("feed_sources")


class FeedItemFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=[(k.value, k.value) for k in ItemKind])  # fmt: skip
    freshness = django_filters.ChoiceFilter(
        label=_("freshness"),
        choices=[("fresh", _("Fresh (may air)")), ("expired", _("Expired"))],
        method="filter_freshness",
    )

    class Meta:
        model = FeedItem
        fields = ["source", "kind", "review"]

    def filter_freshness(self, queryset: QuerySet[FeedItem], name: str, value: str) -> QuerySet[FeedItem]:  # fmt: skip
        now = timezone.now()
        if value == "fresh":
            return queryset.filter(expires_at__gt=now)
        if value == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


class NoAddPermissionPolicy(ModelPermissionPolicy):
    """Items come from the sources only: nobody adds one by hand."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action != "add" and bool(super().user_has_permission(user, action))


register_permission_policy(FeedItem, NoAddPermissionPolicy(FeedItem), exact_class=True)


class FeedItemIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance: Any) -> list[Any]:
        buttons: list[Any] = super().get_list_more_buttons(instance)
        if instance.kind != ItemKind.CITIZEN_REPORT:
            return buttons
        if instance.review != ReviewState.APPROVED:
            url = reverse("feed_items:review", args=[instance.pk, "approve"])
            buttons.insert(0, MenuItem(_("Approve"), url=url, icon_name="check", priority=3))
        if instance.review != ReviewState.REJECTED:
            url = reverse("feed_items:review", args=[instance.pk, "reject"])
            buttons.insert(1, MenuItem(_("Reject"), url=url, icon_name="cross", priority=4))
        return buttons


class FeedItemViewSet(ModelViewSet):
    """The item browser; the citizen reports' approval list is its ``?review=pending``."""

    model = FeedItem
    icon = "list-ul"
    menu_label = _("Data items")
    menu_order = 231
    add_to_admin_menu = True
    inspect_view_enabled = True
    index_view_class = FeedItemIndexView
    filterset_class = FeedItemFilterSet
    list_display = [
        "title",
        "kind",
        "source",
        Column("observed", label=_("Observed"), accessor=lambda i: _when(i.observed_at)),
        Column("expires", label=_("Expires"), accessor=lambda i: _when(i.expires_at)),
        "review",
    ]
    search_fields = ["title", "body", "external_id"]
    # Editors may rewrite a citizen report's text (remove a name) before approving it.
    form_fields = ["title", "body"]
    inspect_view_fields = [
        "source",
        "kind",
        "external_id",
        "title",
        "body",
        "values",
        "latitude",
        "longitude",
        "observed_at",
        "valid_from",
        "valid_until",
        "severity",
        "review",
        "reviewed_by",
        "received_at",
        "updated_at",
        "expires_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FeedItem]:
        return FeedItem.objects.select_related("source")

    def review_view(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        """Confirm (GET), then approve or reject a citizen report (POST)."""
        item = get_object_or_404(FeedItem, pk=pk, kind=ItemKind.CITIZEN_REPORT)
        if decision not in ("approve", "reject"):
            raise PermissionDenied
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        back = reverse("feed_items:index") + "?review=pending"
        if request.method == "POST":
            report_review(item=item, approve=decision == "approve", editor=request.user)  # type: ignore[arg-type]
            done = (
                gettext("Approved: it may air.") if decision == "approve" else gettext("Rejected.")
            )
            messages.success(request, f"“{item.title}” — {done}")
            return redirect(back)
        return TemplateResponse(
            request,
            "city_feeds/admin/confirm.html",
            {
                "header_title": item.title,
                "page_title": item.title,
                "message": (
                    gettext("Approve this citizen report? It will air (never with a name).")
                    if decision == "approve"
                    else gettext("Reject this citizen report? It will not air.")
                ),
                "confirm_label": gettext("Approve") if decision == "approve" else gettext("Reject"),
                "action_url": reverse("feed_items:review", args=[pk, decision]),
                "cancel_url": back,
            },
        )

    def get_urlpatterns(self) -> list[URLPattern]:
        patterns: list[URLPattern] = super().get_urlpatterns()
        return [*patterns, path("review/<int:pk>/<str:decision>/", self.review_view, name="review")]


@hooks.register("register_admin_viewset")
def register_feed_item_viewset() -> FeedItemViewSet:
    return FeedItemViewSet("feed_items")


class FeedHealthPanel(Component):
    """On the dashboard: disabled and failing sources, reports awaiting review."""

    name = "city_feeds_health"
    template_name = "city_feeds/admin/health_panel.html"
    order = 90

    def __init__(self, *, disabled: list[FeedSource], failing: list[FeedSource], pending: int) -> None:  # fmt: skip
        self.disabled = disabled
        self.failing = failing
        self.pending = pending

    def get_context_data(self, parent_context: Any) -> dict[str, Any]:
        return {
            "disabled": self.disabled,
            "failing": self.failing,
            "pending_reports": self.pending,
            "reports_url": reverse("feed_items:index") + "?review=pending",
        }


@hooks.register("construct_homepage_panels")
def add_feed_health_panel(request: HttpRequest, panels: list[Any]) -> None:
    policy = ModelPermissionPolicy(FeedSource)
    if not policy.user_has_any_permission(request.user, ["view", "change"]):
        return
    disabled = list(FeedSource.objects.filter(enabled=False).exclude(disabled_reason=""))
    failing = list(FeedSource.objects.filter(enabled=True, consecutive_failures__gt=0))
    pending = FeedItem.objects.filter(review=ReviewState.PENDING).count()
    if disabled or failing or pending:
        panels.append(FeedHealthPanel(disabled=disabled, failing=failing, pending=pending))


class MapBackgroundViewSet(ModelViewSet):
    """The map card's background: uploaded once by editors with the box it shows."""

    model = MapBackground
    icon = "image"
    menu_label = _("Map backgrounds")
    menu_order = 232
    add_to_admin_menu = True
    list_display = ["name", "south", "west", "north", "east", "created_at"]
    form_fields = ["name", "image", "south", "west", "north", "east"]


@hooks.register("register_admin_viewset")
def register_map_background_viewset() -> MapBackgroundViewSet:
    return MapBackgroundViewSet("map_backgrounds")


from city_feeds import admin_alerts  # noqa: E402, F401 - the alert console registers its hooks
