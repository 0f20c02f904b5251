"""The one ffmpeg command that encodes an asset into every rung of the channel format.

A pure builder: from the probe facts, the measured loudness and the format it returns the
argument list of ONE ffmpeg process that decodes the source once and writes:

- every rung as HLS (MPEG-TS segments of exactly ``spec.segment_ms``, two closed GOPs each),
  with identical x264 settings and forced BT.709 tags so that one rung's SPS/PPS are the same
  for every asset;
- a poster JPEG.

The picture is brought to 25 fps CFR, tone-mapped to 8-bit BT.709 when it is HDR, fitted into
16:9 without stretching (pillarbox or letterbox over a blurred, darkened copy of itself) and
padded with black to a whole number of segments. The audio is folded to stereo, normalised,
padded with silence to the same length, and its first AAC frame's worth of samples is dropped:
the encoder's priming frame takes its place, so audio and video both end on the grid.
"""

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from broadcasting.media.formats import AAC_FRAME_SAMPLES, FormatSpec, Rung
from broadcasting.media.loudness import Loudness, audio_preparation, loudnorm_filter
from broadcasting.media.probe import ProbeFacts, source_input_args

WIDESCREEN = Fraction(16, 9)
ASPECT_TOLERANCE = 0.01  # relative: 854x480 is 16:9, 720x576 is not
POSTER_SIZE = (1280, 720)
POSTER_MAX_SECONDS = 3.0
BACKDROP_SIZE = (192, 108)  # the blurred backdrop is computed this small, then scaled up
SEGMENT_PATTERN = "seg_%05d.ts"
PLAYLIST_NAME = "index.m3u8"

# ffprobe's colour-space names -> the names swscale's ``in_color_matrix`` knows.
_MATRICES = {
    "bt709": "bt709",
    "smpte170m": "smpte170m",
    "bt470bg": "bt470",
    "smpte240m": "smpte240m",
    "fcc": "fcc",
    "bt2020nc": "bt2020",
    "bt2020c": "bt2020",
}


@dataclass(frozen=True)
class Padding:
    """The exact length of every output: whole segments of video frames and audio samples."""

    segments: int
    frames: int  # video frames in all
    samples: int  # audio samples on the timeline (the encoder's priming frame included)

    @property
    def encoded_samples(self) -> int:
        """Samples fed to the AAC encoder: the priming frame adds the missing ones back."""
        return self.samples - AAC_FRAME_SAMPLES


def padding_for(duration: float, spec: FormatSpec) -> Padding:
    segments = spec.segments_for(duration)
    return Padding(
        segments=segments,
        frames=segments * spec.frames_per_segment,
        samples=segments * spec.samples_per_segment,
    )


def _even(value: Fraction) -> int:
    return max(2, round(value / 2) * 2)


def display_aspect(facts: ProbeFacts) -> Fraction:
    return Fraction(facts.display_width, facts.display_height)


def is_widescreen(facts: ProbeFacts) -> bool:
    return abs(display_aspect(facts) / WIDESCREEN - 1) <= ASPECT_TOLERANCE


def fitted_size(facts: ProbeFacts, canvas: tuple[int, int]) -> tuple[int, int]:
    """The largest size with the source's display aspect that fits the canvas."""
    width, height = canvas
    aspect = display_aspect(facts)
    if aspect < Fraction(width, height):
        return _even(height * aspect), height
    return width, _even(width / aspect)


def source_matrix(facts: ProbeFacts) -> str:
    """The source's YCbCr matrix; untagged sources get what players assume (HD: BT.709)."""
    known = _MATRICES.get(facts.color_space)
    if known:
        return known
    return "bt709" if facts.display_height >= 720 else "smpte170m"


def poster_frame(facts: ProbeFacts, spec: FormatSpec) -> int:
    """The frame shown as poster: about a third in, never later than 3 s."""
    seconds = min(facts.duration / 3, POSTER_MAX_SECONDS)
    return int(seconds * spec.fps)


