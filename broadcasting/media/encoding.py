"""One asset's encode into the channel format, inside a work directory (no models here).

The steps: the audio-only loudness analysis (when there is audio), the ONE ffmpeg process that
writes every rung and the poster, the measurement of each rendition, our own master playlist,
and a check of the loudness actually delivered (measured on the smallest rung's segments).
Everything is written under ``work_dir/out``; moving it into storage is the caller's job.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broadcasting.media.ffmpeg import Limits, run
from broadcasting.media.formats import FormatSpec, Rung
from broadcasting.media.hls import RenditionFacts, master_playlist, measure_rendition
from broadcasting.media.ladder import ladder_command, padding_for, progress_fraction
from broadcasting.media.loudness import (
    Loudness,
    analysis_command,
    output_analysis_command,
    parse_analysis,
)
from broadcasting.media.probe import ProbeFacts

logger = logging.getLogger(__name__)

MASTER_NAME = "master.m3u8"
POSTER_NAME = "poster.jpg"
ProgressReporter = Callable[[float, float | None], None]


@dataclass(frozen=True)
class EncodeResult:
    """What an encode produced, and the facts to store about it."""

    out_dir: Path
    master: Path
    poster: Path
    renditions: dict[str, RenditionFacts]
    loudness_before: float | None  # integrated LUFS of the source; None: silent or no audio
    loudness_after: float | None  # integrated LUFS delivered (smallest rung); None: silent
    true_peak_after: float | None  # dBTP delivered
    segment_count: int
    padded_duration: float  # seconds
    encode_seconds: float


def measure_source_loudness(
    *, source: Path, demuxer: str, facts: ProbeFacts, spec: FormatSpec, limits: Limits
) -> Loudness | None:
    """The analysis pass; None when the source has no audio or only silence."""
    if not facts.has_audio:
        return None
    result = run(analysis_command(source=source, demuxer=demuxer, spec=spec), limits=limits)
    return parse_analysis(result.stderr)


def measure_delivered_loudness(
    rendition: RenditionFacts, *, spec: FormatSpec, limits: Limits
) -> Loudness | None:
    """Loudness of one rendition's audio as encoded (audio only: cheap)."""
    names = [segment.uri for segment in rendition.segments]
    command = output_analysis_command(segments=names, spec=spec)
    return parse_analysis(run(command, limits=limits, cwd=rendition.playlist.parent).stderr)


class _ProgressRelay:
    """Turns ``-progress`` blocks into (percent, ETA seconds) for the caller."""

    def __init__(self, report: ProgressReporter | None, total_seconds: float) -> None:
        self.report = report
        self.total_seconds = total_seconds
        self.started = time.monotonic()

    def __call__(self, block: dict[str, str]) -> None:
        if self.report is None:
            return
        fraction = progress_fraction(block, total_seconds=self.total_seconds)
        elapsed = time.monotonic() - self.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        self.report(round(100 * fraction, 1), eta)


def _prepare_folders(out_dir: Path, rungs: tuple[Rung, ...]) -> None:
    for rung in rungs:
        (out_dir / rung.name).mkdir(parents=True, exist_ok=True)


def _write_master(out_dir: Path, renditions: dict[str, RenditionFacts], spec: FormatSpec) -> Path:
    entries = [
        (rung, renditions[rung.name], f"{rung.name}/{renditions[rung.name].playlist.name}")
        for rung in spec.rungs
    ]
    master = out_dir / MASTER_NAME
    master.write_text(master_playlist(entries, spec=spec))
    return master


def _smallest(spec: FormatSpec) -> Rung:
    return min(spec.rungs, key=lambda rung: rung.width * rung.height)


def encode_asset(
    *,
    source: Path,
    demuxer: str,
    facts: ProbeFacts,
    spec: FormatSpec,
    work_dir: Path,
    limits: Limits,
    on_progress: ProgressReporter | None = None,
) -> EncodeResult:
    """Encode ``source`` into every rung under ``work_dir/out``; ``FFmpegError`` on failure."""
    started = time.monotonic()
    out_dir = work_dir / "out"
    _prepare_folders(out_dir, spec.rungs)
    loudness = measure_source_loudness(
        source=source, demuxer=demuxer, facts=facts, spec=spec, limits=limits
    )
    padded = float(spec.padded_seconds(facts.duration))
    poster = out_dir / POSTER_NAME
    command = ladder_command(
        source=source, demuxer=demuxer, facts=facts, loudness=loudness,
        spec=spec, out_dir=out_dir, poster=poster,
    )  # fmt: skip
    run(command, limits=limits, on_progress=_ProgressRelay(on_progress, padded), cwd=work_dir)
    renditions = {
        rung.name: measure_rendition(out_dir / rung.name, rung=rung) for rung in spec.rungs
    }
    master = _write_master(out_dir, renditions, spec)
    delivered = measure_delivered_loudness(
        renditions[_smallest(spec).name], spec=spec, limits=limits
    )
    seconds = time.monotonic() - started
    logger.info("encode done source=%s seconds=%.1f", source.name, seconds)
    return EncodeResult(
        out_dir=out_dir,
        master=master,
        poster=poster,
        renditions=renditions,
        loudness_before=loudness.input_i if loudness else None,
        loudness_after=delivered.input_i if delivered else None,
        true_peak_after=delivered.input_tp if delivered else None,
        segment_count=padding_for(facts.duration, spec).segments,
        padded_duration=padded,
        encode_seconds=seconds,
    )
