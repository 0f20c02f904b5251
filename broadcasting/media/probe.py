"""Probing an upload with ffprobe, restricted to local files and an allow-listed demuxer.

Every command built here reads its input as ``file:<absolute path>`` with
``-protocol_whitelist file`` and a demuxer forced from ``intake.ALLOWED_DEMUXERS`` (chosen from
the magic bytes by ``intake.check_upload``): ffmpeg never guesses the format of an upload, so
it never opens an upload as a playlist or a concat script. ``source_input_args`` gives the same
input options to every other ffmpeg run on an upload.

``probe`` runs three cheap reads through ``broadcasting.media.ffmpeg.run``: the format, the streams
and the first packets (decoded, to prove the video decodes and to sample frame intervals);
then the packets of the last seconds, to prove the data reach the declared duration (a
truncated file whose index sits at the front opens fine and stops half way). ``parse_probe``
turns ffprobe's JSON into ``ProbeFacts``; ``check_limits`` enforces ``ProbeLimits``.
"""

import json
import logging
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from broadcasting.media import ffmpeg
from broadcasting.media.intake import ALLOWED_DEMUXERS, RejectionCode, UploadRejected

logger = logging.getLogger(__name__)

PROBE_RUN_LIMITS = ffmpeg.Limits(wall_seconds=60.0, cpu_seconds=60, memory_bytes=2 * 1024**3)
HEAD_PACKETS = 240  # packets read (and decoded) from the start of the file
TAIL_SECONDS = 10.0  # the completeness check reads packets from this far before the end
TAIL_TOLERANCE_S = 1.5  # or 2 % of the duration, whichever is larger
VFR_MIN_INTERVALS = 10
VFR_RATE_TOLERANCE = 0.005  # relative gap between r_frame_rate and avg_frame_rate
HARDENING = {"mov": ["-enable_drefs", "0", "-use_absolute_path", "0"]}
HDR_TRANSFERS = frozenset({"arib-std-b67", "smpte2084"})
MAX_PIXEL_ASPECT = 4  # a sample aspect ratio beyond 1:4..4:1 is taken for a broken tag
# One row of ffprobe's "displaymatrix" text: "00000001:       -65536           0           0".
_MATRIX_ROW = re.compile(r"^\s*\d+:\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ProbeFacts:
    """What we know of a source file after probing it."""

    container: str  # the demuxer used, from the allow-list (e.g. "mov", "matroska")
    format_name: str  # ffprobe's format_name
    duration: float  # seconds
    size: int  # bytes
    video_codec: str
    width: int  # coded width, before rotation
    height: int  # coded height, before rotation
    rotation: int  # degrees, clockwise display rotation: 0, 90, 180 or 270
    frame_rate: float  # average frame rate
    variable_frame_rate: bool
    pix_fmt: str
    bit_depth: int
    color_space: str  # "" when unknown
    color_transfer: str
    color_primaries: str
    audio_codec: str  # "" when there is no audio
    audio_channels: int  # 0 when there is no audio
    audio_layout: str
    audio_rate: int
    video_streams: int = 1
    audio_streams: int = 0
    subtitle_streams: int = 0
    other_streams: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    mirrored: bool = False  # the display matrix mirrors left to right, before ``rotation``
    sample_aspect_ratio: str = "1:1"  # the shape of a coded pixel, "4:3" for HDV

    @property
    def has_audio(self) -> bool:
        return self.audio_channels > 0

    @property
    def pixel_aspect(self) -> Fraction:
        width, height = self.sample_aspect_ratio.split(":")
        return Fraction(int(width), int(height))

    @property
    def is_hdr(self) -> bool:
        return self.color_transfer in HDR_TRANSFERS

    @property
    def display_width(self) -> int:
        """The width of the picture as shown: pixels made square, then turned."""
        return self.height if self.rotation in (90, 270) else self._stretched_width

    @property
    def display_height(self) -> int:
        return self._stretched_width if self.rotation in (90, 270) else self.height

    @property
    def _stretched_width(self) -> int:
        return round(self.width * self.pixel_aspect)


@dataclass(frozen=True)
class ProbeLimits:
    """What an upload may be, once probed."""

    max_duration_s: float = 7200.0
    max_width: int = 4096
    max_height: int = 4096
    max_streams: int = 16


# --- Commands (pure) --------------------------------------------------------------------


def source_input_args(path: Path, *, demuxer: str) -> list[str]:
    """The input options of any ffprobe/ffmpeg run reading an upload (ends with ``-i``)."""
    if demuxer not in ALLOWED_DEMUXERS:
        raise ValueError(f"demuxer {demuxer!r} is not in the allow-list")
    return [
        "-protocol_whitelist", "file", "-f", demuxer, *HARDENING.get(demuxer, []),
        "-i", f"file:{path.resolve()}",
    ]  # fmt: skip


def probe_command(path: Path, *, demuxer: str) -> list[str]:
    """ffprobe: format, streams, and the first packets (decoded, so frames are counted)."""
    return [
        "ffprobe", "-hide_banner", "-v", "error", *source_input_args(path, demuxer=demuxer),
        "-show_format", "-show_streams", "-show_entries", "packet=stream_index,pts_time",
        "-read_intervals", f"%+#{HEAD_PACKETS}", "-count_frames", "-of", "json",
    ]  # fmt: skip


def tail_command(path: Path, *, demuxer: str, start: float) -> list[str]:
    """ffprobe: the timestamps of every packet from ``start`` (seconds) to the end, as CSV."""
    return [
        "ffprobe", "-hide_banner", "-v", "error", *source_input_args(path, demuxer=demuxer),
        "-show_entries", "packet=pts_time,dts_time", "-read_intervals", f"{start:.3f}%",
        "-of", "csv=p=0",
    ]  # fmt: skip


# --- Running ------------------------------------------------------------------------------


def probe(path: Path, *, demuxer: str, limits: ProbeLimits) -> ProbeFacts:
    """Probe an upload and enforce ``limits``; raise ``UploadRejected`` on bad content.

    Infrastructure failures (ffprobe killed by a signal) propagate as ``FFmpegError`` so that
    the caller can retry them.
    """
    data = _probe_json(path, demuxer=demuxer)
    facts = parse_probe(data, demuxer=demuxer, size=path.stat().st_size)
    check_limits(facts, limits=limits)
    _check_decodes(data, facts)
    _check_complete(path, facts)
    logger.info(
        "probe done file=%s container=%s duration=%.2f size=%sx%s rotation=%s",
        path.name, demuxer, facts.duration, facts.width, facts.height, facts.rotation,
    )  # fmt: skip
    return facts


def _run(args: Sequence[str]) -> ffmpeg.RunResult:
    try:
        return ffmpeg.run(args, limits=PROBE_RUN_LIMITS)
    except ffmpeg.FFmpegError as err:
        if err.kind is ffmpeg.FailureKind.INFRASTRUCTURE:
            raise
        logger.info("probe failed kind=%s: %s", err.kind, err)
        raise UploadRejected(RejectionCode.UNREADABLE, detail=err.stderr_tail) from err


def _probe_json(path: Path, *, demuxer: str) -> dict[str, Any]:
    stdout = _run(probe_command(path, demuxer=demuxer)).stdout
    try:
        data = json.loads(stdout)
    except ValueError as err:
        raise UploadRejected(RejectionCode.UNREADABLE, detail="ffprobe output not JSON") from err
    if not isinstance(data, dict):
        raise UploadRejected(RejectionCode.UNREADABLE, detail="ffprobe output not an object")
    return data


def _check_decodes(data: Mapping[str, Any], facts: ProbeFacts) -> None:
    """The first packets of the video stream must decode into at least one frame."""
    index = int(facts.extra["video_index"])
    stream = next(s for s in data["streams"] if s.get("index") == index)
    if _int(stream.get("nb_read_frames")) == 0:
        raise UploadRejected(RejectionCode.UNREADABLE, detail="no video frame decoded")


def _check_complete(path: Path, facts: ProbeFacts) -> None:
    """The packets must reach the declared end of the file (truncated uploads stop short)."""
    end = float(facts.extra.get("start_time", "0")) + facts.duration
    start = max(end - TAIL_SECONDS, float(facts.extra.get("start_time", "0")), 0.0)
    stdout = _run(tail_command(path, demuxer=facts.container, start=start)).stdout
    last = last_timestamp(stdout)
    if last is None or last < end - max(TAIL_TOLERANCE_S, 0.02 * facts.duration):
        raise UploadRejected(
            RejectionCode.UNREADABLE, detail=f"data stop at {last} s of {end:.3f} s"
        )


def last_timestamp(csv_text: str) -> float | None:
    """The largest timestamp in ``pts_time,dts_time`` CSV lines (``None`` when none)."""
    values = [_float(cell) for line in csv_text.splitlines() for cell in line.split(",")]
    finite = [value for value in values if value is not None]
    return max(finite, default=None)


# --- Facts (pure) -------------------------------------------------------------------------


def check_limits(facts: ProbeFacts, *, limits: ProbeLimits) -> None:
    """Raise ``UploadRejected`` when the probed file exceeds ``limits``."""
    if facts.duration > limits.max_duration_s:
        raise UploadRejected(RejectionCode.TOO_LONG, detail=f"{facts.duration:.1f} s")
    if facts.display_width > limits.max_width or facts.display_height > limits.max_height:
        detail = f"{facts.display_width}x{facts.display_height}"
        raise UploadRejected(RejectionCode.TOO_BIG_FRAME, detail=detail)
    streams = facts.video_streams + facts.audio_streams
    if streams + facts.subtitle_streams + facts.other_streams > limits.max_streams:
        raise UploadRejected(RejectionCode.TOO_MANY_STREAMS)


def parse_probe(data: Mapping[str, Any], *, demuxer: str, size: int) -> ProbeFacts:
    """Turn ffprobe's JSON (``-show_format -show_streams``, packets optional) into facts.

    Raises ``UploadRejected`` with "no_video" when no video stream is found and "unreadable"
    when the data lack what we need (dimensions, a positive duration) or are malformed.
    """
    try:
        return _parse(data, demuxer=demuxer, size=size)
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as err:
        detail = f"unexpected ffprobe data: {err!r}"
        raise UploadRejected(RejectionCode.UNREADABLE, detail=detail) from err


def _parse(data: Mapping[str, Any], *, demuxer: str, size: int) -> ProbeFacts:
    streams: list[dict[str, Any]] = list(data.get("streams") or [])
    fmt: dict[str, Any] = dict(data.get("format") or {})
    video = _main_video(streams)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), {})
    counts = _stream_counts(streams)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise UploadRejected(RejectionCode.UNREADABLE, detail=f"frame size {width}x{height}")
    rotation, mirrored = orientation_of(video)
    return ProbeFacts(
        container=demuxer,
        format_name=str(fmt.get("format_name", "")),
        duration=_duration(fmt, video, streams),
        size=size,
        video_codec=str(video.get("codec_name", "")),
        width=width,
        height=height,
        rotation=rotation,
        frame_rate=frame_rate_of(video),
        variable_frame_rate=is_variable_frame_rate(video, _packet_times(data, video["index"])),
        pix_fmt=str(video.get("pix_fmt", "")),
        bit_depth=bit_depth_of(video),
        color_space=_tag(video.get("color_space")),
        color_transfer=_tag(video.get("color_transfer")),
        color_primaries=_tag(video.get("color_primaries")),
        audio_codec=str(audio.get("codec_name", "")),
        audio_channels=_int(audio.get("channels")) or 0,
        audio_layout=str(audio.get("channel_layout", "")),
        audio_rate=_int(audio.get("sample_rate")) or 0,
        video_streams=counts["video"],
        audio_streams=counts["audio"],
        subtitle_streams=counts["subtitle"],
        other_streams=counts["other"],
        extra=_extra(fmt, video, audio),
        mirrored=mirrored,
        sample_aspect_ratio=sample_aspect_of(video),
    )


