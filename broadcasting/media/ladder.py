"""The one ffmpeg command that encodes an asset into every rung of the channel format.

A pure builder: from the probe facts, the measured loudness and the format it returns the
argument list of ONE ffmpeg process that decodes the source once and writes:

- every rung as HLS (MPEG-TS segments of exactly ``spec.segment_ms``, two closed GOPs each),
  with identical x264 settings and forced BT.709 tags so that one rung's SPS/PPS are the same
  for every asset;
- a poster JPEG.

The picture is brought to 25 fps CFR, tone-mapped to 8-bit BT.709 when it is HDR, converted
to BT.709's matrix and primaries when it is BT.601 (``colour_conversion``), shown as its display
matrix says (ffmpeg's autorotate: turns and mirrors), fitted into 16:9 by its displayed shape
(anamorphic pixels made square) without stretching (pillarbox or letterbox over a blurred,
darkened copy of itself), faded out over its last half second and padded with black to a whole
number of segments. The audio is folded to stereo, normalised, faded out with the picture,
padded with silence to the same length, and its first AAC frame's worth of samples is dropped:
the encoder's priming frame takes its place, so audio and video both end on the grid.

The graph and the outputs are built with ffmpeg-python and compiled with ``get_args()``; the
global options are written before them by hand (ffmpeg-python would append them after the last
output). ffmpeg-python names the links (``[s0]``, ``[s1]``...), writes one filter per chain and
sorts keyword options: none of this changes the graph ffmpeg builds.
"""

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg as ffmpeg_python  # the ffmpeg-python package, not broadcasting.media.ffmpeg

from broadcasting.media.formats import AAC_FRAME_SAMPLES, FormatSpec, Rung
from broadcasting.media.loudness import (
    FilterStream,
    Loudness,
    OutputStream,
    channel_layout,
    input_stream,
    normalise,
    prepare_audio,
)
from broadcasting.media.probe import ProbeFacts, source_input_args

WIDESCREEN = Fraction(16, 9)
ASPECT_TOLERANCE = 0.01  # relative: 854x480 is 16:9, 720x576 is not
POSTER_SIZE = (1280, 720)
POSTER_MAX_SECONDS = 3.0
BACKDROP_SIZE = (192, 108)  # the blurred backdrop is computed this small, then scaled up
SEGMENT_PATTERN = "seg_%05d.ts"
PLAYLIST_NAME = "index.m3u8"
ENCODE_OPTIONS = (
    "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "warning",
    "-progress", "pipe:1", "-nostats",
)  # fmt: skip
BT709 = {"color_primaries": "bt709", "color_trc": "bt709", "colorspace": "bt709"}
DARKEN = {"y": "16+(val-16)*0.5", "u": "128+(val-128)*0.7", "v": "128+(val-128)*0.7"}
NO_METADATA = {"map_metadata": -1, "map_chapters": -1}
FADE_OUT_SECONDS = 0.5  # the end of every item fades to black and silence before its padding
FADE_OUT_SHARE = 0.05  # at most this part of an item, so its loudness drops by 0.15 LU at most

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


# BT.601's primaries, by the matrix tag that goes with them: 525 lines (NTSC), 625 (PAL).
BT601_PRIMARIES = {"smpte170m": "smpte170m", "bt470bg": "bt470bg"}
# The matrices the ``colorspace`` filter converts from (ffprobe's names are its names).
_CONVERTIBLE_SPACES = frozenset({"bt709", "smpte170m", "bt470bg", "fcc", "smpte240m"})


def source_space(facts: ProbeFacts) -> str:
    """The source's YCbCr matrix (ffprobe's name); untagged sources get what players assume
    (HD: BT.709, SD: BT.601)."""
    if facts.color_space in _MATRICES:
        return facts.color_space
    return "bt709" if facts.display_height >= 720 else "smpte170m"


def source_matrix(facts: ProbeFacts) -> str:
    """The source's YCbCr matrix as swscale's ``in_color_matrix`` names it."""
    return _MATRICES[source_space(facts)]


@dataclass(frozen=True)
class ColourConversion:
    """A BT.601 source's matrix and primaries, as the ``colorspace`` filter names them."""

    space: str
    primaries: str


