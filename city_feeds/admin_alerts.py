"""The alert console in the Wagtail admin: the alerts active and ended with their airings; an
editor issues a manual alert or ends one. Every action goes through ``city_feeds.alerts`` (the
same services as a CAP alert). Registered by importing this module from ``wagtail_hooks``."""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, include, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from city_feeds.alert_clips import CATEGORY_LABELS
from city_feeds.alerts import ManualAlert, alert_end, alert_issue, alert_overrides
from city_feeds.models import Alert, AlertState
from playlists.models import Channel
from playlists.selectors import channels_on_air

RECENT = 50
SEVERITIES = [("Extreme", _("Extreme")), ("Severe", _("Severe")), ("Moderate", _("Moderate"))]


class AlertIssueForm(forms.Form):
    headline = forms.CharField(label=_("Headline"), max_length=120)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    instruction = forms.CharField(label=_("Instruction"), widget=forms.Textarea, required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITIES, initial="Severe")
    category = forms.ChoiceField(
        label=_("Category"), choices=list(CATEGORY_LABELS.items()), initial="Safety"
    )
    channels = forms.ModelMultipleChoiceField(
        label=_("Channels"), queryset=Channel.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    expires = forms.DateTimeField(
        label=_("Ends by itself at"), required=False, help_text=_("Empty: until ended here.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channels"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - declared above
        field.queryset = channels_on_air()

    def manual_alert(self) -> ManualAlert:
        data = self.cleaned_data
        expires: dt.datetime | None = data.get("expires")
        return ManualAlert(
            headline=data["headline"], description=data["description"],
            instruction=data["instruction"], severity=data["severity"],
            category=data["category"], expires=expires,
        )  # fmt: skip


def _require(request: HttpRequest, action: str) -> None:
    if not request.user.has_perm(f"city_feeds.{action}_alert"):
        raise PermissionDenied


def _with_airings(alerts: Any) -> list[dict[str, Any]]:
    return [{"alert": alert, "airings": list(alert_overrides(alert))} for alert in alerts]


def alerts_index(request: HttpRequest) -> HttpResponse:
    _require(request, "view")
    active = Alert.objects.filter(state=AlertState.ACTIVE).order_by("-sent")
    ended = Alert.objects.exclude(state=AlertState.ACTIVE).order_by("-received_at")[:RECENT]
    return TemplateResponse(
        request,
        "city_feeds/admin/alerts.html",
        {
            "header_title": gettext("Alerts"),
            "page_title": gettext("Alerts"),
            "active": _with_airings(active),
            "ended": _with_airings(ended),
            "can_issue": request.user.has_perm("city_feeds.add_alert"),
            "can_end": request.user.has_perm("city_feeds.change_alert"),
        },
    )


def alerts_issue(request: HttpRequest) -> HttpResponse:
    _require(request, "add")
    form = AlertIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        alert = alert_issue(
            text=form.manual_alert(), channels=list(form.cleaned_data["channels"]),
            user=request.user,
        )  # fmt: skip
        messages.success(request, gettext("Alert “%(alert)s” on air.") % {"alert": alert})
        return redirect("city_feeds_alerts:index")
    return TemplateResponse(
        request,
        "city_feeds/admin/alert_issue.html",
        {
            "header_title": gettext("Issue an alert"),
            "page_title": gettext("Issue an alert"),
            "form": form,
        },
    )


def alerts_end(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "change")
    alert = get_object_or_404(Alert, pk=pk, state=AlertState.ACTIVE)
    if request.method == "POST":
        alert_end(alert=alert, reason=gettext("Ended by an editor."), user=request.user)
        messages.success(request, gettext("The alert ends at the next segment."))
        return redirect("city_feeds_alerts:index")
    return TemplateResponse(
        request,
        "city_feeds/admin/alert_end.html",
        {
            "header_title": gettext("End the alert"),
            "page_title": gettext("End the alert"),
            "alert": alert,
            "end_url": reverse("city_feeds_alerts:end", args=[alert.pk]),
            "index_url": reverse("city_feeds_alerts:index"),
        },
    )


urlpatterns: list[URLPattern] = [
    path("", alerts_index, name="index"),
    path("issue/", alerts_issue, name="issue"),
    path("<int:pk>/end/", alerts_end, name="end"),
]


@hooks.register("register_admin_urls")
def register_alert_console_urls() -> list[Any]:
    return [path("alerts/", include((urlpatterns, "city_feeds_alerts")))]


class AlertMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("city_feeds.view_alert"))


@hooks.register("register_admin_menu_item")
def register_alert_console_menu_item() -> MenuItem:
    return AlertMenuItem(
        _("Alerts"), reverse("city_feeds_alerts:index"), icon_name="warning", order=215
    )
