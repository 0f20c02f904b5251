"""Demo content of the public site, created idempotently by ``seed_demo``."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from wagtail.models import Page, Site

from cms.models import ChannelPage, HomePage, Post, Profile, SubmissionState
from cms.models.pages import PostsPage, ProgrammePage, VideosPage
from cms.services.moderation import post_approve, post_review_start
from cms.services.posts_on_air import post_on_air_sync
from playlists.demo import CHANNEL_SLUG
from playlists.models import Channel

DEMO_TITLE = "Carillon, la télé locale de Chartres"
DEMO_TAGLINE = "Une télé locale faite par les habitants, pour les habitants."
DEMO_INTRO = (
    "<p>Carillon diffuse en continu les vidéos des habitants de Chartres, les rendez-vous de la "
    "ville et ses informations en direct : météo, stationnement, qualité de l'air, alertes.</p>"
)
LIVE_TITLE = "En direct"
# Not "en-direct": Django would read "/en-direct/" as the language "en" (and answer 404).
LIVE_SLUG = "direct"
VIDEOS_TITLE, VIDEOS_SLUG = "Vidéos", "videos"
VIDEOS_INTRO = "<p>Les vidéos des habitants, validées par l'équipe du CMIN.</p>"
POSTS_TITLE, POSTS_SLUG = "Actualités", "actualites"
POSTS_INTRO = "<p>Les nouvelles et les rendez-vous que les habitants partagent.</p>"
PROGRAMME_TITLE, PROGRAMME_SLUG = "Programme", "programme"
PROGRAMME_INTRO = "<p>Ce que la chaîne diffuse cette semaine.</p>"
LIVE_INTRO = (
    "<p>La chaîne en direct, avec ce qui passe maintenant, la suite et le guide des "
    "programmes. Cliquez sur le lecteur pour utiliser les touches du clavier.</p>"
)


def home_page_ensure() -> HomePage:
    """Return the site's home page, creating it (and pointing the default site at it) if needed."""
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = HomePage(title=DEMO_TITLE, slug="accueil", tagline=DEMO_TAGLINE, intro=DEMO_INTRO)
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name="Carillon",
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = "Carillon"
        site.save()
    channel_page_ensure(home=home)
    site_pages_ensure(home=home)
    return home


def channel_page_ensure(*, home: HomePage) -> ChannelPage | None:
    """Return the live page of the default channel under ``home``, creating it if needed
    (``None`` when the default channel does not exist)."""
    channel = Channel.objects.filter(slug=CHANNEL_SLUG).first()
    if channel is None:
        return None
    page = ChannelPage.objects.child_of(home).filter(channel=channel).first()
    if page is None:
        page = ChannelPage(title=LIVE_TITLE, slug=LIVE_SLUG, channel=channel, intro=LIVE_INTRO)
        home.add_child(instance=page)
        page.save_revision().publish()
    return page


def site_pages_ensure(*, home: HomePage) -> None:
    """The pages listing videos and posts and the week's programme, each created once."""
    if not VideosPage.objects.child_of(home).exists():
        _publish_child(home, VideosPage(title=VIDEOS_TITLE, slug=VIDEOS_SLUG, intro=VIDEOS_INTRO))
    if not PostsPage.objects.child_of(home).exists():
        _publish_child(home, PostsPage(title=POSTS_TITLE, slug=POSTS_SLUG, intro=POSTS_INTRO))
    channel = Channel.objects.filter(slug=CHANNEL_SLUG).first()
    if channel is not None and not ProgrammePage.objects.child_of(home).exists():
        page = ProgrammePage(
            title=PROGRAMME_TITLE, slug=PROGRAMME_SLUG, channel=channel, intro=PROGRAMME_INTRO
        )
        _publish_child(home, page)


def _publish_child(parent: HomePage, page: Page) -> None:
    parent.add_child(instance=page)
    page.save_revision().publish()


DEMO_RESIDENT_EMAIL = "habitante.demo@example.org"
DEMO_POST_TITLE = "Vide-grenier dimanche place Billard"
DEMO_POST_BODY = (
    "<p>Les habitants du quartier Saint-Pierre organisent un vide-grenier dimanche de 8 h à "
    "17 h, place Billard. Venez nombreux !</p>"
)


def demo_post_ensure(*, editor: User) -> Post:
    """A resident's post, approved through the editors' workflow, so that the demo's city news
    card and ticker carry a resident's words; each run puts it back on air for a week."""
    resident, created = get_user_model().objects.get_or_create(
        username="habitante-demo", defaults={"email": DEMO_RESIDENT_EMAIL}
    )
    if created:
        resident.set_unusable_password()
        resident.save(update_fields=["password"])
    Profile.objects.get_or_create(user=resident, defaults={"display_name": "Camille"})
    post = Post.objects.filter(author=resident, title=DEMO_POST_TITLE).first()
    if post is None:
        post = Post.objects.create(author=resident, title=DEMO_POST_TITLE, body=DEMO_POST_BODY)
        post_review_start(post=post)
        return post_approve(post=post, editor=editor)
    if post.state == SubmissionState.APPROVED:
        Post.objects.filter(pk=post.pk).update(decided_at=timezone.now())
        post.refresh_from_db()
        post_on_air_sync(post=post)
    return post
