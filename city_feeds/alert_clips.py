"""The clips an alert airs: a generic clip per CAP category, and the alert's own card.

**Generic clips** ("Alerte — Météo", "Alerte — Sécurité"...) are made ahead, once per category
and channel format (``alert_clips_ensure``: the ``build_alert_clips`` command, ``seed_demo``, or
lazily by ``alert_tasks.alert_clips_build``), so an alert airs within one segment without
waiting for any encode. One segment long, they loop while the alert's card is made.

**The alert's card** (headline, description, instruction, in French) is drawn for that alert
(``alert_card_make``) in the format of the channel it airs on, and replaces the generic clip
once ready.

Both are drawn by ffmpeg with the caption helper (``broadcasting.media.captions``: text rendered
literally, so a feed's text cannot inject filter options), imported through the real pipeline
(``asset_create_from_file``: checks, private original, transcode in the channel's format, padded
to whole segments) as approved assets of kind ``card``, and transcoded here, in the calling
process, when no worker has taken the job first. They carry no ``card_category``: the card slots
of the timeline never air them.
"""

import logging
import os
import socket
import tempfile
import textwrap
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from broadcasting.media import ffmpeg
from broadcasting.media.captions import Caption, caption_clip_command
from broadcasting.media.formats import FormatSpec
from broadcasting.media.services import asset_create_from_file
from broadcasting.media.transcoding import transcode_job_run
from broadcasting.models import (
    ApprovalState,
    Asset,
    AssetKind,
    AssetOrigin,
    ChannelFormat,
    JobState,
    ProcessingState,
)
from city_feeds.models import AlertClip

logger = logging.getLogger(__name__)

# CAP 1.2's categories and what the channel calls them (burnt in: the channel speaks French).
CATEGORY_LABELS: dict[str, str] = {
    "Geo": "Risque géologique",
    "Met": "Météo",
    "Safety": "Sécurité",
    "Security": "Sûreté",
    "Rescue": "Secours",
    "Fire": "Incendie",
    "Health": "Santé",
    "Env": "Environnement",
    "Transport": "Transports",
    "Infra": "Réseaux",
    "CBRNE": "Risque technologique",
    "Other": "Information",
}
DEFAULT_CATEGORY = "Other"
ALERT_RED = "0xb00020"
CARD_BACKGROUND = "0x1d2330"
TONE = "sine=frequency=880:sample_rate=48000"
SILENCE = "anullsrc=channel_layout=stereo:sample_rate=48000"
GENERIC_SEGMENTS = 1
CARD_SEGMENTS_MIN, CARD_SEGMENTS_MAX = 2, 4
DESCRIPTION_LINES, INSTRUCTION_LINES = 5, 3


def category_of(value: str) -> str:
    """A CAP category as one of ``CATEGORY_LABELS`` (unknown ones: ``Other``)."""
    found = {key.casefold(): key for key in CATEGORY_LABELS}
    return found.get((value or "").strip().casefold(), DEFAULT_CATEGORY)


def generic_title(category: str) -> str:
    return f"Alerte — {CATEGORY_LABELS[category_of(category)]}"


def _top(spec: FormatSpec) -> tuple[int, int]:
    top = max(spec.rungs, key=lambda rung: rung.height)
    return top.width, top.height


def generic_clip_command(*, category: str, spec: FormatSpec, output: Path) -> list[str]:
    """The generic clip of ``category``: "ALERTE" and the category's name on red, with a tone,
    ``GENERIC_SEGMENTS`` segments long, at the format's largest frame size (pure)."""
    width, height = _top(spec)
    captions = (
        Caption("ALERTE", size=height // 6, y=f"h/2-text_h-{height // 20}"),
        Caption(CATEGORY_LABELS[category_of(category)], size=height // 12, y=f"h/2+{height // 20}"),
        Caption("Restez à l’écoute des consignes", size=height // 24, y=f"h-{height // 6}"),
    )
    return caption_clip_command(
        output=output,
        seconds=GENERIC_SEGMENTS * spec.segment_ms / 1000,
        video=f"color=c={ALERT_RED}:size={width}x{height}:rate={spec.fps}",
        captions=captions,
        audio=TONE,
    )


def _wrapped(text: str, *, width: int, lines: int) -> list[str]:
    wrapped = textwrap.wrap(" ".join(text.split()), width=width) or []
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1 :]), width)]
    return wrapped


