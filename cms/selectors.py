"""Read queries of the public site: what is published (approved videos and posts), what airs
when, and the site's own pages.

Nothing here returns an id for a template: videos and posts are named by their public keys,
and the shapes handed to templates (``VideoCard``, ``Airing``) carry URLs made from them.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasting.media.storage import published_url
from broadcasting.models import (
    ApprovalState,
    Asset,
    AssetKind,
    AssetOrigin,
    Category,
    ProcessingState,
)
from cms.models import Post, SubmissionState
from cms.models.pages import ChannelPage, PostsPage, ProgrammePage, VideosPage
from playlists.models import AsRunEntry, Channel, ScheduledItem
from playlists.selectors import PROGRAMME_ROLES, GuideEntry, channels_on_air, guide

SHOWN_KINDS = (AssetKind.PROGRAMME, AssetKind.FILLER)  # idents, cards and slates have no page
AIRINGS_SHOWN = 5


@dataclass(frozen=True)
class VideoCard:
    """A published video as lists show it."""

    public_key: str
    title: str
    url: str
    poster_url: str
    category: str
    author: str
    duration_text: str  # "3:07"; "" when unknown


@dataclass(frozen=True)
class Airing:
    """One airing of a video, past or coming, in local time."""

    start: dt.datetime
    channel: str


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- Videos ------------------------------------------------------------------------------------


def videos_published() -> QuerySet[Asset]:
    """Videos with a public page: transcoded, approved and published (a public key)."""
    return (
        Asset.objects.filter(
            state=ProcessingState.READY,
            approval=ApprovalState.APPROVED,
            public_key__isnull=False,
            kind__in=SHOWN_KINDS,
        )
        .exclude(public_key="")
        .select_related("category", "owner__profile")
    )


def video_published_get(*, public_key: str) -> Asset | None:
    """The published video under ``public_key``; ``None`` for any other (pending, rejected,
    taken down, unknown)."""
    if not public_key:
        return None
    return videos_published().filter(public_key=public_key).first()


def videos_latest(*, limit: int, category: Category | None = None) -> list[Asset]:
    videos = videos_published()
    if category is not None:
        videos = videos.filter(category=category)
    return list(videos.order_by("-reviewed_at", "-ready_at")[:limit])


def video_author(asset: Asset) -> str:
    """The name shown with a video: the resident's display name, or the city's."""
    if asset.origin == AssetOrigin.CITY:
        return _("City of Chartres")
    profile = getattr(asset.owner, "profile", None) if asset.owner is not None else None
    return profile.display_name if profile is not None else ""


def video_master_url(asset: Asset) -> str:
    return published_url(asset_id=asset.pk, public_key=asset.public_key, name=asset.master_playlist)


def video_poster_url(asset: Asset) -> str:
    return published_url(asset_id=asset.pk, public_key=asset.public_key, name=asset.poster)


def video_card(asset: Asset, *, videos_page: "VideosPage | None") -> VideoCard:
    assert asset.public_key  # noqa: S101 - published videos only
    return VideoCard(
        public_key=asset.public_key,
        title=asset.title,
        url=videos_page.video_url(asset.public_key) if videos_page is not None else "",
        poster_url=video_poster_url(asset),
        category=asset.category.label,
        author=video_author(asset),
        duration_text=duration_text(asset.duration),
    )


def duration_text(seconds: float | None) -> str:
    if not seconds:
        return ""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def video_cards(assets: list[Asset]) -> list[VideoCard]:
    page = videos_page_get()
    return [video_card(asset, videos_page=page) for asset in assets]


def video_subtitles(asset: Asset) -> str:
    """The WebVTT subtitles the resident sent with the video ("" when none)."""
    submission = getattr(asset, "submission", None)
    return submission.subtitles_vtt if submission is not None else ""


def video_description(asset: Asset) -> str:
    submission = getattr(asset, "submission", None)
    return asset.description or (submission.description if submission is not None else "")


def video_next_airings(*, asset: Asset, now: dt.datetime) -> list[Airing]:
    items = (
        ScheduledItem.objects.filter(asset=asset, start__gte=now, role__in=PROGRAMME_ROLES)
        .select_related("channel")
        .order_by("start")[:AIRINGS_SHOWN]
    )
    return [Airing(start=i.start.astimezone(site_zone()), channel=i.channel.name) for i in items]


def video_past_airings(*, asset: Asset, now: dt.datetime) -> tuple[list[Airing], int]:
    """The latest airings (at most ``AIRINGS_SHOWN``) and how many there were in all."""
    entries = AsRunEntry.objects.filter(asset=asset, actual_start__lte=now)
    latest = entries.select_related("channel").order_by("-actual_start")[:AIRINGS_SHOWN]
    shown = [
        Airing(start=e.actual_start.astimezone(site_zone()), channel=e.channel.name) for e in latest
    ]
    return shown, entries.count()


def categories_shown() -> list[Category]:
    """Categories with at least one published video, in the editors' order."""
    slugs = set(videos_published().values_list("category", flat=True))
    return [category for category in Category.objects.all() if category.slug in slugs]


