"""From a resident's last byte to "ready to air", as a multiple of the clip's duration.

Two phone clips of 60 s, generated once into ``var/bench/``:

- ``portrait``: H.264 8-bit 1080p30 as phones record it, coded 1920x1080 with a 90° rotation
  (shown 1080x1920), stereo AAC (target: ready within 0.7x its duration);
- ``hlg``: HEVC 10-bit HLG/BT.2020 1080p30, what recent phones record (reported apart).

For each, in a child process on a throwaway SQLite database and media folder (the local
settings, as ``make run``): the upload's hand-over (``asset_create_from_file``: intake checks,
the original stored in private storage, the job queued), then the transcode job as the worker
runs it (``transcode_job_run``: probe, loudness analysis, the one-process ladder, measurements,
renditions stored), until the asset is READY. Side by side, in the same run: the very ffmpeg
commands that pipeline ran, recorded and replayed bare, one after the other.

Usage: ``.venv/bin/python benchmarks/bench_ready.py [--runs 1]``.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SECONDS = 60
TARGET = 0.7
PICTURE = (
    "testsrc2=size=1920x1080:rate=30,"
    "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:fontsize=64:"
    "fontcolor=white:x=w-mod(t*300\\,w+tw):y=h-160:text='Marché de Noël place Billard'"
)
AUDIO = "aevalsrc=0.2*sin(2*PI*220*t)|0.2*sin(2*PI*330*t):s=48000"
CLIPS = {
    "portrait": (
        "bench-phone-portrait-{seconds}s.mp4",
        ["-c:v", "libx264", "-preset", "fast", "-crf", "21", "-pix_fmt", "yuv420p",
         "-metadata:s:v:0", "rotate=90"],
    ),
    "hlg": (
        "bench-phone-hlg-hevc-{seconds}s.mov",
        ["-vf", "format=yuv420p10le", "-c:v", "libx265", "-preset", "fast", "-crf", "22",
         "-x265-params", "log-level=error", "-tag:v", "hvc1",
         "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc"],
    ),
}  # fmt: skip

CHILD = """
import json, sys, time
from pathlib import Path
from broadcasting.media import encoding, ffmpeg
from broadcasting.media.services import asset_create_from_file
from broadcasting.media.transcoding import transcode_job_run
from broadcasting.models import Asset, TranscodeJob

clip, out = Path(sys.argv[1]), Path(sys.argv[2])
commands = []
original = ffmpeg.run

def recording(args, **kwargs):
    cwd = kwargs.get("cwd")
    commands.append([[str(arg) for arg in args], str(cwd) if cwd else None])
    return original(args, **kwargs)

ffmpeg.run = encoding.run = recording
started = time.monotonic()
asset = asset_create_from_file(path=clip, original_name=clip.name, title="Bench")
for job in TranscodeJob.objects.filter(asset=asset, state="queued"):
    transcode_job_run(job_id=job.pk, worker="bench-ready")
took = time.monotonic() - started
asset = Asset.objects.get(pk=asset.pk)
assert asset.state == "ready", (asset.state, asset.failure_detail)
out.write_text(json.dumps({"seconds": took, "commands": commands}))
"""


def ensure_clip(name: str, seconds: int) -> Path:
    pattern, encoder = CLIPS[name]
    filename = pattern.format(seconds=seconds)
    path = BENCH_DIR / filename
    if path.exists():
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"part-{filename}")
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", PICTURE, "-f", "lavfi", "-i", AUDIO, "-t", str(seconds),
         *encoder, "-c:a", "aac", "-b:a", "160k", str(partial)],
        check=True,
    )  # fmt: skip
    partial.rename(path)
    return path


def child_env(tmp: Path) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CARILLON_", "CELERY_", "AWS_"))
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'carillon.sqlite3'}",
        "CARILLON_MEDIA_ROOT": str(tmp / "media"),
        "CARILLON_WORK_DIR": str(tmp / "work"),
        "CARILLON_VAR": str(tmp / "var"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",  # the job's message is never read
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run_once(clip: Path) -> tuple[float, float]:
    """Seconds to READY through our pipeline, then seconds of its ffmpeg commands run bare
    (replayed in the same folder, the work folders made again, before it is thrown away)."""
    with tempfile.TemporaryDirectory(prefix="carillon-bench-ready-") as folder:
        tmp = Path(folder)
        env = child_env(tmp)
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        out = tmp / "result.json"
        script = CHILD.replace("sys.argv[1]", repr(str(clip))).replace(
            "sys.argv[2]", repr(str(out))
        )
        manage(env, "shell", "-c", script)
        result = json.loads(out.read_text())
        started = time.monotonic()
        for args, cwd in result["commands"]:
            for arg in args:
                path = Path(arg.removeprefix("file:"))
                if str(path).startswith(folder):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if path.name.startswith("source") and not path.exists():
                        shutil.copyfile(clip, path)  # the job's copy of the original
            if cwd:
                Path(cwd).mkdir(parents=True, exist_ok=True)
            subprocess.run(args, cwd=cwd or folder, capture_output=True, check=True)
        return float(result["seconds"]), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=SECONDS, help="clip duration")
    options = parser.parse_args()
    summary: dict[str, dict[str, float]] = {}
    print(f"{'clip':<10} {'ours s':>8} {'x dur':>6} {'bare s':>8} {'x dur':>6}  target")
    for name in CLIPS:
        clip = ensure_clip(name, options.seconds)
        ours, bare = [], []
        for _ in range(options.runs):
            mine_s, bare_s = run_once(clip)
            ours.append(mine_s)
            bare.append(bare_s)
        mine, base = statistics.median(ours), statistics.median(bare)
        target = f"<= {TARGET}" if name == "portrait" else "(reported)"
        print(
            f"{name:<10} {mine:8.1f} {mine / options.seconds:6.2f} {base:8.1f} {base / options.seconds:6.2f}"
            f"  {target}"
        )
        summary[name] = {
            "ready_seconds": round(mine, 1),
            "ready_x_duration": round(mine / options.seconds, 3),
            "bare_commands_seconds": round(base, 1),
        }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
