from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CityFeedsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "city_feeds"
    verbose_name = _("City data")

    def ready(self) -> None:
        from city_feeds import signal_handlers  # noqa: F401, PLC0415 - connects the receivers
