"""The broadcasting app in the Wagtail admin: the library of videos with their processing
state, progress, poster and facts; the categories editors manage; the channel overrides,
started and ended by editors."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import modelform_factory
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from broadcasting.admin_columns import PosterColumn, ProcessingColumn
from broadcasting.live.overrides import (
    DEFAULT_PRIORITY,
    OverrideRefused,
    clip_refusal,
    override_end,
    override_start,
)
from broadcasting.media.selectors import categories_offered
from broadcasting.models import Asset, Category, Override
from playlists.selectors import category_uses


class AssetForm(WagtailAdminModelForm):
    """Offers the active categories, and the video's own even if it is no longer active."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields.get("category")
        if isinstance(category, forms.ModelChoiceField):
            category.queryset = categories_offered(keep=[self.instance.category_id])


class AssetViewSet(ModelViewSet):
    model = Asset
    icon = "media"
    menu_label = _("Videos")
    menu_order = 210
    add_to_admin_menu = True
    inspect_view_enabled = True
    list_display = [
        PosterColumn("poster", label=_("Poster")),
        "title",
        "kind",
        "origin",
        ProcessingColumn("state", label=_("Processing")),
        "approval",
        Column("duration", label=_("Duration (s)")),
    ]
    list_filter = ["state", "approval", "kind", "origin", "category"]
    search_fields = ["title", "description"]
    form_fields = ["title", "description", "kind", "origin", "category"]
    inspect_view_fields = [
        "title",
        "kind",
        "origin",
        "category",
        "state",
        "approval",
        "original_filename",
        "source_size",
        "container",
        "video_codec",
        "audio_codec",
        "audio_layout",
        "duration",
        "width",
        "height",
        "rotation",
        "frame_rate",
        "color",
        "loudness_before",
        "loudness_after",
        "segment_count",
        "padded_duration",
        "master_playlist",
        "created_at",
        "ready_at",
    ]

    def get_form_class(self, for_update: bool = False) -> Any:
        return modelform_factory(
            Asset,
            form=AssetForm,
            fields=self.form_fields,
            formfield_callback=self.formfield_for_dbfield,
        )


@hooks.register("register_admin_viewset")
def register_asset_viewset() -> AssetViewSet:
    return AssetViewSet("videos")


class CategoryForm(WagtailAdminModelForm):
    """The slug is written once: videos and rotations' weights refer to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["slug"].disabled = True


class CategoryViewSet(SnippetViewSet):
    """The categories of videos; one in use is made inactive rather than deleted."""

    model = Category
    icon = "tag"
    menu_label = _("Categories")
    menu_order = 215
    add_to_admin_menu = True
    list_display = ["name", "name_en", "slug", "order", "active"]
    list_filter = ["active"]
    search_fields = ["name", "name_en", "slug"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
            FieldRowPanel([FieldPanel("slug"), FieldPanel("order"), FieldPanel("active")]),
        ],
        base_form_class=CategoryForm,
    )


category_viewset = CategoryViewSet()
register_snippet(category_viewset)


@hooks.register("before_delete_snippet")
def refuse_deleting_categories_in_use(
    request: HttpRequest, instances: list[Any]
) -> HttpResponse | None:
    """A category that videos, rotations or new videos use stays (the delete view and the
    bulk action both ask here first); the editor is told why and offered to deactivate it."""
    for instance in instances:
        if isinstance(instance, Category) and (uses := category_uses(category=instance)):
            text = gettext("“%(name)s” cannot be deleted: %(uses)s Make it inactive instead.")
            messages.error(request, text % {"name": instance, "uses": " ".join(uses)})
            return redirect(reverse(category_viewset.get_url_name("list")))
    return None


class OverrideIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance: Any) -> list[Any]:
        buttons: list[Any] = super().get_list_more_buttons(instance)
        if instance.ended_at is None:
            url = reverse("overrides:end", args=[instance.pk])
            buttons.insert(0, MenuItem(_("End now"), url=url, icon_name="cross", priority=5))
        return buttons


class OverrideStartForm(WagtailAdminModelForm):
    """A new override: its priority may be left blank (the default of its reason: alerts above
    manual take-overs); a clip that cannot air on the channel is refused with the reason."""

    priority = forms.IntegerField(
        label=_("priority"),
        required=False,
        min_value=0,
        max_value=32767,
        help_text=_(
            "When several overrides are active, the highest priority airs. Blank: %(manual)s "
            "for a manual take-over, %(alert)s for an alert."
        )
        % {"manual": DEFAULT_PRIORITY["manual"], "alert": DEFAULT_PRIORITY["alert"]},
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean()
        if data.get("channel") is not None and data.get("asset") is not None:
            refusal = clip_refusal(channel=data["channel"], asset=data["asset"])
            if refusal is not None:
                self.add_error("asset", refusal.message)
        return data


class OverrideCreateView(generic.CreateView):
    def save_instance(self) -> Override:
        """Start through the service: the start snaps to the next segment boundary."""
        data = self.form.cleaned_data
        return override_start(
            channel=data["channel"], asset=data["asset"], user=self.request.user,
            reason=data["reason"], note=data["note"], end=data["end"], repeat=data["repeat"],
            priority=data["priority"],
        )  # fmt: skip

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().form_valid(form)
        except OverrideRefused as refused:  # the clip changed since the form was checked
            form.add_error("asset", refused.message)
            return self.form_invalid(form)
        return response


class OverrideViewSet(ModelViewSet):
    model = Override
    icon = "warning"
    menu_label = _("Overrides")
    menu_order = 220
    add_to_admin_menu = True
    index_view_class = OverrideIndexView
    add_view_class = OverrideCreateView
    list_display = ["channel", "asset", "start", "end", "reason", "priority", "note"]
    list_filter = ["channel", "reason"]
    form_fields = ["channel", "asset", "reason", "priority", "repeat", "end", "note"]

    def get_form_class(self, for_update: bool = False) -> Any:
        if for_update:  # start and end change only through the services
            fields = ["priority", "note"]
            return modelform_factory(Override, form=WagtailAdminModelForm, fields=fields)
        return modelform_factory(Override, form=OverrideStartForm, fields=self.form_fields)

    def end_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm (GET), then end the override at the next segment boundary (POST)."""
        override = get_object_or_404(Override.objects.select_related("channel"), pk=pk)
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        index_url = reverse("overrides:index")
        if request.method == "POST":
            override_end(override=override, user=request.user)
            messages.success(request, gettext("The override ends at the next segment."))
            return redirect(index_url)
        return TemplateResponse(
            request,
            "broadcasting/admin/override_end.html",
            {
                "header_title": gettext("End the override"),
                "page_title": gettext("End the override"),
                "message": gettext("End this override now? The schedule resumes at wall clock."),
                "confirm_label": gettext("Yes, end now"),
                "cancel_label": gettext("No, keep it"),
                "end_url": reverse("overrides:end", args=[override.pk]),
                "index_url": index_url,
            },
        )

    def get_urlpatterns(self) -> list[URLPattern]:
        patterns: list[URLPattern] = super().get_urlpatterns()
        return [*patterns, path("end/<int:pk>/", self.end_view, name="end")]


@hooks.register("register_admin_viewset")
def register_override_viewset() -> OverrideViewSet:
    return OverrideViewSet("overrides")
