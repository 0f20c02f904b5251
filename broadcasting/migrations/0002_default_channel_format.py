"""The default channel format: 25 fps, 4.8 s segments, a 1080p/720p/480p/360p ladder."""

from dataclasses import asdict

from django.db import migrations

from broadcasting.formats import DEFAULT_FORMAT


def create_default_format(apps, schema_editor):
    channel_format = apps.get_model("broadcasting", "ChannelFormat")
    if channel_format.objects.filter(is_default=True).exists():
        return
    spec = DEFAULT_FORMAT
    channel_format.objects.create(
        name="Carillon HD",
        fps=spec.fps,
        segment_ms=spec.segment_ms,
        gop_ms=spec.gop_ms,
        audio_rate=spec.audio_rate,
        audio_channels=spec.audio_channels,
        audio_bitrate=spec.audio_bitrate,
        loudness_lufs=spec.loudness_lufs,
        true_peak_dbtp=spec.true_peak_dbtp,
        x264_preset=spec.x264_preset,
        rungs=[asdict(rung) for rung in spec.rungs],
        is_default=True,
    )


class Migration(migrations.Migration):
    dependencies = [("broadcasting", "0001_initial")]

    operations = [migrations.RunPython(create_default_format, migrations.RunPython.noop)]
