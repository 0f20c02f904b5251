from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "broadcasting"
    verbose_name = _("Broadcasting")

    def ready(self) -> None:
        from broadcasting import signal_handlers

        signal_handlers.connect()
