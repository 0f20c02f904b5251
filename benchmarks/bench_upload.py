"""Upload benchmark: a large resumable upload through the tus endpoint, memory and throughput.

Everything runs in a temporary directory (SQLite database, uploads, nginx files) on free ports,
with the real processes: nginx (``scripts/nginx-conf.sh``, plus the ``/api/v1/uploads/``
location of ``deploy/nginx/carillon.conf``: bodies capped at the chunk size and streamed to the
web process, not buffered) in front of the production web server (the Procfile's ``web:``
command: gunicorn with one uvicorn worker, ``config.asgi.application``). A resident with a
submission waiting for its file uploads with a real tus client (tuspy, 8 MiB chunks, as Uppy):

(a) a 10 MiB file, then (b) a ``BENCH_UPLOAD_MIB`` file (1 GiB by default) through the same web
    process: its peak resident memory (``VmHWM``) after each, so a growth with the size would
    show; the assembled file is checked byte for byte against the source;
(c) the throughput of (b) against nginx serving the same file as a static download on the same
    loopback (the ceiling of this machine's HTTP path).

The hand-over to the media pipeline is not measured here (its message goes to an in-memory
broker): ``bench_ready.py`` times the pipeline.

Usage: ``.venv/bin/python benchmarks/bench_upload.py`` (``BENCH_UPLOAD_MIB=256`` for a shorter
run).
"""

import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from tusclient.client import TusClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_live import Processes, answers, free_port, manage, wait_for, web_command  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
SMALL_MIB = 10
LARGE_MIB = int(os.environ.get("BENCH_UPLOAD_MIB", "1024"))
CHUNK_BYTES = 8 * MIB
BENCH_REDIS_URL = "redis://127.0.0.1:6379/12"  # the cache only: the broker is in memory

UPLOADS_LOCATION = """
    location /api/v1/uploads/ {{
      client_max_body_size 10m;
      proxy_request_buffering off;
      proxy_pass http://127.0.0.1:{web_port};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_read_timeout 600s;
    }}
    location /bench/static/ {{ alias {static}/; }}
"""

RESIDENT = """
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from cms.models import SubmissionState, VideoSubmission
user = get_user_model().objects.create_user("bench-resident", "r@example.org", "not-secret-1")
ids = []
for n in range(2):
    ids.append(VideoSubmission.objects.create(
        submitter=user, title=f"Bench {n}", state=SubmissionState.AWAITING_UPLOAD,
        charter_version="bench", consented_at=timezone.now()).pk)
client = Client()
client.force_login(user)
print(client.cookies["sessionid"].value, *ids)
"""


def bench_env(tmp: Path, *, web_port: int, nginx_port: int) -> dict[str, str]:
    """The environment of every process of the run: all state under ``tmp``."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CARILLON_", "CELERY_", "AWS_"))
    }
    extra = UPLOADS_LOCATION.format(web_port=web_port, static=tmp / "files")
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "DATABASE_URL": f"sqlite:///{tmp / 'carillon.sqlite3'}",
        "CARILLON_MEDIA_ROOT": str(tmp / "media"),
        "CARILLON_WORK_DIR": str(tmp / "work"),
        "CARILLON_UPLOAD_DIR": str(tmp / "uploads"),
        "CARILLON_UPLOAD_QUOTA_BYTES": str(4 * LARGE_MIB * MIB),
        "CARILLON_UPLOAD_MAX_BYTES": str(2 * LARGE_MIB * MIB),
        "CARILLON_VAR": str(tmp / "var"),
        "CARILLON_PORT": str(nginx_port),
        "CARILLON_WEB_PORT": str(web_port),
        "CARILLON_BENCH_BARE_FILE": str(tmp / "files" / "small.bin"),
        "CARILLON_NGINX_EXTRA": extra,
        "CELERY_BROKER_URL": "memory://",
        "REDIS_URL": BENCH_REDIS_URL,
        "WEB_CONCURRENCY": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }


def random_file(path: Path, mib: int) -> Path:
    with path.open("wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(MIB))
    return path


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * MIB):
            sha.update(block)
    return sha.hexdigest()


def web_worker_pid(master: int) -> int:
    """The gunicorn worker (the process that runs Django), child of the master."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def memory_kib(pid: int) -> dict[str, int]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "VmHWM")}


def tus_upload(base: str, cookie: str, path: Path, submission: int) -> float:
    """Seconds to upload ``path`` with tuspy, as a signed-in resident."""
    headers = {"Cookie": f"sessionid={cookie}; csrftoken={'b' * 32}", "X-CSRFToken": "b" * 32}
    client = TusClient(f"{base}/api/v1/uploads/", headers=headers)
    meta = {"filename": path.name.replace(".bin", ".mp4"), "submission": str(submission)}
    uploader = client.uploader(file_path=str(path), chunk_size=CHUNK_BYTES, metadata=meta)
    started = time.monotonic()
    uploader.upload()
    elapsed = time.monotonic() - started
    if uploader.offset != path.stat().st_size:
        raise RuntimeError(f"upload stopped at {uploader.offset}")
    return elapsed


