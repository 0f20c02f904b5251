"""Test-side facts about media files, read with ffprobe directly.

The encoder tests need ``ProbeFacts`` for their clips without depending on the intake's
probe code, and they inspect outputs (packets, headers, loudness) with real ffmpeg tools.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from broadcasting.media.probe import ProbeFacts

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
    audio: dict[str, Any] = next((s for s in streams if s["codec_type"] == "audio"), {})
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


@dataclass(frozen=True)
class SegmentFacts:
    """What one MPEG-TS segment holds, from its packets (times in 90 kHz ticks)."""

    video_frames: int
    starts_with_keyframe: bool
    video_start: int
    video_span: int  # from the first frame's PTS to the end of the last frame
    audio_frames: int
    audio_start: int
    audio_span: int


def _span(packets: list[dict[str, Any]]) -> int:
    starts = [int(p["pts"]) for p in packets]
    last = max(packets, key=lambda p: int(p["pts"]))
    return int(last["pts"]) + int(last["duration"]) - min(starts)


def segment_facts(segment: Path) -> SegmentFacts:
    packets = ffprobe_json(
        segment, "-show_entries", "packet=codec_type,stream_index,pts,duration,flags"
    )["packets"]
    streams = {
        s["index"]: s["codec_type"] for s in ffprobe_json(segment, "-show_streams")["streams"]
    }
    video = [p for p in packets if streams[p["stream_index"]] == "video"]
    audio = [p for p in packets if streams[p["stream_index"]] == "audio"]
    return SegmentFacts(
        video_frames=len(video),
        starts_with_keyframe=video[0]["flags"].startswith("K"),
        video_start=min(int(p["pts"]) for p in video),
        video_span=_span(video),
        audio_frames=len(audio),
        audio_start=min(int(p["pts"]) for p in audio),
        audio_span=_span(audio),
    )


def nal_units(annexb: bytes) -> list[bytes]:
    """Split an H.264 Annex-B byte stream into NAL units (start codes removed)."""
    starts = [m.end() for m in re.finditer(b"\x00\x00\x01", annexb)]
    ends = [m.start() for m in re.finditer(b"\x00\x00\x01", annexb)][1:] + [len(annexb)]
    return [annexb[start:end].rstrip(b"\x00") for start, end in zip(starts, ends, strict=True)]


def parameter_sets(segment: Path) -> tuple[bytes, bytes]:
    """The first SPS (NAL type 7) and PPS (type 8) of a segment's H.264 stream."""
    annexb = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(segment), "-map", "0:v:0", "-c:v", "copy",
         "-frames:v", "1", "-f", "h264", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    units = nal_units(annexb)
    sps = next(unit for unit in units if unit[0] & 0x1F == 7)
    pps = next(unit for unit in units if unit[0] & 0x1F == 8)
    return sps, pps


def integrated_loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's audio, by ebur128."""
    stderr = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stderr  # fmt: skip
    summary = stderr[stderr.rindex("Summary:") :]
    lufs = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))  # type: ignore[union-attr]
    return lufs, peak
