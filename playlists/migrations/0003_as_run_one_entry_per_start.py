"""One as-run entry per (channel, actual start): two playouts at once had written duplicates.

The duplicates are deleted first (the entry of each start with the lowest id, the first
written, is kept), then the unique constraint replaces the plain index on the same columns.
"""

from django.db import migrations, models
from django.db.models import Min


def keep_one_entry_per_start(apps, schema_editor):
    entry = apps.get_model("playlists", "AsRunEntry")
    starts = (
        entry.objects.values("channel_id", "actual_start")
        .annotate(first=Min("id"), count=models.Count("id"))
        .filter(count__gt=1)
    )
    for start in starts:
        entry.objects.filter(
            channel_id=start["channel_id"], actual_start=start["actual_start"]
        ).exclude(id=start["first"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("playlists", "0002_default_channel"),
    ]

    operations = [
        migrations.RunPython(keep_one_entry_per_start, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="asrunentry",
            name="playlists_a_channel_11ed00_idx",
        ),
        migrations.AddConstraint(
            model_name="asrunentry",
            constraint=models.UniqueConstraint(
                fields=("channel", "actual_start"), name="as_run_one_entry_per_start"
            ),
        ),
    ]
