"""Wagtail pages of the public site.

``HomePage`` is the root of the site; later pages (the channel page, residents' posts) live
below it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class HomePage(Page):
    """The city's channel home page: what Carillon is and how residents take part."""

    tagline: "models.CharField[str, str]" = models.CharField(
        verbose_name=_("tagline"),
        max_length=200,
        blank=True,
        help_text=_("One sentence shown under the title."),
    )
    intro = RichTextField(
        verbose_name=_("introduction"), blank=True, features=["bold", "italic", "link"]
    )

    content_panels = [*Page.content_panels, FieldPanel("tagline"), FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")
