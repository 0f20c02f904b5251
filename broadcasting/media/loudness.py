"""EBU R128 loudness: the audio-only analysis pass and the normalising filter of the encode.

``loudnorm`` normalises accurately only when it is told the programme's loudness, measured by
a first pass over the whole audio. That pass is cheap (audio only, no video decoded) and its
JSON report (on stderr) is parsed here. The encode then applies the measured values in linear
mode (a plain gain when the true-peak budget allows it). ``loudnorm`` resamples to 192 kHz, so
it is always followed by ``aresample`` back to the channel's rate.

Silence (``-inf`` LUFS) and missing audio have nothing to normalise: no ``loudnorm`` then.

The analysis command and the audio chain are built as an ffmpeg-python graph and compiled to an
argument list (``get_args()``); ffmpeg-python is untyped, so the part of its API in use is
described by the protocols below. The ladder (``broadcasting.media.ladder``) builds on them.
"""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import ffmpeg as ffmpeg_python  # the ffmpeg-python package, not broadcasting.media.ffmpeg

from broadcasting.media.formats import FormatSpec
from broadcasting.media.probe import source_input_args

_REPORT = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.DOTALL)
ANALYSIS_OPTIONS = ("ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info")


class FilterStream(Protocol):
    """One stream of an ffmpeg-python graph: an input's stream or a filter's output."""

    def filter(self, filter_name: str, *args: object, **kwargs: object) -> "FilterStream": ...

    def filter_multi_output(self, filter_name: str) -> "FilterOutputs": ...

    def __getitem__(self, selector: str) -> "FilterStream": ...


class FilterOutputs(Protocol):
    """A filter with several outputs (``split``, ``asplit``): ``stream(n)`` is its n-th."""

    def stream(self, label: int) -> FilterStream: ...


class OutputStream(Protocol):
    """One output file of an ffmpeg-python graph, or several merged into one command."""

    def get_args(self) -> list[str]: ...


def _option_pairs(options: Sequence[str]) -> dict[str, str]:
    names, values = options[::2], options[1::2]
    pairs = {name.removeprefix("-"): value for name, value in zip(names, values, strict=False)}
    if len(names) != len(values) or len(pairs) != len(names):
        raise ValueError(f"not a list of options with a value each: {list(options)!r}")
    return pairs


def input_stream(arguments: Sequence[str]) -> FilterStream:
    """An ffmpeg-python input from options ending with ``-i URL`` (``source_input_args``).

    ffmpeg-python writes ``-f`` first and the other options sorted by name: the order of one
    input's options does not matter to ffmpeg, they all apply to that input.
    """
    *options, flag, url = arguments
    if flag != "-i":
        raise ValueError(f"input options must end with -i URL: {list(arguments)!r}")
    return ffmpeg_python.input(url, **_option_pairs(options))


@dataclass(frozen=True)
class Loudness:
    """What the analysis pass measured (LUFS, dBTP, LU)."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float


def channel_layout(spec: FormatSpec) -> str:
    return "stereo" if spec.audio_channels == 2 else "mono"


def prepare_audio(audio: FilterStream, spec: FormatSpec) -> FilterStream:
    """Resample to the channel's rate from t=0 and fold any layout into stereo.

    Mono is upmixed, 5.1 downmixed (libswresample's standard matrices). The analysis pass
    measures exactly what the encode will normalise, so both start with this chain.
    """
    resampled = audio.filter("aresample", spec.audio_rate, first_pts=0)
    return resampled.filter("aformat", channel_layouts=channel_layout(spec))


def _targets(spec: FormatSpec) -> dict[str, str]:
    return {
        "I": f"{spec.loudness_lufs:g}",
        "TP": f"{spec.true_peak_dbtp:g}",
        "LRA": f"{spec.loudness_range_lu:g}",
    }


def analysis_arguments(input_args: Sequence[str], *, spec: FormatSpec) -> list[str]:
    """The analysis pass on any (already hardened) input: audio only, discarded output."""
    audio = prepare_audio(input_stream(input_args)["a:0"], spec)
    measuring = audio.filter("loudnorm", **_targets(spec), print_format="json")
    output: OutputStream = ffmpeg_python.output(measuring, "-", f="null", vn=None, sn=None, dn=None)
    return [*ANALYSIS_OPTIONS, *output.get_args()]


def analysis_command(*, source: Path, demuxer: str, spec: FormatSpec) -> list[str]:
    """The first loudnorm pass over an upload: local file only, forced demuxer."""
    return analysis_arguments(source_input_args(source, demuxer=demuxer), spec=spec)


def output_analysis_command(*, segments: Sequence[str], spec: FormatSpec) -> list[str]:
    """The same measurement over our own MPEG-TS segments, read back to back.

    Run it with the segments' folder as working directory: plain relative names keep the
    ``concat:`` URL short. Only our outputs are read this way, never an upload.
    """
    joined = [
        "-protocol_whitelist",
        "file,concat",
        "-f",
        "mpegts",
        "-i",
        "concat:" + "|".join(segments),
    ]
    return analysis_arguments(joined, spec=spec)


def parse_analysis(stderr: str) -> Loudness | None:
    """The last loudnorm JSON report in ``stderr``; None when the audio is silent or absent."""
    reports = _REPORT.findall(stderr)
    if not reports:
        return None
    report = json.loads(reports[-1])
    values = {
        key: float(report[key])
        for key in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
    }
    if not all(math.isfinite(value) for value in values.values()):
        return None
    return Loudness(**values)


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _measured(measured: Loudness) -> dict[str, str]:
    # loudnorm rejects values outside these ranges (e.g. a measured true peak over +99).
    return {
        "measured_I": f"{_clamp(measured.input_i, -99, 0):.2f}",
        "measured_TP": f"{_clamp(measured.input_tp, -99, 99):.2f}",
        "measured_LRA": f"{_clamp(measured.input_lra, 0, 99):.2f}",
        "measured_thresh": f"{_clamp(measured.input_thresh, -99, 0):.2f}",
        "offset": f"{_clamp(measured.target_offset, -99, 99):.2f}",
    }


def normalise(audio: FilterStream, measured: Loudness | None, spec: FormatSpec) -> FilterStream:
    """The normalising chain of the encode: second-pass loudnorm, then back to 48 kHz."""
    if measured is not None:
        audio = audio.filter(
            "loudnorm", **_targets(spec), **_measured(measured), linear="true", print_format="none"
        )
    return audio.filter("aresample", spec.audio_rate)
