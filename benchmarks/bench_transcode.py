"""Transcoding benchmark: our pipeline against the same commands run bare, and per-rung ffmpeg.

On a 60 s 1080p30 clip with stereo audio (generated once with lavfi into ``var/bench/``), the
median of 3 runs of:

(a) our pipeline end to end: ``check_upload``, ``probe``, ``encode_asset`` (analysis pass, the
    one-process ladder, rendition measurements, master playlist, delivered-loudness check);
(b) the very ffmpeg/ffprobe commands (a) ran, recorded during its run of the same round and
    replayed with ``subprocess``, one after the other, with no Python work between them;
(c) the same work with the ladder encoded by one ffmpeg process per rung, each decoding the
    source, with the same filters and x264 settings (the way MediaCMS and PeerTube encode;
    x264 picks its own thread count, as they let it), plus the same probe and loudness commands.

Each variant runs in a child Python process; wall time, CPU time (user+sys of the process and
of the ffmpeg processes it waited for) and peak RSS are measured there around the work only.
Each run waits (bounded) for the machine to be idle, and reports the CPU other processes used
during it, since the machine may be shared.
Then, once, the quality traded for speed: PSNR and SSIM of the 720p rung against the source
scaled to 720p, for the former preset (veryfast) and for the rung's own preset.

Usage: ``.venv/bin/python benchmarks/bench_transcode.py [--runs 3]``. No Django needed.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from broadcasting.media import encoding, ffmpeg
from broadcasting.media.encoding import encode_asset, measure_source_loudness
from broadcasting.media.ffmpeg import Limits
from broadcasting.media.formats import DEFAULT_FORMAT, Rung
from broadcasting.media.intake import check_upload
from broadcasting.media.ladder import ladder_command
from broadcasting.media.loudness import Loudness
from broadcasting.media.probe import ProbeFacts, ProbeLimits, probe

ROOT = Path(__file__).resolve().parent.parent
SPEC = DEFAULT_FORMAT
SECONDS = 60
RATE = 30
MAX_UPLOAD_BYTES = 4 * 1024**3
LIMITS = Limits(wall_seconds=3600)
BENCH_DIR = ROOT / "var" / "bench"
CLIP = BENCH_DIR / f"bench-1080p{RATE}-{SECONDS}s-v2.mp4"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
MONO_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
TICKER = "Carillon TV - conseil municipal ce soir 20h - marche de Noel place de la Mairie"
# A studio-like frame: a detailed still (a Mandelbrot view: smooth colour fields and fine
# detail) slowly panned like a camera, Conway's life as small moving objects, static colour bars
# as graphics, and a scrolling lower third with a running clock (broadcast text).
SOURCE_GRAPH = ";".join(
    [
        f"mandelbrot=s=1920x1080:r={RATE}:maxiter=256:start_x=-0.743643887"
        ":start_y=0.131825904:start_scale=0.02,trim=end_frame=1,loop=loop=-1:size=1,"
        f"setpts=N/{RATE}/TB,scroll=h=0.0007:v=0.0003,format=yuv420p[bg]",
        f"life=s=640x360:r={RATE}:mold=10:ratio=0.12:death_color=#1a3050"
        ":life_color=#f0d070:mold_color=#406080,format=yuv420p[life]",
        f"smptehdbars=s=640x300:r={RATE},format=yuv420p[bars]",
        "[bg][life]overlay=x=1220-20*cos(t/3):y=60:shortest=1[v1]",
        "[v1][bars]overlay=x=1220:y=520[v2]",
        "[v2]drawbox=x=0:y=900:w=iw:h=120:color=black@0.7:t=fill,"
        f"drawtext=fontfile={FONT}:fontsize=56:fontcolor=white:x=w-mod(t*240\\,w+tw):y=930"
        f":text='{TICKER}',"
        f"drawtext=fontfile={MONO_FONT}:fontsize=40:fontcolor=yellow:x=60:y=820"
        ":text='%{pts\\:hms}'[out]",
        "aevalsrc=0.25*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.03*(2*random(0)-1)"
        "|0.25*sin(2*PI*330*t)*(0.6+0.4*sin(2*PI*0.3*t))+0.03*(2*random(1)-1)"
        f":s=48000:d={SECONDS}[aout]",
    ]
)
SOURCE_WHY = (
    "lavfi mix: a detailed Mandelbrot still panned like a camera + life (moving objects) + "
    "SMPTE HD bars + scrolling lower-third text and clock, modulated stereo tones over light "
    "noise; chosen over testsrc2+noise, whose per-frame grain is pathological for x264"
)
VARIANTS = {
    "a": "(a) our pipeline, end to end",
    "b": "(b) same ffmpeg commands, bare",
    "c": "(c) one ffmpeg per rung",
}
QUALITY_RUNG = "720p"
OLD_PRESET = "veryfast"
QUIET_WAIT_S = 300.0
QUIET_SAMPLE_S = 3.0
QUIET_BUSY_CORES = 0.15
Command = tuple[list[str], str | None]  # argv, working directory


# --- The source clip ------------------------------------------------------------------------


def ensure_clip() -> Path:
    """Generate the source clip once (H.264 High 1080p30 like a phone's, AAC stereo 48 kHz)."""
    if CLIP.exists():
        return CLIP
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    partial = CLIP.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-filter_complex", SOURCE_GRAPH, "-map", "[out]", "-map", "[aout]", "-t", str(SECONDS),
         "-c:v", "libx264", "-preset", "fast", "-crf", "20", "-maxrate", "20M", "-bufsize", "40M",
         "-g", str(2 * RATE),
         "-pix_fmt", "yuv420p", "-color_primaries", "bt709", "-color_trc", "bt709",
         "-colorspace", "bt709", "-c:a", "aac", "-b:a", "192k", "-ar", "48000",
         "-movflags", "+faststart", str(partial)],
        check=True,
    )  # fmt: skip
    partial.rename(CLIP)
    return CLIP


