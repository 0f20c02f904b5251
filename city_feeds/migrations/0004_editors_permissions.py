"""The editors' group ("Éditeurs CMIN", made by cms 0007) also keeps the city's data: the sources
(all four), the items (view; change: approving citizen reports), the alerts (view, add: a manual
alert, change: ending one), the channels' areas (view, change) and the map card's backgrounds
(all four)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Éditeurs CMIN"
CODENAMES = [
    *[f"{verb}_feedsource" for verb in ("add", "change", "delete", "view")],
    "view_feeditem",
    "change_feeditem",
    "view_alert",
    "add_alert",
    "change_alert",
    "view_channelarea",
    "change_channelarea",
    *[f"{verb}_mapbackground" for verb in ("add", "change", "delete", "view")],
]


def permissions_add(apps, schema_editor):
    app_config = apps.get_app_config("city_feeds")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is None:
        return
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="city_feeds", codename__in=CODENAMES)
    )


def permissions_remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="city_feeds", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("city_feeds", "0003_map_background"),
        ("cms", "0007_editors_group_and_moderation_workflow"),
    ]

    operations = [migrations.RunPython(permissions_add, permissions_remove)]