def colour_conversion(facts: ProbeFacts) -> ColourConversion | None:
    """The conversion to BT.709 of an SDR source whose primaries are BT.601's, else None.

    The primaries are the tag's, or those of a BT.601 matrix tag when only the matrix is
    tagged. An untagged source keeps its colours: players take its primaries for BT.709's (its
    matrix is still converted in the scaling, by ``source_matrix``).
    """
    primaries = BT601_PRIMARIES.get(facts.color_primaries) or (
        "" if facts.color_primaries else BT601_PRIMARIES.get(facts.color_space, "")
    )
    space = source_space(facts)
    if facts.is_hdr or not primaries or space not in _CONVERTIBLE_SPACES:
        return None
    return ColourConversion(space=space, primaries=primaries)


def working_matrix(facts: ProbeFacts) -> str:
    """The picture's matrix once converted to BT.709 colours (HDR and BT.601) or as it came."""
    converted = facts.is_hdr or colour_conversion(facts) is not None
    return "bt709" if converted else source_matrix(facts)


def covering_size(facts: ProbeFacts, box: tuple[int, int]) -> tuple[int, int]:
    """The smallest size with the source's display aspect that covers the box."""
    width, height = box
    aspect = display_aspect(facts)
    if aspect < Fraction(width, height):
        return width, math.ceil(width / aspect)
    return math.ceil(height * aspect), height


@dataclass(frozen=True)
class FadeOut:
    """The end of the content, faded out before the padding: the picture over its last
    ``frames`` frames from ``first_frame`` at full light (its very last frame black), the sound
    over its last ``seconds`` from ``start``."""

    first_frame: int
    frames: int
    start: float
    seconds: float


def fade_out(facts: ProbeFacts, spec: FormatSpec) -> FadeOut:
    """Half a second; a twentieth of an item shorter than 10 s. The fade is after the
    loudness normalisation: over a share f of an item it removes 2f/3 of its energy, so the
    delivered loudness is at most 0.15 LU under the target (measured: 0.19 LU on a 1-s item).

    The picture's fade is counted in frames: ``fade``'s time mode snaps its start to a frame
    and would leave the last real frame short of black.
    """
    seconds = min(FADE_OUT_SECONDS, facts.duration * FADE_OUT_SHARE)
    frames = max(1, round(seconds * spec.fps))
    last_frame = max(1, round(facts.duration * spec.fps)) - 1
    return FadeOut(
        first_frame=max(0, last_frame - frames), frames=frames,
        start=round(facts.duration - seconds, 3), seconds=round(seconds, 3),
    )  # fmt: skip


def poster_frame(facts: ProbeFacts, spec: FormatSpec) -> int:
    """The frame shown as poster: about a third in, never later than 3 s."""
    seconds = min(facts.duration / 3, POSTER_MAX_SECONDS)
    return int(seconds * spec.fps)


def _bt709_tags(picture: FilterStream) -> FilterStream:
    return picture.filter("setparams", range="tv", **BT709)


def _tone_map(picture: FilterStream) -> FilterStream:
    """HDR (HLG/PQ) to 8-bit BT.709: to linear light, Hable curve, back to BT.709."""
    linear = picture.filter("zscale", t="linear", npl=100).filter("format", "gbrpf32le")
    mapped = linear.filter("zscale", p="bt709").filter("tonemap", tonemap="hable", desat=0)
    sdr = mapped.filter("zscale", t="bt709", m="bt709", r="tv").filter("format", "yuv420p")
    return _bt709_tags(sdr)


def _scale(
    picture: FilterStream, size: tuple[int, int], matrix: str, **options: object
) -> FilterStream:
    width, height = size
    return picture.filter(
        "scale", width, height, in_color_matrix=matrix, out_color_matrix="bt709",
        out_range="tv", **options,
    )  # fmt: skip


def _to_bt709(picture: FilterStream, conversion: ColourConversion) -> FilterStream:
    """BT.601 matrix and primaries to BT.709's, through linear light, once at the source.

    Both standards share one transfer curve; a BT.470 "gamma 2.8" tag is taken for it too
    (PAL cameras used BT.601's curve). Out-of-gamut values stay in the YCbCr headroom, so
    a display clips them as it would have clipped the source's.
    """
    return picture.filter(
        "colorspace", ispace=conversion.space, iprimaries=conversion.primaries, itrc="bt709",
        space="bt709", primaries="bt709", trc="bt709", range="tv", format="yuv420p",
    )  # fmt: skip