# --- The plan: what the pipeline decides about the clip (not timed) -------------------------


def make_plan(clip: Path, path: Path) -> None:
    demuxer = check_upload(clip, original_name=clip.name, max_bytes=MAX_UPLOAD_BYTES)
    facts = probe(clip, demuxer=demuxer, limits=ProbeLimits())
    loudness = measure_source_loudness(
        source=clip, demuxer=demuxer, facts=facts, spec=SPEC, limits=LIMITS
    )
    plan = {"demuxer": demuxer, "facts": asdict(facts), "loudness": loudness and asdict(loudness)}
    path.write_text(json.dumps(plan))


def load_plan(path: Path) -> tuple[str, ProbeFacts, Loudness | None]:
    plan = json.loads(path.read_text())
    loudness = Loudness(**plan["loudness"]) if plan["loudness"] else None
    return plan["demuxer"], ProbeFacts(**plan["facts"]), loudness


def planned_ladder(clip: Path, plan: Path, work: Path, spec: Any = SPEC) -> list[str]:
    demuxer, facts, loudness = load_plan(plan)
    out_dir = work / "out"
    return ladder_command(
        source=clip, demuxer=demuxer, facts=facts, loudness=loudness, spec=spec,
        out_dir=out_dir, poster=out_dir / encoding.POSTER_NAME,
    )  # fmt: skip


# --- The variants (run in a child process) --------------------------------------------------


@contextmanager
def recording(commands: list[Command]) -> Iterator[None]:
    """Note every command the pipeline runs through ``broadcasting.media.ffmpeg.run``."""
    original = ffmpeg.run

    def run(args: Any, **kwargs: Any) -> ffmpeg.RunResult:
        cwd = kwargs.get("cwd")
        commands.append((list(args), str(cwd) if cwd else None))
        return original(args, **kwargs)

    ffmpeg.run = encoding.run = run  # type: ignore[assignment]
    try:
        yield
    finally:
        ffmpeg.run = encoding.run = original  # type: ignore[assignment]


