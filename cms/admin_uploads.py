"""The editors' upload of the city's own videos in the Wagtail admin (``/admin/moderation/
city-upload/``): a small form (title, description, kind, category) and Uppy's dashboard, the
residents' bundle, sending the file through the same tus endpoint and media pipeline.

The upload carries no submission: the tus server makes it a city asset of the chosen kind and
category, approved by the editor who sent it (``cms.services.uploads``). Only editors
(``user_is_editor``) see the menu item and the page. Registered from ``cms/wagtail_hooks.py``.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from broadcasting.media.permissions import user_is_editor
from broadcasting.media.selectors import categories_active
from broadcasting.models import DEFAULT_CATEGORY, AssetKind
from cms.services.uploads import EDITOR_KINDS
from cms.views.residents import UPLOAD_CHUNK_BYTES


class CityUploadForm(forms.Form):
    """What the upload's tus metadata carries besides the file (sent by Uppy, not posted)."""

    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Blank: the file's name."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(kind.value, kind.label) for kind in map(AssetKind, EDITOR_KINDS)],
        initial=AssetKind.PROGRAMME,
        help_text=_("Programmes are scheduled; fillers and idents fill the gaps between them."),
    )
    category = forms.ChoiceField(label=_("Category"), initial=DEFAULT_CATEGORY)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)  # noqa: S101 (declared just above)
        category.choices = [(c.slug, c.label) for c in categories_active()]


def uppy_settings(request: HttpRequest) -> dict[str, object]:
    """What the upload script reads from the data attributes of ``#uppy``."""
    max_bytes = settings.CARILLON_UPLOAD_MAX_BYTES
    return {
        "endpoint": reverse("uploads:uploads"),
        # One saved state (Golden Retriever) per editor: a closed tab resumes their upload.
        "uppy_id": f"carillon-city-upload-{request.user.pk}",
        "max_bytes": max_bytes,
        "chunk_bytes": min(UPLOAD_CHUNK_BYTES, settings.CARILLON_UPLOAD_CHUNK_BYTES),
        "locale": "fr" if translation.get_language() == "fr" else "en",
        "note": gettext("One video file, at most %(size)s.") % {"size": filesizeformat(max_bytes)},
        "done_url": reverse("videos:index"),
    }


@method_decorator(ensure_csrf_cookie, name="dispatch")  # Uppy sends the token from the cookie
class CityUploadView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "cms/admin/city_upload.html"
    header_icon = "upload"
    page_title = _("Send a video of the city")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not user_is_editor(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context.update(
            form=CityUploadForm(),
            uppy=uppy_settings(self.request),
            library_url=reverse("videos:index"),
        )
        return context


class EditorsOnlyMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return user_is_editor(request.user)


class CityUploadViewSet(ViewSet):
    """The page, under the editors' moderation URLs; its menu item right after "Videos"."""

    name = "city_upload"
    url_prefix = "moderation/city-upload"
    icon = "upload"
    menu_label = _("Send a video of the city")
    menu_order = 211
    add_to_admin_menu = True

    @property
    def menu_item_class(self) -> type[MenuItem]:
        return EditorsOnlyMenuItem

    def get_urlpatterns(self) -> list[URLPattern]:
        return [path("", CityUploadView.as_view(), name="index")]


@hooks.register("register_admin_viewset")
def register_city_upload_viewset() -> CityUploadViewSet:
    return CityUploadViewSet()
