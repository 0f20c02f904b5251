"""Captions drawn over generated pictures: the built-in slate today, the city's info cards next.

``caption_clip_command`` builds the ffmpeg command of a short H.264/AAC clip with lines of text
over a lavfi picture. The text is escaped here by hand (``drawtext_escape``): it is rendered
literally, with ``expansion=none``, so no resident's or feed's text can inject filter options.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class Caption:
    """One line of text drawn over a generated picture."""

    text: str
    size: int  # font size in pixels
    y: str  # drawtext expression of the line's top
    colour: str = "white"
    box: bool = False  # a translucent band behind the text


def drawtext_escape(text: str) -> str:
    """``text`` made safe inside a quoted drawtext option (rendered literally)."""
    return (
        text.replace("\\", "/")
        .replace("'", "’")
        .replace(":", r"\:")
        .replace("\n", " ")
        .replace("\r", " ")
    )


def _drawtext(caption: Caption) -> str:
    box = ":box=1:boxcolor=black@0.5:boxborderw=20" if caption.box else ""
    return (
        f"drawtext=fontfile={FONT}:expansion=none:text='{drawtext_escape(caption.text)}':"
        f"fontcolor={caption.colour}:fontsize={caption.size}{box}:x=(w-text_w)/2:y={caption.y}"
    )


def caption_clip_command(
    *,
    output: Path,
    seconds: float,
    video: str,
    captions: Sequence[Caption],
    audio: str = "sine=frequency=330:sample_rate=48000",
    volume_db: float = -18.0,
) -> list[str]:
    """A short H.264/AAC file: captions over the lavfi picture ``video``, with ``audio``. It is
    only ever the source of a transcode (the demo library, the slate, alert clips): made as fast
    as x264 goes, at a quality the channel's encode cannot tell from better (CRF 16)."""
    filters = ",".join(_drawtext(caption) for caption in captions) or "null"
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-f", "lavfi", "-t", str(seconds), "-i", video,
        "-f", "lavfi", "-t", str(seconds), "-i", audio,
        "-vf", filters, "-af", f"volume={volume_db}dB",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", str(output),
    ]  # fmt: skip
