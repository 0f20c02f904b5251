"""EBU R128 loudness: the audio-only analysis pass and the normalising filter of the encode.

``loudnorm`` normalises accurately only when it is told the programme's loudness, measured by
a first pass over the whole audio. That pass is cheap (audio only, no video decoded) and its
JSON report (on stderr) is parsed here. The encode then applies the measured values in linear
mode (a plain gain when the true-peak budget allows it). ``loudnorm`` resamples to 192 kHz, so
it is always followed by ``aresample`` back to the channel's rate.

Silence (``-inf`` LUFS) and missing audio have nothing to normalise: no ``loudnorm`` then.
"""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from broadcasting.media.formats import FormatSpec
from broadcasting.media.probe import source_input_args

_REPORT = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.DOTALL)


@dataclass(frozen=True)
class Loudness:
    """What the analysis pass measured (LUFS, dBTP, LU)."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float


def audio_preparation(spec: FormatSpec) -> str:
    """Resample to the channel's rate from t=0 and fold any layout into stereo.

    Mono is upmixed, 5.1 downmixed (libswresample's standard matrices). The analysis pass
    measures exactly what the encode will normalise, so both start with this chain.
    """
    layout = "stereo" if spec.audio_channels == 2 else "mono"
    return f"aresample={spec.audio_rate}:first_pts=0,aformat=channel_layouts={layout}"


def _measuring_filter(spec: FormatSpec) -> str:
    return (
        f"loudnorm=I={spec.loudness_lufs:g}:TP={spec.true_peak_dbtp:g}"
        f":LRA={spec.loudness_range_lu:g}:print_format=json"
    )


def analysis_arguments(input_args: Sequence[str], *, spec: FormatSpec) -> list[str]:
    """The analysis pass on any (already hardened) input: audio only, discarded output."""
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        *input_args,
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", f"{audio_preparation(spec)},{_measuring_filter(spec)}",
        "-f", "null", "-",
    ]  # fmt: skip


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


def loudnorm_filter(measured: Loudness | None, spec: FormatSpec) -> str:
    """The normalising chain of the encode: second-pass loudnorm, then back to 48 kHz."""
    resample = f"aresample={spec.audio_rate}"
    if measured is None:
        return resample
    # loudnorm rejects values outside these ranges (e.g. a measured true peak over +99).
    return (
        f"loudnorm=I={spec.loudness_lufs:g}:TP={spec.true_peak_dbtp:g}"
        f":LRA={spec.loudness_range_lu:g}"
        f":measured_I={_clamp(measured.input_i, -99, 0):.2f}"
        f":measured_TP={_clamp(measured.input_tp, -99, 99):.2f}"
        f":measured_LRA={_clamp(measured.input_lra, 0, 99):.2f}"
        f":measured_thresh={_clamp(measured.input_thresh, -99, 0):.2f}"
        f":offset={_clamp(measured.target_offset, -99, 99):.2f}"
        f":linear=true:print_format=none,{resample}"
    )
