"""Replace Wagtail's default welcome page with the channel's home page and point the site at it."""

from django.db import migrations

TITLE = "Carillon, la télé locale de Chartres"
TAGLINE = "Une télé locale faite par les habitants, pour les habitants."


def create_home_page(apps, schema_editor):
    content_type_model = apps.get_model("contenttypes.ContentType")
    page_model = apps.get_model("wagtailcore.Page")
    site_model = apps.get_model("wagtailcore.Site")
    locale_model = apps.get_model("wagtailcore.Locale")
    home_page_model = apps.get_model("cms.HomePage")

    # Wagtail's own migration made a welcome page at depth 2: take its place in the tree.
    page_model.objects.filter(depth=2, url_path="/home/").delete()
    if home_page_model.objects.exists():
        return
    home_type, _ = content_type_model.objects.get_or_create(model="homepage", app_label="cms")
    locale, _ = locale_model.objects.get_or_create(language_code="fr")
    root = page_model.objects.get(depth=1)
    sibling_paths = page_model.objects.filter(depth=2).values_list("path", flat=True)
    next_number = max((int(path[4:8], 36) for path in sibling_paths), default=0) + 1
    path = root.path + _base36(next_number).rjust(4, "0")
    home = home_page_model.objects.create(
        title=TITLE,
        draft_title=TITLE,
        slug="accueil",
        content_type=home_type,
        path=path,
        depth=2,
        numchild=0,
        url_path="/accueil/",
        locale=locale,
        tagline=TAGLINE,
    )
    root.numchild = page_model.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])
    site_model.objects.filter(is_default_site=True).delete()
    site_model.objects.create(
        hostname="localhost", port=80, root_page_id=home.pk, is_default_site=True,
        site_name="Carillon",
    )


def _base36(number):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_home_page, migrations.RunPython.noop)]
