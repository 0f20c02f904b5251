"""Test-side facts about media files, read with ffprobe directly.

The encoder tests need ``ProbeFacts`` for their clips without depending on the intake's
probe code, and they inspect outputs (packets, headers, loudness) with real ffmpeg tools.
"""

import json
import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

from broadcasting.probe import ProbeFacts

DEMUXERS = {".mp4": "mov", ".mov": "mov", ".mkv": "matroska", ".ts": "mpegts"}


def ffprobe_json(path: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return int(-float(side["rotation"])) % 360
    return int(stream.get("tags", {}).get("rotate", 0)) % 360


def _bit_depth(pix_fmt: str) -> int:
    match = re.search(r"p(\d+)(le|be)$", pix_fmt)
    return int(match.group(1)) if match else 8


def facts_for(path: Path) -> ProbeFacts:
    """ProbeFacts of a clip, as the intake's probe would report them."""
    data = ffprobe_json(path, "-show_format", "-show_streams")
    streams = data["streams"]
    video = next(s for s in streams if s["codec_type"] == "video")
    audio = next((s for s in streams if s["codec_type"] == "audio"), {})
    avg = Fraction(video.get("avg_frame_rate", "0/1") or "0/1")
    real = Fraction(video.get("r_frame_rate", "0/1") or "0/1")
    return ProbeFacts(
        container=DEMUXERS[path.suffix],
        format_name=data["format"]["format_name"],
        duration=float(data["format"]["duration"]),
        size=int(data["format"]["size"]),
        video_codec=video["codec_name"],
        width=int(video["width"]),
        height=int(video["height"]),
        rotation=_rotation(video),
        frame_rate=float(avg),
        variable_frame_rate=avg != real,
        pix_fmt=video["pix_fmt"],
        bit_depth=_bit_depth(video["pix_fmt"]),
        color_space=video.get("color_space", ""),
        color_transfer=video.get("color_transfer", ""),
        color_primaries=video.get("color_primaries", ""),
        audio_codec=audio.get("codec_name", ""),
        audio_channels=int(audio.get("channels", 0)),
        audio_layout=audio.get("channel_layout", ""),
        audio_rate=int(audio.get("sample_rate", 0)),
        audio_streams=sum(s["codec_type"] == "audio" for s in streams),
    )