def run_ours(clip: Path, work: Path, record: Path) -> None:
    commands: list[Command] = []
    with recording(commands):
        demuxer = check_upload(clip, original_name=clip.name, max_bytes=MAX_UPLOAD_BYTES)
        facts = probe(clip, demuxer=demuxer, limits=ProbeLimits())
        encode_asset(
            source=clip, demuxer=demuxer, facts=facts, spec=SPEC, work_dir=work,
            limits=LIMITS, on_progress=lambda percent, eta: None,
        )  # fmt: skip
    record.write_text(json.dumps({"work": str(work), "commands": commands}))


def recorded_commands(record: Path, work: Path) -> list[Command]:
    """The commands (a) ran, moved from its work directory into ``work``."""
    data = json.loads(record.read_text())

    def moved(text: str) -> str:
        return text.replace(data["work"], str(work))

    return [([moved(arg) for arg in args], cwd and moved(cwd)) for args, cwd in data["commands"]]


def is_ladder(args: list[str]) -> bool:
    return "-hls_segment_filename" in args  # the loudness analysis has a graph too


def per_rung_commands(clip: Path, plan: Path, work: Path) -> list[Command]:
    """One process per rung: our graph and encoder options restricted to that rung."""
    commands: list[Command] = []
    for rung in SPEC.rungs:
        args = planned_ladder(clip, plan, work, replace(SPEC, rungs=(rung,)))
        args[args.index("-threads:v") + 1] = "0"  # x264's own choice, as MediaCMS/PeerTube
        commands.append((args, str(work)))
    return commands


def replay(commands: list[Command]) -> None:
    for args, cwd in commands:
        subprocess.run(
            args, cwd=cwd, check=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


def prepare(variant: str, clip: Path, plan: Path, record: Path, work: Path) -> Callable[[], None]:
    """The timed work of a variant; the set-up (command lists, folders) is done here, untimed."""
    if variant == "a":
        return lambda: run_ours(clip, work, record)
    commands = recorded_commands(record, work)
    if variant == "c":
        ladder_at = next(i for i, (args, _) in enumerate(commands) if is_ladder(args))
        commands[ladder_at : ladder_at + 1] = per_rung_commands(clip, plan, work)
    for rung in SPEC.rungs:
        (work / "out" / rung.name).mkdir(parents=True, exist_ok=True)
    return lambda: replay(commands)


def usage() -> tuple[float, float]:
    """CPU seconds (user+sys, self and waited-for children) and peak RSS in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, max(own.ru_maxrss, kids.ru_maxrss) / 1024


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all processes), from ``/proc/stat``."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure_variant(variant: str, clip: Path, plan: Path, record: Path) -> dict[str, float]:
    """Figures of one run; ``other_cpu_s`` is what other processes used meanwhile (noise)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as folder:
        work = prepare(variant, clip, plan, record, Path(folder))
        cpu_before, _ = usage()
        busy_before, started = machine_busy_seconds(), time.monotonic()
        work()
        wall = time.monotonic() - started
        cpu_after, peak = usage()
        other = machine_busy_seconds() - busy_before - (cpu_after - cpu_before)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu_after - cpu_before, 2),
            "peak_rss_mb": round(peak, 1), "other_cpu_s": round(max(other, 0.0), 1)}  # fmt: skip


def wait_for_quiet(*, limit_s: float = QUIET_WAIT_S) -> float:
    """Wait (at most ``limit_s``) until other processes leave the CPUs idle; seconds waited.

    The machine may be shared (tests, other benchmarks): a run started while it is busy
    measures the neighbours. ``other_cpu_s`` still tells how quiet each run really was.
    """
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = machine_busy_seconds()
        time.sleep(QUIET_SAMPLE_S)
        if machine_busy_seconds() - before < QUIET_BUSY_CORES * QUIET_SAMPLE_S:
            break
    return time.monotonic() - started


