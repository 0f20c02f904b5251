"""The broadcasting app in the Wagtail admin: the library of videos with their processing
state, progress, poster and facts."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet

from broadcasting.admin_columns import PosterColumn, ProcessingColumn
from broadcasting.models import Asset


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


@hooks.register("register_admin_viewset")
def register_asset_viewset() -> AssetViewSet:
    return AssetViewSet("videos")
