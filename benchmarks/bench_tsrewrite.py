"""Segment rewriter benchmark: ``tsrewrite.rewrite_segment`` against two baselines, one run.

On a real 4.8-s 1080p segment of the channel format (a noisy 1080p25 clip with stereo audio,
generated and encoded once into ``var/bench/``), the time of:

(a) ``rewrite_segment`` (PTS/DTS/PCR offset and counters continued), 50 times;
(b) a plain Python loop that copies the same bytes packet by packet (``bytes`` slices joined),
    50 times: the floor of any pure-Python pass that visits every packet;
(c) the alternative the design rejected: ``ffmpeg -c copy -output_ts_offset`` remuxing the same
    segment into a new TS file (one process per segment), 10 times;
(d) ``first_pts``, which the playout calls on every candidate segment, 500 times.

Prints MB/s for each and a final JSON line. Usage: ``.venv/bin/python benchmarks/bench_tsrewrite.py``.
No Django needed.
"""

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broadcasting.live.tsrewrite import (  # noqa: E402
    PACKET_SIZE,
    ContinuityState,
    channel_pts,
    first_pts,
    offset_for,
    rewrite_segment,
)
from broadcasting.media.encoding import encode_asset  # noqa: E402
from broadcasting.media.ffmpeg import Limits  # noqa: E402
from broadcasting.media.formats import DEFAULT_FORMAT  # noqa: E402
from broadcasting.media.probe import ProbeLimits, probe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
CLIP = BENCH_DIR / "tsrewrite-1080p25-6s.mp4"
SEGMENT = BENCH_DIR / "tsrewrite-1080p-seg_00000.ts"
RUNS = 50
FFMPEG_RUNS = 10
FIRST_PTS_RUNS = 500
SPEC = replace(DEFAULT_FORMAT, rungs=tuple(r for r in DEFAULT_FORMAT.rungs if r.name == "1080p"))


def make_segment() -> bytes:
    """The first 1080p segment of the channel format, encoded once and kept in var/bench/."""
    if SEGMENT.exists():
        return SEGMENT.read_bytes()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=6,noise=alls=12:allf=t",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-c:a", "aac", "-shortest",
         str(CLIP)],
        check=True, timeout=600,
    )  # fmt: skip
    facts = probe(CLIP, demuxer="mov", limits=ProbeLimits())
    with tempfile.TemporaryDirectory() as work:
        result = encode_asset(
            source=CLIP, demuxer="mov", facts=facts, spec=SPEC, work_dir=Path(work),
            limits=Limits(wall_seconds=600),
        )  # fmt: skip
        data = (result.out_dir / "1080p" / "seg_00000.ts").read_bytes()
    SEGMENT.write_bytes(data)
    return data


def rate(seconds: float, size: int, runs: int) -> float:
    return size * runs / seconds / 1e6


def timed(work: Callable[[], object], runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        work()
    return time.perf_counter() - started


def copy_loop(data: bytes) -> bytes:
    return b"".join(data[i : i + PACKET_SIZE] for i in range(0, len(data), PACKET_SIZE))


def ffmpeg_remux(path: Path, out: Path, offset_seconds: float) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(path), "-map", "0", "-c", "copy",
         "-output_ts_offset", f"{offset_seconds}", "-f", "mpegts", str(out)],
        check=True, timeout=60,
    )  # fmt: skip


def main() -> int:
    data = make_segment()
    size = len(data)
    offset = offset_for(segment_first_pts=first_pts(data), channel_pts=channel_pts(1_000_000))
    state = ContinuityState()
    rewrite = timed(lambda: rewrite_segment(data, offset_ticks=offset, continuity=state), RUNS)
    copy = timed(lambda: copy_loop(data), RUNS)
    first = timed(lambda: first_pts(data), FIRST_PTS_RUNS)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.ts"
        remux = timed(lambda: ffmpeg_remux(SEGMENT, out, 4.8), FFMPEG_RUNS)
    figures = {
        "segment_bytes": size,
        "rewrite_mb_s": round(rate(rewrite, size, RUNS), 1),
        "rewrite_ms_per_segment": round(1000 * rewrite / RUNS, 2),
        "copy_loop_mb_s": round(rate(copy, size, RUNS), 1),
        "ffmpeg_remux_mb_s": round(rate(remux, size, FFMPEG_RUNS), 1),
        "ffmpeg_remux_ms_per_segment": round(1000 * remux / FFMPEG_RUNS, 1),
        "first_pts_us_per_segment": round(1e6 * first / FIRST_PTS_RUNS, 1),
    }
    print(f"segment: {size / 1e6:.2f} MB (4.8 s of 1080p)")
    print(f"(a) rewrite_segment      {figures['rewrite_mb_s']:8.1f} MB/s "
          f"({figures['rewrite_ms_per_segment']} ms per segment)")  # fmt: skip
    print(f"(b) bytes copy loop      {figures['copy_loop_mb_s']:8.1f} MB/s")
    print(f"(c) ffmpeg -c copy remux {figures['ffmpeg_remux_mb_s']:8.1f} MB/s "
          f"({figures['ffmpeg_remux_ms_per_segment']} ms per segment)")  # fmt: skip
    print(f"(d) first_pts            {figures['first_pts_us_per_segment']:8.1f} µs per segment")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
