"""Columns of the editors' video list: poster thumbnail (through the editors' preview) and
processing state with progress."""

from typing import Any

from wagtail.admin.ui.tables import Column

from broadcasting.delivery.previews import preview_url
from broadcasting.media.failures import failure_message
from broadcasting.models import Asset, ProcessingState


class PosterColumn(Column):
    cell_template_name = "broadcasting/admin/poster_cell.html"

    def get_cell_context_data(self, instance: Asset, parent_context: Any) -> dict[str, Any]:
        context = super().get_cell_context_data(instance, parent_context)
        # Through the editors' preview: the poster is private until the video is approved.
        context["poster_url"] = preview_url(instance, instance.poster) if instance.poster else ""
        return context


class ProcessingColumn(Column):
    cell_template_name = "broadcasting/admin/processing_cell.html"

    def get_cell_context_data(self, instance: Asset, parent_context: Any) -> dict[str, Any]:
        context = super().get_cell_context_data(instance, parent_context)
        context.update(
            asset=instance,
            in_progress=instance.state in (ProcessingState.PROBING, ProcessingState.TRANSCODING),
            failed=instance.state == ProcessingState.FAILED,
            failure=failure_message(instance.failure_code) if instance.failure_code else "",
        )
        return context