def _timing(
    video: FilterStream, facts: ProbeFacts, padding: Padding, spec: FormatSpec
) -> FilterStream:
    """Any frame rate (VFR too) to CFR from t=0; HDR to SDR and BT.601 to BT.709 colours; a
    fade to black at the end of the content, then black padding to the grid."""
    picture = video.filter("fps", spec.fps, start_time=0)
    conversion = colour_conversion(facts)
    if facts.is_hdr:
        picture = _tone_map(picture)
    elif conversion is not None:
        picture = _to_bt709(picture, conversion)
    fade = fade_out(facts, spec)
    faded = picture.filter("fade", type="out", start_frame=fade.first_frame, nb_frames=fade.frames)
    padded = faded.filter("tpad", stop=-1, color="black")
    return padded.filter("trim", end_frame=padding.frames)


def _canvas(rungs: tuple[Rung, ...]) -> tuple[int, int]:
    top = max(rungs, key=lambda rung: rung.width * rung.height)
    return top.width, top.height


def _backdrop(
    picture: FilterStream, facts: ProbeFacts, matrix: str, canvas: tuple[int, int]
) -> FilterStream:
    """The picture made small, cropped to 16:9, blurred, darkened, then scaled to the canvas.

    The small size keeps the displayed shape (``scale``'s own ``force_original_aspect_ratio``
    would keep the coded one, wrong for anamorphic pixels).
    """
    small = _scale(picture, covering_size(facts, BACKDROP_SIZE), matrix)
    cropped = small.filter("crop", *BACKDROP_SIZE)
    blurred = cropped.filter("boxblur", luma_radius=6, luma_power=2).filter("lutyuv", **DARKEN)
    return blurred.filter("scale", *canvas, flags="bilinear")


def _fit_over_backdrop(
    picture: FilterStream, facts: ProbeFacts, matrix: str, canvas: tuple[int, int]
) -> FilterStream:
    """A non-16:9 picture composed over a blurred, darkened copy of itself."""
    copies = picture.filter_multi_output("split")
    front = _scale(copies.stream(0), fitted_size(facts, canvas), matrix)
    backdrop = _backdrop(copies.stream(1), facts, matrix, canvas)
    composed = ffmpeg_python.filter(
        [backdrop, front], "overlay", x="(W-w)/2", y="(H-h)/2", format="yuv420"
    )
    return _bt709_tags(composed)


def _rung_picture(picture: FilterStream, rung: Rung, matrix: str) -> FilterStream:
    scaled = _scale(picture, (rung.width, rung.height), matrix).filter("setsar", 1)
    return _bt709_tags(scaled.filter("format", "yuv420p"))


def _poster_picture(picture: FilterStream, frame: int, matrix: str) -> FilterStream:
    still = picture.filter("trim", start_frame=frame, end_frame=frame + 1)
    scaled = still.filter(
        "scale", *POSTER_SIZE, in_color_matrix=matrix, out_color_matrix="bt601", out_range="pc"
    )
    return scaled.filter("setsar", 1).filter("format", "yuvj420p")


@dataclass(frozen=True)
class Pictures:
    """The video graph's ends: one picture per rung (by name) and the poster's."""

    rungs: dict[str, FilterStream]
    poster: FilterStream


def video_graph(
    source: FilterStream, facts: ProbeFacts, padding: Padding, spec: FormatSpec
) -> Pictures:
    """From the source's video stream, decoded once, to every rung's picture and the poster."""
    matrix = working_matrix(facts)
    picture = _timing(source[video_selector(facts)], facts, padding, spec)
    if not is_widescreen(facts):
        picture = _fit_over_backdrop(picture, facts, matrix, _canvas(spec.rungs))
        matrix = "bt709"
    copies = picture.filter_multi_output("split")
    rungs = {
        rung.name: _rung_picture(copies.stream(index), rung, matrix)
        for index, rung in enumerate(spec.rungs)
    }
    poster = _poster_picture(copies.stream(len(spec.rungs)), poster_frame(facts, spec), matrix)
    return Pictures(rungs, poster)


def silence(spec: FormatSpec) -> FilterStream:
    """Silence, read from a ``lavfi`` input.

    ffmpeg-python cannot place a source filter such as ``anullsrc`` inside the graph (a filter
    node needs an input there); as an input of its own it gives the same samples.
    """
    graph = f"anullsrc=r={spec.audio_rate}:cl={channel_layout(spec)}"
    return ffmpeg_python.input(graph, f="lavfi")["a:0"]


