"""Transcoding benchmark: our one-process ladder against two baselines, on a 30 s 1080p clip.

(a) ``encode_asset``: analysis pass, the one-process ladder (fit, pad, loudnorm, poster) and the
    measurements; (b) one bare ffmpeg process per rung, run one after the other (the way
    MediaCMS and PeerTube encode), with the same x264 settings; (c) a bare one-process ladder
    (``split`` + the same encoders) without our extras. Each variant runs in a child Python
    process so that its peak RSS (``getrusage(RUSAGE_CHILDREN)``) is its own.

Usage: ``.venv/bin/python benchmarks/bench_transcode.py [--seconds 30]``. No Django needed.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from broadcasting.encoding import encode_asset
from broadcasting.ffmpeg import Limits
from broadcasting.formats import DEFAULT_FORMAT, FormatSpec, Rung
from broadcasting.ladder import x264_params
from broadcasting.probe import ProbeFacts

SPEC = DEFAULT_FORMAT
NOISE = "noise=alls=6:allf=t"
VARIANTS = {
    "a": "encode_asset (our ladder)",
    "b": "one ffmpeg per rung",
    "c": "bare one-process ladder",
}


def make_clip(folder: Path, seconds: int) -> Path:
    """1080p25 test pattern with light temporal noise (so x264 has work) and a tone."""
    path = folder / "bench-1080p.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=25:duration={seconds},{NOISE}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def clip_facts(path: Path, seconds: int) -> ProbeFacts:
    return ProbeFacts(
        container="mov", format_name="mov,mp4,m4a,3gp,3g2,mj2", duration=float(seconds),
        size=path.stat().st_size, video_codec="h264", width=1920, height=1080, rotation=0,
        frame_rate=25.0, variable_frame_rate=False, pix_fmt="yuv420p", bit_depth=8,
        color_space="", color_transfer="", color_primaries="", audio_codec="aac",
        audio_channels=1, audio_layout="mono", audio_rate=48_000, audio_streams=1,
    )  # fmt: skip


def encoder_options(rung: Rung, spec: FormatSpec) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", spec.x264_preset, "-profile:v", rung.profile,
        "-level:v", rung.level, "-b:v", str(rung.video_bitrate), "-maxrate:v", str(rung.maxrate),
        "-bufsize:v", str(rung.bufsize), "-x264-params", x264_params(spec),
        "-c:a", "aac", "-b:a", str(spec.audio_bitrate), "-ar", str(spec.audio_rate), "-ac", "2",
    ]  # fmt: skip


def hls_output(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        "-f", "hls", "-hls_time", "4.8", "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(folder / "seg_%05d.ts"), str(folder / "index.m3u8"),
    ]  # fmt: skip


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def run_ours(clip: Path, work: Path, seconds: int) -> None:
    encode_asset(
        source=clip, demuxer="mov", facts=clip_facts(clip, seconds), spec=SPEC,
        work_dir=work, limits=Limits(wall_seconds=3600), on_progress=None,
    )  # fmt: skip


def run_per_rung(clip: Path, work: Path) -> None:
    for rung in SPEC.rungs:
        scale = f"fps={SPEC.fps},scale={rung.width}:{rung.height},setsar=1,format=yuv420p"
        ffmpeg(
            "-i", str(clip), "-vf", scale, *encoder_options(rung, SPEC),
            *hls_output(work / rung.name),
        )  # fmt: skip


def run_bare_ladder(clip: Path, work: Path) -> None:
    count = len(SPEC.rungs)
    chains = [f"[0:v]fps={SPEC.fps},split={count}" + "".join(f"[s{i}]" for i in range(count))]
    chains += [
        f"[s{i}]scale={rung.width}:{rung.height},setsar=1,format=yuv420p[v{i}]"
        for i, rung in enumerate(SPEC.rungs)
    ]
    chains.append(f"[0:a]asplit={count}" + "".join(f"[a{i}]" for i in range(count)))
    outputs = [
        arg
        for i, rung in enumerate(SPEC.rungs)
        for arg in [
            "-map",
            f"[v{i}]",
            "-map",
            f"[a{i}]",
            *encoder_options(rung, SPEC),
            *hls_output(work / rung.name),
        ]  # fmt: skip
    ]
    ffmpeg("-i", str(clip), "-filter_complex", ";".join(chains), *outputs)


def measure_variant(variant: str, clip: Path, seconds: int) -> dict[str, float]:
    """Run one variant in this (child) process and report its own figures."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as folder:
        work = Path(folder)
        started = time.monotonic()
        if variant == "a":
            run_ours(clip, work, seconds)
        elif variant == "b":
            run_per_rung(clip, work)
        else:
            run_bare_ladder(clip, work)
        wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "realtime_factor": round(seconds / wall, 2),
    }


def spawn_variant(variant: str, clip: Path, seconds: int) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, __file__, "--variant", variant, "--clip", str(clip),
         "--seconds", str(seconds)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(child.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def print_table(results: dict[str, dict[str, float]], seconds: int) -> None:
    print(f"{seconds} s 1080p25 clip, 4-rung ladder, x264 preset {SPEC.x264_preset}")
    print(f"{'variant':<30} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12} {'x realtime':>11}")
    for variant, figures in results.items():
        print(
            f"{VARIANTS[variant]:<30} {figures['wall_s']:>8} {figures['cpu_s']:>8} "
            f"{figures['peak_rss_mb']:>12} {figures['realtime_factor']:>11}"
        )
    print(
        f"a/b = {results['a']['wall_s'] / results['b']['wall_s']:.2f}, "
        f"a/c = {results['a']['wall_s'] / results['c']['wall_s']:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--variant", choices=sorted(VARIANTS))
    parser.add_argument("--clip", type=Path)
    options = parser.parse_args()
    if options.variant:
        print(json.dumps(measure_variant(options.variant, options.clip, options.seconds)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-transcode-") as folder:
        clip = make_clip(Path(folder), options.seconds)
        results = {variant: spawn_variant(variant, clip, options.seconds) for variant in VARIANTS}
    print_table(results, options.seconds)
    print(json.dumps({"seconds": options.seconds, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
