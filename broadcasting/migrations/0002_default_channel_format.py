"""The default channel format: 25 fps, 4.8 s segments, a 1080p/720p/480p/360p ladder.

The values are frozen here as plain data, not read from ``broadcasting.media.formats``, so that
this migration keeps meaning what it meant when it was written whatever the code becomes.
"""

from django.db import migrations


def _rung(name, width, height, video_bitrate, maxrate, bufsize, profile, level):
    return {
        "name": name,
        "width": width,
        "height": height,
        "video_bitrate": video_bitrate,
        "maxrate": maxrate,
        "bufsize": bufsize,
        "profile": profile,
        "level": level,
        "preset": "superfast",
    }


RUNGS = [
    _rung("1080p", 1920, 1080, 5_000_000, 5_500_000, 10_000_000, "high", "4.0"),
    _rung("720p", 1280, 720, 2_800_000, 3_080_000, 5_600_000, "high", "3.1"),
    _rung("480p", 854, 480, 1_400_000, 1_540_000, 2_800_000, "main", "3.0"),
    _rung("360p", 640, 360, 800_000, 880_000, 1_600_000, "main", "3.0"),
]


def create_default_format(apps, schema_editor):
    channel_format = apps.get_model("broadcasting", "ChannelFormat")
    if channel_format.objects.filter(is_default=True).exists():
        return
    channel_format.objects.create(
        name="Carillon HD",
        fps=25,
        segment_ms=4800,
        gop_ms=2400,
        audio_rate=48_000,
        audio_channels=2,
        audio_bitrate=128_000,
        loudness_lufs=-23.0,
        true_peak_dbtp=-1.0,
        x264_preset="veryfast",
        rungs=RUNGS,
        is_default=True,
    )


class Migration(migrations.Migration):
    dependencies = [("broadcasting", "0001_initial")]

    operations = [migrations.RunPython(create_default_format, migrations.RunPython.noop)]
