"""Per-rung x264 presets in the default channel format (benchmark of issue 3).

Rungs are JSON; rows written before ``Rung.preset`` existed have no preset and fall back on the
format's ``x264_preset`` (veryfast). The presets are written here as plain values, not read
from ``broadcasting.media.formats``, so that this migration keeps meaning what it meant.
"""

from django.db import migrations

PRESETS = {"1080p": "superfast", "720p": "superfast", "480p": "superfast", "360p": "superfast"}


def set_rung_presets(apps, schema_editor):
    channel_format = apps.get_model("broadcasting", "ChannelFormat")
    for row in channel_format.objects.filter(is_default=True):
        row.rungs = [
            {**rung, "preset": rung.get("preset") or PRESETS.get(rung["name"], "")}
            for rung in row.rungs
        ]
        row.save(update_fields=["rungs"])


def remove_rung_presets(apps, schema_editor):
    channel_format = apps.get_model("broadcasting", "ChannelFormat")
    for row in channel_format.objects.filter(is_default=True):
        row.rungs = [
            {key: value for key, value in rung.items() if key != "preset"} for rung in row.rungs
        ]
        row.save(update_fields=["rungs"])


class Migration(migrations.Migration):
    dependencies = [("broadcasting", "0002_default_channel_format")]

    operations = [migrations.RunPython(set_rung_presets, remove_rung_presets)]