def _main_video(streams: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The first video stream that is not a cover picture."""
    for stream in streams:
        if stream.get("codec_type") == "video" and not _is_attached_picture(stream):
            return stream
    raise UploadRejected(RejectionCode.NO_VIDEO)


def _is_attached_picture(stream: Mapping[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def _stream_counts(streams: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {"video": 0, "audio": 0, "subtitle": 0, "other": 0}
    for stream in streams:
        kind = stream.get("codec_type")
        if kind == "video" and _is_attached_picture(stream):
            kind = "other"
        counts[kind if kind in counts else "other"] += 1
    return counts


def _duration(
    fmt: Mapping[str, Any], video: Mapping[str, Any], streams: Sequence[Mapping[str, Any]]
) -> float:
    """The container's duration, else the video stream's, else the longest stream's."""
    candidates = [fmt.get("duration"), video.get("duration")]
    candidates += sorted((_float(s.get("duration")) or 0.0 for s in streams), reverse=True)
    for candidate in candidates:
        value = _float(candidate)
        if value is not None and value > 0:
            return value
    raise UploadRejected(RejectionCode.UNREADABLE, detail="no positive duration")


def _extra(
    fmt: Mapping[str, Any], video: Mapping[str, Any], audio: Mapping[str, Any]
) -> dict[str, str]:
    extra = {"video_index": str(int(video["index"])), "start_time": "0"}
    if (start := _float(fmt.get("start_time"))) is not None:
        extra["start_time"] = f"{start:.6f}"
    if audio:
        extra["audio_index"] = str(int(audio["index"]))
    return extra


def orientation_of(stream: Mapping[str, Any]) -> tuple[int, bool]:
    """How a video stream is shown: (clockwise rotation 0/90/180/270, mirrored first).

    The display matrix is read from ffprobe's ``displaymatrix`` text: a matrix that reverses
    the picture (negative determinant) is a left-right mirror followed by a turn; front cameras
    write those. ffprobe's own ``rotation`` is counter-clockwise (``av_display_rotation_get``:
    an iPhone portrait clip shows ``rotation: -90`` and is turned 90° clockwise) and calls a
    mirror a turn of 180°, so it is only a fallback, as is the legacy ``rotate`` tag of older
    ffmpeg versions (already clockwise). ffmpeg's autorotate shows the same eight orientations.
    """
    for side_data in stream.get("side_data_list") or []:
        if side_data.get("side_data_type") != "Display Matrix":
            continue
        if matrix := _display_matrix(side_data.get("displaymatrix")):
            return _orientation(*matrix)
        if "rotation" in side_data:
            return _quarter_turns(-float(side_data["rotation"])), False
    tag = (stream.get("tags") or {}).get("rotate")
    return (_quarter_turns(float(tag)) if tag else 0), False


def _display_matrix(text: object) -> tuple[int, int, int, int] | None:
    """The linear part (a, b, c, d) of the matrix: (x, y) is shown at (ax + cy, bx + dy)."""
    rows = _MATRIX_ROW.findall(str(text or ""))
    if len(rows) != 3:
        return None
    (a, b, _), (c, d, _), _ = rows
    return int(a), int(b), int(c), int(d)


def _orientation(a: int, b: int, c: int, d: int) -> tuple[int, bool]:
    mirrored = a * d - b * c < 0
    if mirrored:  # undo the mirror (x -> -x), what remains is a turn
        a, b = -a, -b
    return _quarter_turns(math.degrees(math.atan2(b, a))), mirrored


def _quarter_turns(degrees: float) -> int:
    if not math.isfinite(degrees):
        return 0
    return round(degrees / 90.0) % 4 * 90


def sample_aspect_of(stream: Mapping[str, Any]) -> str:
    """The coded pixels' shape as "w:h" in lowest terms; "1:1" when unknown or implausible."""
    width, _, height = str(stream.get("sample_aspect_ratio") or "").partition(":")
    try:
        aspect = Fraction(int(width), int(height))
    except (ValueError, ZeroDivisionError):
        return "1:1"
    if not Fraction(1, MAX_PIXEL_ASPECT) <= aspect <= MAX_PIXEL_ASPECT:
        return "1:1"
    return f"{aspect.numerator}:{aspect.denominator}"


def frame_rate_of(stream: Mapping[str, Any]) -> float:
    """The average frame rate, else the real base frame rate, else 0.0."""
    return _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))


