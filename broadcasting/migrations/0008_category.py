"""Categories become rows that editors manage; ``Asset.category`` refers to their slug.

One ``Category`` per former choice (same slug as its value, French and English names), plus one
for any other value found in the library, before the column becomes a foreign key to the slug:
the stored values stay as they are. The list is frozen here as plain data, not read from the
code, so that this migration keeps meaning what it meant when it was written.
"""

import django.db.models.deletion
from django.db import migrations, models

INITIAL_CATEGORIES = [
    # slug, French name, English name
    ("news", "Actualités", "News"),
    ("culture", "Culture", "Culture"),
    ("sport", "Sport", "Sport"),
    ("heritage", "Patrimoine", "Heritage"),
    ("neighbourhood", "Vie de quartier", "Neighbourhood life"),
    ("events", "Événements", "Events"),
    ("city_info", "Informations de la ville", "City information"),
    ("other", "Autre", "Other"),
]


def create_categories(apps, schema_editor):
    category = apps.get_model("broadcasting", "Category")
    asset = apps.get_model("broadcasting", "Asset")
    for order, (slug, name, name_en) in enumerate(INITIAL_CATEGORIES, start=1):
        category.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_en": name_en, "order": order * 10}
        )
    known = {slug for slug, _name, _name_en in INITIAL_CATEGORIES}
    stored = set(asset.objects.values_list("category", flat=True).distinct())
    for slug in sorted(stored - known):
        category.objects.get_or_create(slug=slug, defaults={"name": slug, "order": 1000})


class Migration(migrations.Migration):

    dependencies = [
        ("broadcasting", "0007_alter_asset_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="Category",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(help_text="Short name used by rotations' weights, e.g. “culture”; cannot be changed.", max_length=30, unique=True, verbose_name="slug")),
                ("name", models.CharField(max_length=100, verbose_name="name (French)")),
                ("name_en", models.CharField(blank=True, help_text="Blank: the French name.", max_length=100, verbose_name="name (English)")),
                ("order", models.PositiveSmallIntegerField(default=0, help_text="Lower numbers are listed first.", verbose_name="order")),
                ("active", models.BooleanField(default=True, help_text="Inactive categories are no longer offered; their videos keep them.", verbose_name="active")),
            ],
            options={
                "verbose_name": "category",
                "verbose_name_plural": "categories",
                "ordering": ["order", "name"],
            },
        ),
        migrations.RunPython(create_categories, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="asset",
            name="category",
            field=models.ForeignKey(db_column="category", default="other", on_delete=django.db.models.deletion.PROTECT, related_name="assets", to="broadcasting.category", to_field="slug", verbose_name="category"),
        ),
    ]
