"""Demo content of the public site, created idempotently by ``seed_demo``."""

from wagtail.models import Page, Site

from cms.models import HomePage

DEMO_TITLE = "Carillon, la télé locale de Chartres"
DEMO_TAGLINE = "Une télé locale faite par les habitants, pour les habitants."
DEMO_INTRO = (
    "<p>Carillon diffuse en continu les vidéos des habitants de Chartres, les rendez-vous de la "
    "ville et ses informations en direct : météo, stationnement, qualité de l'air, alertes.</p>"
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
    return home