BT709_TAGS = "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
TONE_MAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p," + BT709_TAGS
)


def _scale(width: int, height: int, matrix: str, extra: str = "") -> str:
    return (
        f"scale={width}:{height}{extra}:in_color_matrix={matrix}:out_color_matrix=bt709"
        ":out_range=tv"
    )


def _timing(facts: ProbeFacts, padding: Padding, spec: FormatSpec) -> str:
    """Any frame rate (VFR too) to CFR from t=0; HDR to SDR; black padding to the grid."""
    steps = [f"fps={spec.fps}:start_time=0"]
    if facts.is_hdr:
        steps.append(TONE_MAP)
    steps += ["tpad=stop=-1:color=black", f"trim=end_frame={padding.frames}"]
    return ",".join(steps)


def _canvas(rungs: tuple[Rung, ...]) -> tuple[int, int]:
    top = max(rungs, key=lambda rung: rung.width * rung.height)
    return top.width, top.height


def _fit_over_backdrop(facts: ProbeFacts, matrix: str, canvas: tuple[int, int]) -> list[str]:
    """Chains composing a non-16:9 picture over a blurred, darkened copy of itself."""
    width, height = canvas
    fg_width, fg_height = fitted_size(facts, canvas)
    small_w, small_h = BACKDROP_SIZE
    return [
        "[picture]split=2[fg][bg]",
        f"[bg]{_scale(small_w, small_h, matrix, ':force_original_aspect_ratio=increase')},"
        f"crop={small_w}:{small_h},boxblur=luma_radius=6:luma_power=2,"
        "lutyuv=y=16+(val-16)*0.5:u=128+(val-128)*0.7:v=128+(val-128)*0.7,"
        f"scale={width}:{height}:flags=bilinear[backdrop]",
        f"[fg]{_scale(fg_width, fg_height, matrix)}[front]",
        f"[backdrop][front]overlay=x=(W-w)/2:y=(H-h)/2:format=yuv420,{BT709_TAGS}[canvas]",
    ]


def video_graph(facts: ProbeFacts, padding: Padding, spec: FormatSpec) -> list[str]:
    """Filter chains from ``[0:v:0]`` to one ``[v_<rung>]`` per rung plus ``[poster]``."""
    matrix = "bt709" if facts.is_hdr else source_matrix(facts)
    chains = [f"[{video_input(facts)}]{_timing(facts, padding, spec)}[picture]"]
    source = "picture"
    if not is_widescreen(facts):
        chains += _fit_over_backdrop(facts, matrix, _canvas(spec.rungs))
        source, matrix = "canvas", "bt709"
    labels = "".join(f"[{source}_{rung.name}]" for rung in spec.rungs)
    chains.append(f"[{source}]split={len(spec.rungs) + 1}{labels}[{source}_poster]")
    for rung in spec.rungs:
        chains.append(
            f"[{source}_{rung.name}]{_scale(rung.width, rung.height, matrix)},setsar=1,"
            f"format=yuv420p,{BT709_TAGS}[v_{rung.name}]"
        )
    frame = poster_frame(facts, spec)
    poster_w, poster_h = POSTER_SIZE
    chains.append(
        f"[{source}_poster]trim=start_frame={frame}:end_frame={frame + 1},"
        f"scale={poster_w}:{poster_h}:in_color_matrix={matrix}:out_color_matrix=bt601"
        ":out_range=pc,setsar=1,format=yuvj420p[poster]"
    )
    return chains


def audio_graph(
    facts: ProbeFacts, loudness: Loudness | None, padding: Padding, spec: FormatSpec
) -> list[str]:
    """Filter chains to one ``[a_<rung>]`` per rung: stereo, normalised, padded, primed."""
    grid = f"atrim=start_sample={AAC_FRAME_SAMPLES}:end_sample={padding.samples}"
    if facts.has_audio:
        head = (
            f"[0:a:0]{audio_preparation(spec)},{loudnorm_filter(loudness, spec)},"
            f"apad=whole_len={padding.samples}"
        )
    else:
        layout = "stereo" if spec.audio_channels == 2 else "mono"
        head = f"anullsrc=r={spec.audio_rate}:cl={layout}"
    labels = "".join(f"[a_{rung.name}]" for rung in spec.rungs)
    return [f"{head},{grid},asplit={len(spec.rungs)}{labels}"]