def is_variable_frame_rate(stream: Mapping[str, Any], times: Sequence[float]) -> bool:
    """Frame intervals that vary in the sampled packets, or rates that disagree."""
    if len(times) > VFR_MIN_INTERVALS and _intervals_vary(sorted(times)):
        return True
    average, base = _rate(stream.get("avg_frame_rate")), _rate(stream.get("r_frame_rate"))
    if not average or not base or math.isclose(base / average, 2.0, rel_tol=0.01):
        return False  # unknown, or an interlaced stream's field rate
    return abs(base - average) / average > VFR_RATE_TOLERANCE


def _intervals_vary(times: Sequence[float]) -> bool:
    """More than 5 % of the intervals depart from the median by over 10 % (or 1.5 ms)."""
    intervals = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    if len(intervals) < VFR_MIN_INTERVALS:
        return False
    median = statistics.median(intervals)
    tolerance = max(0.0015, 0.1 * median)
    departing = sum(abs(interval - median) > tolerance for interval in intervals)
    return departing > max(1, 0.05 * len(intervals))


def _packet_times(data: Mapping[str, Any], index: int) -> list[float]:
    packets = data.get("packets") or []
    times = (_float(p.get("pts_time")) for p in packets if p.get("stream_index") == index)
    return [time for time in times if time is not None]


def bit_depth_of(stream: Mapping[str, Any]) -> int:
    """Bits per sample from ``bits_per_raw_sample``, else from the pixel format's name."""
    if raw := _int(stream.get("bits_per_raw_sample")):
        return raw
    match = re.search(r"(\d+)(?:le|be)$", str(stream.get("pix_fmt", "")))
    return min(int(match.group(1)), 16) if match else 8


# --- Values -------------------------------------------------------------------------------


def _tag(value: object) -> str:
    text = str(value or "")
    return "" if text in {"unknown", "unspecified", "reserved", "N/A"} else text


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(value: object) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _rate(value: object) -> float:
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(rate) if rate > 0 else 0.0
