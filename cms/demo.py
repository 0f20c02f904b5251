"""Demo content of the public site, created idempotently by ``seed_demo``."""

from wagtail.models import Page, Site

from cms.models import ChannelPage, HomePage
from cms.models.pages import PostsPage, ProgrammePage, VideosPage
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