def spawn_variant(variant: str, clip: Path, plan: Path, record: Path) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, __file__, "--variant", variant, "--clip", str(clip),
         "--plan", str(plan), "--record", str(record)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(child.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- Quality traded: PSNR/SSIM of one rung against the source at that size ------------------

_PSNR = re.compile(r"PSNR y:([\d.]+) .*? average:([\d.inf]+)")
_SSIM = re.compile(r"SSIM Y:([\d.]+) .*? All:([\d.]+)")


def encode_one_rung(clip: Path, plan: Path, work: Path, rung: Rung) -> Path:
    (work / "out" / rung.name).mkdir(parents=True, exist_ok=True)
    replay([(planned_ladder(clip, plan, work, replace(SPEC, rungs=(rung,))), str(work))])
    return work / "out" / rung.name / "index.m3u8"


def compare(clip: Path, playlist: Path, rung: Rung) -> dict[str, float]:
    """PSNR (dB) and SSIM over the clip's length, against the source brought to the rung."""
    frames = SECONDS * SPEC.fps
    scale = (
        f"fps={SPEC.fps}:start_time=0,scale={rung.width}:{rung.height}:flags=bicubic"
        ":in_color_matrix=bt709:out_color_matrix=bt709,format=yuv420p"
    )
    graph = (
        f"[0:v]trim=end_frame={frames},setpts=PTS-STARTPTS,split[d1][d2];"
        f"[1:v]{scale},trim=end_frame={frames},setpts=PTS-STARTPTS,split[r1][r2];"
        "[d1][r1]psnr[p];[d2][r2]ssim[s]"
    )
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(playlist), "-i", str(clip),
         "-filter_complex", graph, "-map", "[p]", "-f", "null", "-", "-map", "[s]",
         "-f", "null", "-"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    psnr, ssim = _PSNR.search(result.stderr), _SSIM.search(result.stderr)
    assert psnr and ssim, result.stderr[-2000:]
    size = sum(path.stat().st_size for path in playlist.parent.glob("*.ts"))
    return {"psnr_db": float(psnr.group(2)), "psnr_y_db": float(psnr.group(1)),
            "ssim": float(ssim.group(2)), "ssim_y": float(ssim.group(1)),
            "kbps": round(8 * size / 1000 / float(SPEC.padded_seconds(SECONDS)))}  # fmt: skip


def quality(clip: Path, plan: Path) -> dict[str, dict[str, Any]]:
    rung = next(r for r in SPEC.rungs if r.name == QUALITY_RUNG)
    figures: dict[str, dict[str, Any]] = {}
    for label, preset in (("old", OLD_PRESET), ("new", SPEC.preset_for(rung))):
        wait_for_quiet()
        with tempfile.TemporaryDirectory(prefix="bench-quality-") as folder:
            work = Path(folder)
            started = time.monotonic()
            playlist = encode_one_rung(clip, plan, work, replace(rung, preset=preset))
            seconds = round(time.monotonic() - started, 1)
            figures[label] = {"preset": preset, "encode_s": seconds,
                              **compare(clip, playlist, rung)}  # fmt: skip
    return figures


# --- Report ---------------------------------------------------------------------------------


def medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    keys = ("wall_s", "cpu_s", "peak_rss_mb", "other_cpu_s")
    figures: dict[str, Any] = {
        key: round(statistics.median(r[key] for r in runs), 2) for key in keys
    }
    figures["runs_wall_s"] = [r["wall_s"] for r in runs]
    figures["realtime_factor"] = round(SECONDS / figures["wall_s"], 2)
    return figures


def print_table(results: dict[str, dict[str, Any]], summary: dict[str, Any]) -> None:
    presets = ", ".join(f"{r.name} {SPEC.preset_for(r)}" for r in SPEC.rungs)
    print(f"source: {CLIP.relative_to(ROOT)}, {SECONDS} s 1080p{RATE} with stereo audio")
    print(f"source content: {SOURCE_WHY}")
    print(f"ladder: 4 rungs at {SPEC.fps} fps; x264 presets per rung: {presets}")
    print(
        f"median of {summary['runs']} runs; CPU = user+sys; RSS = largest process; other CPU ="
        " what other processes of this machine used during the run (noise)"
    )
    header = (
        f"{'variant':<34} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12} {'x realtime':>10}"
        f" {'other CPU s':>11}  runs (wall s)"
    )
    print(header)
    print("-" * len(header))
    for variant, figures in results.items():
        print(
            f"{VARIANTS[variant]:<34} {figures['wall_s']:>7} {figures['cpu_s']:>7} "
            f"{figures['peak_rss_mb']:>12} {figures['realtime_factor']:>10}"
            f" {figures['other_cpu_s']:>11}  {figures['runs_wall_s']}"
        )
    print(
        f"a/b wall = {summary['a_over_b']:.3f} (target <= 1.10), "
        f"a/c wall = {summary['a_over_c']:.3f} (target <= 0.85), "
        f"real-time factor (a) = {summary['realtime_factor']:.2f}x (target >= 1.5)"
    )
    print(f"a/b CPU = {summary['a_over_b_cpu']:.3f}, a/c CPU = {summary['a_over_c_cpu']:.3f}")
    print(f"(b) replays exactly the commands (a) ran: {summary['commands_match']}")


def print_quality(figures: dict[str, dict[str, Any]]) -> None:
    print(f"\nquality traded, {QUALITY_RUNG} rung vs source scaled to {QUALITY_RUNG} (once):")
    print(f"{'preset':<12} {'encode s':>9} {'kb/s':>6} {'PSNR dB':>8} {'PSNR-Y':>7} "
          f"{'SSIM':>8} {'SSIM-Y':>8}")  # fmt: skip
    for figure in figures.values():
        print(
            f"{figure['preset']:<12} {figure['encode_s']:>9} {figure['kbps']:>6} "
            f"{figure['psnr_db']:>8.2f} {figure['psnr_y_db']:>7.2f} "
            f"{figure['ssim']:>8.4f} {figure['ssim_y']:>8.4f}"
        )


def ladder_matches(clip: Path, plan: Path, record: Path) -> bool:
    """The ladder (c) splits is built from the same facts and loudness as the one (a) ran."""
    work = Path(json.loads(record.read_text())["work"])
    ran = [args for args, _ in recorded_commands(record, work) if is_ladder(args)]
    return ran == [planned_ladder(clip, plan, work)]


def benchmark(runs: int) -> int:
    clip = ensure_clip()
    with tempfile.TemporaryDirectory(prefix="bench-transcode-") as folder:
        plan, record = Path(folder) / "plan.json", Path(folder) / "record.json"
        make_plan(clip, plan)
        samples: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
        for _ in range(runs):
            for variant in VARIANTS:  # (a) first: (b) and (c) replay what it recorded
                wait_for_quiet()
                samples[variant].append(spawn_variant(variant, clip, plan, record))
        match = ladder_matches(clip, plan, record)
        traded = quality(clip, plan)
    results = {variant: medians(values) for variant, values in samples.items()}
    summary = summarise(results, runs, match)
    print_table(results, summary)
    print_quality(traded)
    print(json.dumps({**summary, **results, "quality_720p": traded}))
    return 0


def summarise(results: dict[str, dict[str, Any]], runs: int, match: bool) -> dict[str, Any]:
    a, b, c = results["a"], results["b"], results["c"]
    summary = {
        "clip": CLIP.name, "seconds": SECONDS, "runs": runs, "source": SOURCE_WHY,
        "presets": {rung.name: SPEC.preset_for(rung) for rung in SPEC.rungs},
        "a_over_b": round(a["wall_s"] / b["wall_s"], 3),
        "a_over_c": round(a["wall_s"] / c["wall_s"], 3),
        "a_over_b_cpu": round(a["cpu_s"] / b["cpu_s"], 3),
        "a_over_c_cpu": round(a["cpu_s"] / c["cpu_s"], 3),
        "realtime_factor": a["realtime_factor"], "commands_match": match,
    }  # fmt: skip
    summary["targets_met"] = (
        summary["a_over_b"] <= 1.10
        and summary["a_over_c"] <= 0.85
        and summary["realtime_factor"] >= 1.5
    )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variant", choices=sorted(VARIANTS))
    parser.add_argument("--clip", type=Path)
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--record", type=Path)
    options = parser.parse_args()
    if options.variant:
        figures = measure_variant(options.variant, options.clip, options.plan, options.record)
        print(json.dumps(figures))
        return 0
    return benchmark(options.runs)


if __name__ == "__main__":
    sys.exit(main())
