from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cms"
    verbose_name = _("Public site")

    def ready(self) -> None:
        from cms import signal_handlers  # noqa: F401, PLC0415 - connects the receivers
