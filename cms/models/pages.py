"""Wagtail pages of the public site.

``HomePage`` is the root of the site. Below it: ``ChannelPage`` (one per channel shown on the
site), ``VideosPage`` (the residents' approved videos: one page per video at
``<page>/<public key>/`` and one per category at ``<page>/categorie/<slug>/``), ``PostsPage``
(approved posts at ``<page>/<public key>/``) and ``ProgrammePage`` (the week's programme of a
channel). The three are routable pages: editors write their introductions, the routes list what
was approved. Their reads are ``cms.selectors`` (imported where used: the selectors read these
models).
"""

import datetime as dt
from typing import Any

from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from playlists.models import Channel

HOME_VIDEOS = 6
HOME_POSTS = 4
LIST_SIZE = 48


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

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """What is on air now and next, today's programme, the latest approved videos and
        posts, and the pages that list them."""
        from cms import selectors

        context = super().get_context(request, *args, **kwargs)
        channel = selectors.channel_shown()
        now = timezone.now()
        if channel is not None:
            context["on_air"], context["up_next"] = selectors.now_and_next(channel=channel, now=now)
            context["today_programme"] = selectors.programme_links(
                selectors.programme_of_day(channel=channel, day=selectors.today()),
                videos_page=selectors.videos_page_get(),
            )
        context["channel"] = channel
        context["latest_videos"] = selectors.video_cards(selectors.videos_latest(limit=HOME_VIDEOS))
        context["posts_page"] = posts_page = selectors.posts_page_get()
        context["latest_posts"] = selectors.post_links(
            selectors.posts_latest(limit=HOME_POSTS), posts_page=posts_page
        )
        context["videos_page"] = selectors.videos_page_get()
        context["programme_page"] = selectors.programme_page_get()
        return context


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


class VideosPage(RoutablePageMixin, Page):
    """The residents' approved videos: the latest, by category, and one page per video, named
    by its public key (never its id). Anything not approved and published answers 404."""

    intro = RichTextField(
        verbose_name=_("introduction"), blank=True, features=["bold", "italic", "link"]
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = _("videos page")
        verbose_name_plural = _("videos pages")

    def video_url(self, public_key: str) -> str:
        return f"{self.url}{self.reverse_subpage('video', args=[public_key]).lstrip('/')}"

    def category_url(self, slug: str) -> str:
        return f"{self.url}{self.reverse_subpage('category', args=[slug]).lstrip('/')}"

    @path("")
    def index(self, request: HttpRequest) -> HttpResponse:
        from cms import selectors

        videos = selectors.video_cards(selectors.videos_latest(limit=LIST_SIZE))
        categories = [(c, self.category_url(c.slug)) for c in selectors.categories_shown()]
        return self.render(request, context_overrides={"videos": videos, "categories": categories})

    @path("categorie/<slug:slug>/", name="category")
    def category(self, request: HttpRequest, slug: str) -> HttpResponse:
        from cms import selectors

        category = selectors.category_get(slug=slug)
        if category is None:
            raise Http404(slug)
        videos = selectors.video_cards(selectors.videos_latest(limit=LIST_SIZE, category=category))
        return self.render(
            request,
            template="cms/site/video_category.html",
            context_overrides={"category": category, "videos": videos},
        )

    @path("<str:public_key>/", name="video")
    def video(self, request: HttpRequest, public_key: str) -> HttpResponse:
        from cms import selectors

        asset = selectors.video_published_get(public_key=public_key)
        if asset is None:
            raise Http404(public_key)
        now = timezone.now()
        past, aired_count = selectors.video_past_airings(asset=asset, now=now)
        return self.render(
            request,
            template="cms/site/video_detail.html",
            context_overrides={
                "video": selectors.video_card(asset, videos_page=self),
                "description": selectors.video_description(asset),
                "master_url": selectors.video_master_url(asset),
                "has_subtitles": bool(selectors.video_subtitles(asset)),
                "category_url": self.category_url(asset.category.slug),
                "next_airings": selectors.video_next_airings(asset=asset, now=now),
                "past_airings": past,
                "aired_count": aired_count,
            },
        )


class PostsPage(RoutablePageMixin, Page):
    """The residents' approved posts: the latest, and one page per post (its public key)."""

    intro = RichTextField(
        verbose_name=_("introduction"), blank=True, features=["bold", "italic", "link"]
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = _("posts page")
        verbose_name_plural = _("posts pages")

    def post_url(self, public_key: str) -> str:
        return f"{self.url}{self.reverse_subpage('post', args=[public_key]).lstrip('/')}"

    @path("")
    def index(self, request: HttpRequest) -> HttpResponse:
        from cms import selectors

        posts = selectors.post_links(selectors.posts_latest(limit=LIST_SIZE), posts_page=self)
        return self.render(request, context_overrides={"posts": posts})

    @path("<str:public_key>/", name="post")
    def post(self, request: HttpRequest, public_key: str) -> HttpResponse:
        from cms import selectors

        post = selectors.post_published_get(public_key=public_key)
        if post is None:
            raise Http404(public_key)
        return self.render(
            request,
            template="cms/site/post_detail.html",
            context_overrides={"post": post, "author": selectors.post_author(post)},
        )


class ProgrammePage(Page):
    """The week's programme of a channel for viewers, from today, built from its schedule."""

    channel: "models.ForeignKey[Channel, Channel]" = models.ForeignKey(
        "playlists.Channel",
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The channel whose programme the page shows."),
    )
    intro = RichTextField(
        verbose_name=_("introduction"), blank=True, features=["bold", "italic", "link"]
    )

    content_panels = [*Page.content_panels, FieldPanel("channel"), FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("programme page")
        verbose_name_plural = _("programme pages")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from cms import selectors

        context = super().get_context(request, *args, **kwargs)
        first_day: dt.date = selectors.today()
        videos_page = selectors.videos_page_get()
        context["days"] = [
            (day, selectors.programme_links(entries, videos_page=videos_page))
            for day, entries in selectors.programme_of_week(
                channel=self.channel, first_day=first_day
            )
        ]
        return context
