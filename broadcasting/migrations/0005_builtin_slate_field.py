"""The built-in slate is marked by a field, no longer recognised by its file name.

Slates made before this field existed were named ``builtin-slate-channel-<id>.mp4`` (the prefix
is frozen here): they are marked for the channel their name gives, if it still exists.
"""

import django.db.models.deletion
from django.db import migrations, models


PREFIX = "builtin-slate-channel-"


def mark_builtin_slates(apps, schema_editor):
    asset = apps.get_model("broadcasting", "Asset")
    channel = apps.get_model("playlists", "Channel")
    channels = set(channel.objects.values_list("pk", flat=True))
    for row in asset.objects.filter(kind="slate", original_filename__startswith=PREFIX):
        number = row.original_filename[len(PREFIX) :].removesuffix(".mp4")
        if number.isdigit() and int(number) in channels:
            row.builtin_slate_for_id = int(number)
            row.save(update_fields=["builtin_slate_for"])


class Migration(migrations.Migration):

    dependencies = [
        ('broadcasting', '0004_override'),
        ('playlists', '0002_default_channel'),
    ]

    operations = [
        migrations.AddField(
            model_name='asset',
            name='builtin_slate_for',
            field=models.ForeignKey(blank=True, editable=False, help_text='Set on the slate the playout made for a channel that had none.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='builtin_slates', to='playlists.channel', verbose_name='built-in slate of'),
        ),
        migrations.RunPython(mark_builtin_slates, migrations.RunPython.noop),
    ]
