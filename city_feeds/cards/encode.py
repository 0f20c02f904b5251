"""A card picture → a clip of whole 4.8-s segments in the channel's format, through the real
media pipeline (``broadcasting.media``): one ffmpeg makes a short H.264 file of the still
picture (decoded once) over silence, exactly ``segments`` segments long (the audio a little
shorter, so the container never exceeds them: the ladder pads the silence, never the picture),
and ``asset_create_from_file`` imports it as an approved asset of kind card whose transcode job
is sent to the ``cards`` queue (``transcode_job_enqueue`` routes cards there).
"""

import logging
import tempfile
from fractions import Fraction
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from PIL import Image

from broadcasting.media import ffmpeg
from broadcasting.media.formats import FormatSpec
from broadcasting.media.services import asset_create_from_file
from broadcasting.models import ApprovalState, Asset, AssetKind, AssetOrigin
from city_feeds.cards.content import CardContent

logger = logging.getLogger(__name__)
SEGMENTS = 2  # 9.6 s: a card slot loops its card when it is longer
AUDIO_SHORTER_BY = Fraction(1, 25)  # one frame: the container ends with the picture
SILENCE = "anullsrc=channel_layout=stereo:sample_rate={rate}"
LIMITS = ffmpeg.Limits(wall_seconds=120, cpu_seconds=240, memory_bytes=2 * 1024**3)


def card_clip_command(
    *, picture: Path, output: Path, spec: FormatSpec, segments: int = SEGMENTS
) -> list[str]:
    """The ffmpeg command of a still ``picture`` over silence, ``segments`` segments long.

    The picture is decoded once and its frame repeated by the ``loop`` filter (``-loop 1``
    would decode the PNG again for every frame: half the CPU of a card). The file is only the
    source of the card's transcode, so it is made as fast as x264 goes, nearly lossless."""
    frames = int(segments * spec.segment_seconds * spec.fps)
    audio_seconds = segments * spec.segment_seconds - AUDIO_SHORTER_BY
    repeat = f"[0:v]loop=loop={frames - 1}:size=1:start=0,setpts=N/{spec.fps}/TB,format=yuv420p[v]"
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-framerate", str(spec.fps), "-i", str(picture),
        "-f", "lavfi", "-t", f"{float(audio_seconds):.3f}",
        "-i", SILENCE.format(rate=spec.audio_rate),
        "-filter_complex", repeat, "-map", "[v]", "-map", "1:a", "-frames:v", str(frames),
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-r", str(spec.fps),
        "-c:a", "aac", "-b:a", "96k",
        "-map_metadata", "-1", str(output),
    ]  # fmt: skip


def card_clip_make(
    *, image: Image.Image, folder: Path, spec: FormatSpec, segments: int = SEGMENTS
) -> Path:
    """Write the picture and its clip under ``folder``; the clip's path."""
    picture = folder / "card.png"
    image.save(picture, format="PNG")
    output = folder / "card.mp4"
    ffmpeg.run(
        card_clip_command(picture=picture, output=output, spec=spec, segments=segments),
        limits=LIMITS,
    )
    return output


def card_import(*, path: Path, content: CardContent, title: str) -> Asset:
    """Import the clip as an approved card of ``content``'s category, its transcode queued
    (after commit) on the ``cards`` queue."""
    with transaction.atomic():
        asset = asset_create_from_file(
            path=path,
            original_name=path.name,
            title=title,
            kind=AssetKind.CARD,
            origin=AssetOrigin.CITY,
            description=content.text,
        )
        Asset.objects.filter(pk=asset.pk).update(
            approval=ApprovalState.APPROVED,
            reviewed_at=timezone.now(),
            card_category=content.category,
            card_expires_at=content.expires_at,
        )
    logger.info("card imported asset=%s category=%s", asset.pk, content.category)
    return Asset.objects.get(pk=asset.pk)


def card_encode(*, image: Image.Image, content: CardContent, title: str, spec: FormatSpec) -> Asset:
    """The picture made a clip and imported (its temporary files removed)."""
    with tempfile.TemporaryDirectory(prefix="carillon-card-") as folder:
        path = card_clip_make(image=image, folder=Path(folder), spec=spec)
        return card_import(path=path, content=content, title=title)
