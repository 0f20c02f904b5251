"""Wagtail pages of the public site.

``HomePage`` is the root of the site; ``ChannelPage`` (one per channel shown on the site) and,
later, residents' posts live below it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from playlists.models import Channel


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

    def channel_pages(self) -> "models.QuerySet[ChannelPage]":
        """The live channel pages below the home page, for its "watch live" links."""
        return ChannelPage.objects.child_of(self).live().order_by("path")


class ChannelPage(Page):
    """A channel watched live on the site: the TV player of ``/tv/``, embedded in the page
    for one ``playlists.Channel`` (which cannot be deleted while a page shows it), with the
    editors' introduction below it. Lives under the home page; has no children."""

    channel: "models.ForeignKey[Channel, Channel]" = models.ForeignKey(
        "playlists.Channel",
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The channel whose live picture, now/next and guide the page shows."),
    )
    intro = RichTextField(
        verbose_name=_("introduction"), blank=True, features=["bold", "italic", "link"]
    )

    content_panels = [*Page.content_panels, FieldPanel("channel"), FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("channel page")
        verbose_name_plural = _("channel pages")