def x264_params(spec: FormatSpec) -> str:
    gop = spec.frames_per_gop
    return f"stitchable=1:keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:bframes=0"


def rung_output(rung: Rung, *, spec: FormatSpec, out_dir: Path, threads: int) -> list[str]:
    """Encoder and HLS muxer options of one rung, writing ``<rung>/index.m3u8``."""
    folder = out_dir / rung.name
    return [
        "-map", f"[v_{rung.name}]", "-map", f"[a_{rung.name}]",
        "-c:v", "libx264", "-preset", spec.preset_for(rung), "-threads:v", str(threads),
        "-profile:v", rung.profile, "-level:v", rung.level,
        "-b:v", str(rung.video_bitrate), "-maxrate:v", str(rung.maxrate),
        "-bufsize:v", str(rung.bufsize), "-x264-params", x264_params(spec),
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-color_range", "tv",
        "-c:a", "aac", "-profile:a", "aac_low", "-b:a", str(spec.audio_bitrate),
        "-ar", str(spec.audio_rate), "-ac", str(spec.audio_channels),
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "hls", "-hls_time", f"{spec.segment_ms / 1000:g}", "-hls_playlist_type", "vod",
        "-hls_list_size", "0", "-hls_segment_type", "mpegts",
        "-hls_flags", "independent_segments",
        "-hls_segment_filename", str(folder / SEGMENT_PATTERN), str(folder / PLAYLIST_NAME),
    ]  # fmt: skip


def poster_output(poster: Path) -> list[str]:
    return [
        "-map", "[poster]", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "image2", "-update", "1", str(poster),
    ]  # fmt: skip


def threads_per_rung(rung: Rung) -> int:
    """x264 frame threads: enough for the encoders to overlap on 2 cores, no more."""
    return 2 if rung.height >= 720 else 1


def video_input(facts: ProbeFacts) -> str:
    """The source's main video stream (cover pictures are skipped by the probe)."""
    index = facts.extra.get("video_index")
    return f"0:{index}" if index not in (None, "") else "0:v:0"


def input_arguments(source: Path, demuxer: str) -> list[str]:
    """Input hardening: local files only, and the allow-listed demuxer, never a probed one."""
    return source_input_args(source, demuxer=demuxer)


def ladder_command(
    *,
    source: Path,
    demuxer: str,
    facts: ProbeFacts,
    loudness: Loudness | None,
    spec: FormatSpec,
    out_dir: Path,
    poster: Path,
) -> list[str]:
    """ONE ffmpeg process: decode once, write every rung as HLS plus the poster."""
    padding = padding_for(facts.duration, spec)
    graph = video_graph(facts, padding, spec) + audio_graph(facts, loudness, padding, spec)
    outputs = [
        arg
        for rung in spec.rungs
        for arg in rung_output(rung, spec=spec, out_dir=out_dir, threads=threads_per_rung(rung))
    ]
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "warning",
        "-progress", "pipe:1", "-nostats",
        *input_arguments(source, demuxer),
        "-filter_complex", ";".join(graph),
        *outputs,
        *poster_output(poster),
    ]  # fmt: skip


def progress_fraction(block: dict[str, str], *, total_seconds: float) -> float:
    """How far an encode is (0..1), from one ``-progress`` block."""
    if block.get("progress") == "end":
        return 1.0
    raw = block.get("out_time_us") or block.get("out_time_ms") or ""
    try:
        microseconds = int(raw)
    except ValueError:
        return 0.0
    if total_seconds <= 0:
        return 0.0
    return min(1.0, max(0.0, microseconds / 1_000_000 / total_seconds))