def download(url: str) -> float:
    """Seconds for nginx to serve a static file (read by the client in 1 MiB pieces)."""
    started = time.monotonic()
    with requests.get(url, stream=True, timeout=60) as response:
        response.raise_for_status()
        for _ in response.iter_content(MIB):
            pass
    return time.monotonic() - started


def assembled(tmp: Path) -> dict[int, Path]:
    """The uploads' assembled files by size."""
    return {path.stat().st_size: path for path in (tmp / "uploads").glob("*.part")}


def start(tmp: Path, env: dict[str, str], procs: Processes) -> int:
    """nginx and the web server; the gunicorn worker's pid."""
    conf = tmp / "var" / "nginx" / "nginx.conf"
    script = [str(ROOT / "scripts" / "nginx-conf.sh")]
    conf.write_text(
        subprocess.run(script, env=env, capture_output=True, text=True, check=True).stdout
    )
    nginx = ["nginx", "-p", str(tmp / "var" / "nginx"), "-c", str(conf), "-g", "daemon off;"]
    procs.start("nginx", nginx, env=env, log=tmp / "logs" / "nginx.log")
    master = procs.start("web", ["bash", "-c", f"exec {web_command()}"], env=env,
                         log=tmp / "logs" / "web.log")  # fmt: skip
    for port in (int(env["CARILLON_PORT"]), int(env["CARILLON_WEB_PORT"])):
        ready = functools.partial(answers, port, "/healthz")
        wait_for(ready, what=f"port {port}", timeout=60, procs=procs)
    return web_worker_pid(master)


def run(tmp: Path, procs: Processes) -> dict[str, Any]:
    web_port, nginx_port = free_port(), free_port()
    env = bench_env(tmp, web_port=web_port, nginx_port=nginx_port)
    for folder in ("var/nginx", "media/public", "media/private", "work", "logs", "files"):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    cookie, *submissions = manage(env, "shell", "-c", RESIDENT).splitlines()[-1].split()
    small = random_file(tmp / "files" / "small.bin", SMALL_MIB)
    large = random_file(tmp / "files" / "large.bin", LARGE_MIB)
    worker = start(tmp, env, procs)
    base = f"http://127.0.0.1:{nginx_port}"
    idle = memory_kib(worker)
    small_s = tus_upload(base, cookie, small, int(submissions[0]))
    after_small = memory_kib(worker)
    large_s = tus_upload(base, cookie, large, int(submissions[1]))
    after_large = memory_kib(worker)
    static_s = download(f"{base}/bench/static/large.bin")
    procs.check()
    files = assembled(tmp)
    identical = all(digest(files[p.stat().st_size]) == digest(p) for p in (small, large))
    return summarise(idle, after_small, after_large, small_s, large_s, static_s, identical)


def summarise(
    idle: dict[str, int],
    after_small: dict[str, int],
    after_large: dict[str, int],
    small_s: float,
    large_s: float,
    static_s: float,
    identical: bool,
) -> dict[str, Any]:
    mib_s = LARGE_MIB / large_s
    static_mib_s = LARGE_MIB / static_s
    return {
        "large_mib": LARGE_MIB,
        "chunk_mib": CHUNK_BYTES // MIB,
        "web_rss_idle_mib": round(idle["VmRSS"] / 1024, 1),
        "web_peak_rss_after_10mib_mib": round(after_small["VmHWM"] / 1024, 1),
        "web_peak_rss_after_large_mib": round(after_large["VmHWM"] / 1024, 1),
        "peak_growth_large_vs_10mib_mib": round((after_large["VmHWM"] - after_small["VmHWM"]) / 1024, 1),
        "upload_10mib_s": round(small_s, 2),
        "upload_large_s": round(large_s, 1),
        "upload_mib_s": round(mib_s, 1),
        "nginx_static_download_mib_s": round(static_mib_s, 1),
        "upload_over_static": round(mib_s / static_mib_s, 3),
        "byte_identical": identical,
    }  # fmt: skip


def report(figures: dict[str, Any]) -> None:
    large = f"{figures['large_mib']} MiB"
    rows = [
        ("web worker RSS, idle", f"{figures['web_rss_idle_mib']} MiB"),
        ("web worker peak RSS after a 10 MiB upload", f"{figures['web_peak_rss_after_10mib_mib']} MiB"),
        (f"web worker peak RSS after a {large} upload", f"{figures['web_peak_rss_after_large_mib']} MiB"),
        ("peak growth, large vs 10 MiB", f"{figures['peak_growth_large_vs_10mib_mib']} MiB"),
        (f"tus upload of {large} through nginx", f"{figures['upload_large_s']} s, {figures['upload_mib_s']} MiB/s"),
        (f"nginx static download of {large}", f"{figures['nginx_static_download_mib_s']} MiB/s"),
        ("upload / static throughput", f"{figures['upload_over_static']}"),
        ("assembled files byte-identical", str(figures["byte_identical"])),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(json.dumps(figures))


def main() -> int:
    procs = Processes()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as folder:
        try:
            figures = run(Path(folder), procs)
        finally:
            procs.stop_all()
    report(figures)
    return 0 if figures["byte_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