def card_segments(*, description: str, instruction: str) -> int:
    """How many segments the card lasts: long enough to be read, two to four."""
    words = len(description.split()) + len(instruction.split())
    return max(CARD_SEGMENTS_MIN, min(CARD_SEGMENTS_MAX, 1 + words // 20))


def card_captions(
    *, category: str, headline: str, description: str, instruction: str, height: int
) -> list[Caption]:
    """The card's lines, top to bottom: the category, the headline, the description and the
    instruction (wrapped, shortened to fit), sized to be read at 3 m on a TV."""
    small, big = height // 26, height // 16
    step = int(small * 1.45)
    captions = [
        Caption(
            generic_title(category).upper(), size=small, y=f"{height // 14}", colour="0xff5c6c"
        ),
        *[
            Caption(line, size=big, y=f"{height // 7 + i * int(big * 1.3)}")
            for i, line in enumerate(_wrapped(headline, width=36, lines=2))
        ],
    ]
    y = height * 37 // 100
    for line in _wrapped(description, width=60, lines=DESCRIPTION_LINES):
        captions.append(Caption(line, size=small, y=str(y), colour="0xd0d4dc"))
        y += step
    y += step // 2
    for line in _wrapped(instruction, width=52, lines=INSTRUCTION_LINES):
        captions.append(
            Caption(line, size=int(small * 1.15), y=str(y), colour="0xffd166", box=True)
        )
        y += int(step * 1.3)
    return captions


def alert_card_command(
    *,
    category: str,
    headline: str,
    description: str,
    instruction: str,
    spec: FormatSpec,
    output: Path,
) -> list[str]:
    """The alert's own card (pure): its texts over the dark card, silent, whole segments."""
    width, height = _top(spec)
    segments = card_segments(description=description, instruction=instruction)
    return caption_clip_command(
        output=output,
        seconds=segments * spec.segment_ms / 1000,
        video=f"color=c={CARD_BACKGROUND}:size={width}x{height}:rate={spec.fps}",
        captions=card_captions(
            category=category,
            headline=headline,
            description=description,
            instruction=instruction,
            height=height,
        ),  # fmt: skip
        audio=SILENCE,
        volume_db=0.0,
    )


# --- making them ------------------------------------------------------------------------------


def _import_clip(
    *, command: list[str], output: Path, title: str, channel_format: ChannelFormat
) -> Asset:
    """Run ``command`` (writing ``output``), import the file as an approved card in
    ``channel_format`` and transcode it here unless a worker took it first."""
    ffmpeg.run(command, limits=ffmpeg.Limits(wall_seconds=120))
    with transaction.atomic():
        asset = asset_create_from_file(
            path=output,
            original_name=output.name,
            title=title,
            kind=AssetKind.CARD,
            origin=AssetOrigin.CITY,
        )
        Asset.objects.filter(pk=asset.pk).update(
            channel_format=channel_format,
            approval=ApprovalState.APPROVED,
            reviewed_at=timezone.now(),
        )
    return _transcode_here(asset_id=asset.pk)


def _transcode_here(*, asset_id: int) -> Asset:
    """Run the asset's queued transcode job in this process (a worker may have claimed it)."""
    job = Asset.objects.get(pk=asset_id).jobs.filter(state=JobState.QUEUED).order_by("-pk").first()
    if job is not None:
        worker = f"alerts@{socket.gethostname()}:{os.getpid()}"
        outcome = transcode_job_run(job_id=job.pk, worker=worker)
        logger.info("alert clip transcode asset=%s outcome=%s", asset_id, outcome)
    return Asset.objects.prefetch_related("renditions").get(pk=asset_id)


def alert_clip_for(*, category: str, channel_format_id: int) -> Asset | None:
    """The generic clip of ``category`` in the format, ready to air (``None``: not made yet)."""
    found = (
        AlertClip.objects.select_related("asset")
        .filter(category=category_of(category), channel_format_id=channel_format_id)
        .first()
    )
    if found is None or found.asset.state != ProcessingState.READY:
        return None
    return found.asset


def alert_clip_build(*, category: str, channel_format: ChannelFormat) -> Asset:
    """Make (or remake, when the one held failed) the generic clip of ``category``."""
    category = category_of(category)
    held = AlertClip.objects.filter(category=category, channel_format=channel_format).first()
    if held is not None and held.asset.state != ProcessingState.FAILED:
        return _transcode_here(asset_id=held.asset_id)
    spec = channel_format.to_spec()
    with tempfile.TemporaryDirectory(prefix="carillon-alert-") as folder:
        output = Path(folder) / f"alerte-{category.lower()}.mp4"
        command = generic_clip_command(category=category, spec=spec, output=output)
        asset = _import_clip(
            command=command, output=output, title=generic_title(category),
            channel_format=channel_format,
        )  # fmt: skip
    AlertClip.objects.update_or_create(
        category=category, channel_format=channel_format, defaults={"asset": asset}
    )
    logger.info("alert clip made category=%s asset=%s state=%s", category, asset.pk, asset.state)
    return asset


def alert_clips_ensure(
    *, channel_format: ChannelFormat, categories: Iterable[str] = CATEGORY_LABELS
) -> list[Asset]:
    """Every generic clip of the format, made where missing (what ``seed_demo`` and the
    ``build_alert_clips`` command call; about a second of ffmpeg per clip and rung)."""
    return [alert_clip_build(category=c, channel_format=channel_format) for c in categories]


def alert_card_make(
    *,
    category: str,
    headline: str,
    description: str,
    instruction: str,
    channel_format: ChannelFormat,
) -> Asset:
    """Draw, import and transcode an alert's own card in ``channel_format``."""
    spec = channel_format.to_spec()
    with tempfile.TemporaryDirectory(prefix="carillon-alert-card-") as folder:
        output = Path(folder) / "alerte.mp4"
        command = alert_card_command(
            category=category, headline=headline, description=description,
            instruction=instruction, spec=spec, output=output,
        )  # fmt: skip
        title = f"{generic_title(category)} : {headline}"[:255]
        return _import_clip(
            command=command, output=output, title=title, channel_format=channel_format
        )
