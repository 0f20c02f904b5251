"""A resident's profile: what the channel and the site show of them, and what the rules need."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """One per account (made on first need). ``display_name`` is the only part of a resident
    that is ever public (on air and on the site); ``birth_year`` serves the under-15 rule."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(
        verbose_name=_("display name"),
        max_length=60,
        help_text=_("Shown on air and on the site with what you send."),
    )
    neighbourhood = models.CharField(verbose_name=_("neighbourhood"), max_length=100, blank=True)
    birth_year = models.PositiveSmallIntegerField(verbose_name=_("year of birth"), null=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.display_name
