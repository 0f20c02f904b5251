from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaylistsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "playlists"
    verbose_name = _("Programming")

    def ready(self) -> None:
        from playlists import signal_handlers

        signal_handlers.connect()
