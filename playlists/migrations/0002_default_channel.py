"""The default channel, "Carillon Chartres", number 1, in the default channel format."""

import datetime as dt

from django.db import migrations


def create_default_channel(apps, schema_editor):
    channel = apps.get_model("playlists", "Channel")
    channel_format = apps.get_model("broadcasting", "ChannelFormat")
    if channel.objects.exists():
        return
    channel.objects.create(
        name="Carillon Chartres",
        slug="carillon-chartres",
        number=1,
        description="La télé locale de Chartres, faite par les habitants, pour les habitants.",
        group_title="Chartres",
        channel_format=channel_format.objects.get(is_default=True),
        time_zone="Europe/Paris",
        epoch=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("playlists", "0001_initial"),
        ("broadcasting", "0002_default_channel_format"),
    ]

    operations = [migrations.RunPython(create_default_channel, migrations.RunPython.noop)]
