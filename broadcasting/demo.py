"""Demo library for ``seed_demo``: a few generated clips, an ident and a slate, imported through
the real pipeline (intake, probe, transcode) and approved."""

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User

from broadcasting.media import ffmpeg
from broadcasting.media.captions import Caption, caption_clip_command
from broadcasting.media.services import asset_approve, asset_create_from_file
from broadcasting.models import Asset, AssetKind, ProcessingState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoClip:
    title: str
    kind: str
    category: str  # a Category slug (rows from the migration)
    seconds: float
    video: str  # a lavfi video source
    caption: str


DEMO_CLIPS = (
    DemoClip("Bienvenue à Chartres", AssetKind.PROGRAMME, "heritage", 24,
             "testsrc2=size=1280x720:rate=25", "Bienvenue à Chartres"),
    DemoClip("Le marché du samedi", AssetKind.PROGRAMME, "neighbourhood", 18,
             "smptehdbars=size=1280x720:rate=25", "Le marché du samedi"),
    DemoClip("Chartres en lumières", AssetKind.PROGRAMME, "culture", 20,
             "gradients=size=640x360:rate=25:speed=0.03,scale=1280:720", "Chartres en lumières"),
    DemoClip("Ident Carillon", AssetKind.IDENT, "other", 4.8,
             "color=c=0x1d2330:size=1280x720:rate=25", "Carillon"),
    DemoClip("Mire Carillon", AssetKind.SLATE, "other", 9.6,
             "color=c=0xb3261e:size=1280x720:rate=25", "Carillon · Nous revenons dans un instant"),
)  # fmt: skip


def demo_clip_command(clip: DemoClip, output: Path) -> list[str]:
    """A short H.264/AAC file with a caption over a generated picture and a soft tone."""
    caption = Caption(clip.caption, size=56, y="h-text_h-80", box=True)
    return caption_clip_command(
        output=output, seconds=clip.seconds, video=clip.video, captions=(caption,)
    )


def demo_library_ensure(*, editor: User) -> list[Asset]:
    """Import (once) every demo clip and approve it; return the demo assets."""
    assets = []
    with tempfile.TemporaryDirectory(prefix="carillon-demo-") as folder:
        for clip in DEMO_CLIPS:
            existing = (
                Asset.objects.filter(title=clip.title, kind=clip.kind)
                .exclude(state=ProcessingState.FAILED)
                .first()
            )
            assets.append(existing or _import(clip, Path(folder), editor))
    return assets


def _import(clip: DemoClip, folder: Path, editor: User) -> Asset:
    path = folder / f"{clip.kind}-{len(clip.title)}.mp4"
    ffmpeg.run(demo_clip_command(clip, path), limits=ffmpeg.Limits(wall_seconds=300))
    asset = asset_create_from_file(
        path=path, original_name=path.name, title=clip.title, kind=clip.kind, category=clip.category
    )
    logger.info("demo clip imported asset=%s title=%s", asset.pk, clip.title)
    return asset_approve(asset=asset, editor=editor)