def category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


# --- Posts -------------------------------------------------------------------------------------


def posts_published() -> QuerySet[Post]:
    return Post.objects.filter(state=SubmissionState.APPROVED).select_related("author__profile")


def post_published_get(*, public_key: str) -> Post | None:
    return posts_published().filter(public_key=public_key).first() if public_key else None


def posts_latest(*, limit: int) -> list[Post]:
    return list(posts_published().order_by("-decided_at", "-created_at")[:limit])


def post_links(posts: list[Post], *, posts_page: "PostsPage | None") -> list[tuple[Post, str]]:
    """Each post with the URL of its page ("" without a posts page)."""
    return [(post, posts_page.post_url(post.public_key) if posts_page else "") for post in posts]


def post_author(post: Post) -> str:
    profile = getattr(post.author, "profile", None)
    return profile.display_name if profile is not None else ""


# --- The programme -----------------------------------------------------------------------------


def channel_shown() -> Channel | None:
    """The channel the site shows first: the one of the first live channel page, else the
    first channel on air."""
    page = ChannelPage.objects.live().select_related("channel").order_by("path").first()
    if page is not None and page.channel.is_active:
        return page.channel
    return channels_on_air().order_by("number").first()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight to the next local midnight (23 or 25 hours across a DST change)."""
    zone = site_zone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def programme_of_day(*, channel: Channel, day: dt.date) -> list[GuideEntry]:
    """The programmes of a local day (slots between them left out)."""
    start, end = day_bounds(day)
    return [
        entry for entry in guide(channel=channel, start=start, end=end) if entry.kind == "programme"
    ]


def programme_of_week(
    *, channel: Channel, first_day: dt.date
) -> list[tuple[dt.date, list[GuideEntry]]]:
    return [
        (day, programme_of_day(channel=channel, day=day))
        for day in (first_day + dt.timedelta(days=n) for n in range(7))
    ]


def programme_links(
    entries: list[GuideEntry], *, videos_page: "VideosPage | None"
) -> list[tuple[GuideEntry, str]]:
    """Each entry with the URL of its video's page ("" when it has none)."""
    return [
        (entry, videos_page.video_url(entry.video) if videos_page and entry.video else "")
        for entry in entries
    ]


def now_and_next(
    *, channel: Channel, now: dt.datetime
) -> tuple[GuideEntry | None, GuideEntry | None]:
    """The entry on air at ``now`` and the programme after it."""
    entries = guide(channel=channel, start=now, end=now + dt.timedelta(hours=12))
    current = entries[0] if entries and entries[0].start <= now else None
    following = next((e for e in entries if e.start > now and e.kind == "programme"), None)
    return current, following


def today() -> dt.date:
    return timezone.localdate(timezone=site_zone())


# --- The site's pages --------------------------------------------------------------------------


def videos_page_get() -> "VideosPage | None":
    return VideosPage.objects.live().order_by("path").first()


def posts_page_get() -> "PostsPage | None":
    return PostsPage.objects.live().order_by("path").first()


def programme_page_get() -> "ProgrammePage | None":
    return ProgrammePage.objects.live().order_by("path").first()