def _programme_audio(
    source: FilterStream, facts: ProbeFacts, loudness: Loudness | None, padding: Padding,
    spec: FormatSpec,
) -> FilterStream:  # fmt: skip
    """The item's sound at the channel's rate and layout, normalised, padded to the grid."""
    if not facts.has_audio:
        return silence(spec)
    audio = normalise(prepare_audio(source["a:0"], spec), loudness, spec)
    fade = fade_out(facts, spec)
    faded = audio.filter("afade", type="out", start_time=fade.start, duration=fade.seconds)
    return faded.filter("apad", whole_len=padding.samples)


def audio_graph(
    source: FilterStream, facts: ProbeFacts, loudness: Loudness | None, padding: Padding,
    spec: FormatSpec,
) -> dict[str, FilterStream]:  # fmt: skip
    """One audio stream per rung (by name): stereo, normalised, padded, primed."""
    audio = _programme_audio(source, facts, loudness, padding, spec)
    grid = audio.filter("atrim", start_sample=AAC_FRAME_SAMPLES, end_sample=padding.samples)
    copies = grid.filter_multi_output("asplit")
    return {rung.name: copies.stream(index) for index, rung in enumerate(spec.rungs)}


def x264_params(spec: FormatSpec) -> str:
    gop = spec.frames_per_gop
    return f"stitchable=1:keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:bframes=0"


def _video_options(rung: Rung, spec: FormatSpec, threads: int) -> dict[str, object]:
    return {
        "c:v": "libx264", "preset": spec.preset_for(rung), "threads:v": threads,
        "profile:v": rung.profile, "level:v": rung.level,
        "b:v": rung.video_bitrate, "maxrate:v": rung.maxrate, "bufsize:v": rung.bufsize,
        "x264-params": x264_params(spec), **BT709, "color_range": "tv",
    }  # fmt: skip


def _audio_options(spec: FormatSpec) -> dict[str, object]:
    return {
        "c:a": "aac", "profile:a": "aac_low", "b:a": spec.audio_bitrate,
        "ar": spec.audio_rate, "ac": spec.audio_channels,
    }  # fmt: skip


def _hls_options(folder: Path, spec: FormatSpec) -> dict[str, object]:
    return {
        "f": "hls", "hls_time": f"{spec.segment_ms / 1000:g}", "hls_playlist_type": "vod",
        "hls_list_size": 0, "hls_segment_type": "mpegts",
        "hls_flags": "independent_segments",
        "hls_segment_filename": str(folder / SEGMENT_PATTERN),
    }  # fmt: skip


def rung_output(
    video: FilterStream, audio: FilterStream, rung: Rung, *, spec: FormatSpec, out_dir: Path,
    threads: int,
) -> OutputStream:  # fmt: skip
    """Encoder and HLS muxer options of one rung, writing ``<rung>/index.m3u8``."""
    folder = out_dir / rung.name
    return ffmpeg_python.output(
        video, audio, str(folder / PLAYLIST_NAME), **_video_options(rung, spec, threads),
        **_audio_options(spec), **NO_METADATA, **_hls_options(folder, spec),
    )  # fmt: skip


def poster_output(picture: FilterStream, poster: Path) -> OutputStream:
    options = {"frames:v": 1, "c:v": "mjpeg", "q:v": 3, **NO_METADATA, "f": "image2", "update": 1}
    return ffmpeg_python.output(picture, str(poster), **options)


def threads_per_rung(rung: Rung) -> int:
    """x264 frame threads: enough for the encoders to overlap on 2 cores, no more."""
    return 2 if rung.height >= 720 else 1


def video_selector(facts: ProbeFacts) -> str:
    """The source's main video stream (cover pictures are skipped by the probe)."""
    return facts.extra.get("video_index") or "v:0"


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
    upload = input_stream(input_arguments(source, demuxer))
    pictures = video_graph(upload, facts, padding, spec)
    sounds = audio_graph(upload, facts, loudness, padding, spec)
    outputs = [
        rung_output(
            pictures.rungs[rung.name],
            sounds[rung.name],
            rung,
            spec=spec,
            out_dir=out_dir,
            threads=threads_per_rung(rung),
        )
        for rung in spec.rungs
    ]
    merged: OutputStream = ffmpeg_python.merge_outputs(
        *outputs, poster_output(pictures.poster, poster)
    )
    return [*ENCODE_OPTIONS, *merged.get_args()]


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
