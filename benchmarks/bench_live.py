"""Live output benchmark: serving the live playlists, playout CPU, and a new viewer's first frame.

Everything runs in a temporary directory (SQLite database, media, nginx files) on free ports, with
the real processes: the demo library is transcoded through the real pipeline (``seed_demo``; Celery
tasks run eagerly in every process of the run, and the cache is Redis database 13), the channel's schedule is built, and the real ``playout`` command
publishes the live window. Then:

(a) nginx (``scripts/nginx-conf.sh``) serving ``/live/<slug>/<rung>/index.m3u8`` from disk, with
    its headers (CORS, Cache-Control);
(c) the same nginx serving a plain static copy of the same bytes from an ordinary prefix
    location, with no header added;
(b) the production web server (the Procfile's ``web:`` command: gunicorn with uvicorn workers,
    ``config.asgi.application``) serving the same playlist: its ASGI front
    (``broadcasting.delivery.asgi``) answers from memory, per sequence, before Django;
(d) the same web server answering a bare async Django view that returns the same bytes
    (``benchmarks/bench_urls.py``), through Django's middleware.

Throughput: ``wrk -t2 -c200`` for 10 s on each, as two 5-s halves in the order a c c a, b d d b
(so a drift in the load of a shared machine weighs on both alike); ratios a/c (target >= 0.9)
and b/d (target >= 0.8).
Latency at a fixed rate (1,500 req/s) for (a) and (b): target p99 < 50 ms. Playout CPU per channel
over 10 segments, with 1 channel then with 4 (three copies of the demo channel); the playout's
log says how many publishing rounds it made meanwhile, so the CPU is also given per channel and
round, and projected at one round per segment. A new viewer's
time to the first decoded frame with ffmpeg through nginx: median of 5 (target < 2 s).

wrk, nginx and the web server share this machine's CPUs, so absolute figures depend on it; the
ratios compare servers measured in the same conditions.

Usage: ``.venv/bin/python benchmarks/bench_live.py``. Installs wrk with apt when missing.
"""

import functools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SLUG = "carillon-chartres"  # the demo channel (playlists.demo)
EXTRA_CHANNELS = 3
THREADS, CONNECTIONS, DURATION_S = 2, 200, 10
RATE, PACED_CONNECTIONS = 1500, 30
SEGMENT_S = 4.8
CPU_SEGMENTS = 10  # 48 s
TTFF_RUNS = 5
DRAIN_S = 2.0  # pause between load runs
BENCH_REDIS_URL = "redis://127.0.0.1:6379/13"  # the cache, apart from make run's (database 0)
TARGETS = {"a_over_c": 0.9, "b_over_d": 0.8, "p99_ms": 50.0, "ttff_s": 2.0}

# Pacing with wrk's delay(): each connection waits about ``interval`` ms after each response
# before sending the next request. This is a closed loop: when the server stalls, requests are
# not sent rather than queued, so the latencies omit coordinated omission. The figures are only
# meaningful well below the server's capacity (which the throughput runs measure).
PACING_LUA = """
local interval = {interval}
function init(args)
  math.randomseed(math.floor(os.clock() * 1000000) + os.time())
end
function delay()
  return interval * (0.8 + 0.4 * math.random())
end
"""


@dataclass
class Processes:
    """The long-running processes of the run, stopped together (process groups)."""

    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], *, env: dict[str, str], log: Path) -> int:
        handle = log.open("wb")
        self.logs.append(handle)
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=handle,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.running[name] = process
        return process.pid

    def check(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")

    def stop_all(self) -> None:
        for process in self.running.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.running.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for handle in self.logs:
            handle.close()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


# --- Set-up -------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bench_env(tmp: Path, *, web_port: int, nginx_port: int, bare: Path) -> dict[str, str]:
    """The environment of every process of the run: all state under ``tmp``."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CARILLON_", "CELERY_", "AWS_"))
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'carillon.sqlite3'}",
        "CARILLON_MEDIA_ROOT": str(tmp / "media"),
        "CARILLON_WORK_DIR": str(tmp / "work"),
        "CARILLON_VAR": str(tmp / "var"),
        "CARILLON_PORT": str(nginx_port),
        "CARILLON_WEB_PORT": str(web_port),
        "CARILLON_BENCH_BARE_FILE": str(bare),
        # Celery tasks (transcodes, schedule rebuilds after a rule change) run in the process
        # that sends them: nothing reaches a broker that another installation's workers read.
        "CARILLON_BENCH_EAGER": "1",
        "REDIS_URL": BENCH_REDIS_URL,
        "DJANGO_SUPERUSER_PASSWORD": "bench-only-not-secret",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def seed_channel(env: dict[str, str]) -> float:
    """The demo channel with its library transcoded and its schedule built; seconds it took."""
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "createsuperuser", "--noinput", "--username", "bench", "--email", "b@example.org")
    manage(env, "seed_demo")
    manage(env, "shell", "-c", TRANSCODE)
    manage(env, "build_schedule", "--hours", "2")
    return time.monotonic() - started


# The demo library's jobs run here, in one process: their Celery messages (``send_task``, which
# eager mode does not run) reach a broker that no worker of this run reads.
TRANSCODE = """
from broadcasting.media.transcoding import transcode_job_run
from broadcasting.models import Asset, TranscodeJob
for job in TranscodeJob.objects.filter(state="queued").order_by("pk"):
    transcode_job_run(job_id=job.pk, worker="bench-live")
assert not Asset.objects.exclude(state="ready").exists(), "a transcode failed"
"""


COPY_CHANNELS = """
from playlists.models import Channel
source = Channel.objects.get(slug={slug!r})
blocks = list(source.blocks.all())
for i in range(1, {count} + 1):
    copy = Channel.objects.get(pk=source.pk)
    copy.pk = None
    copy.slug, copy.name, copy.number = f"bench-{{i}}", f"Bench {{i}}", source.number + 100 + i
    copy.save()
    for block in blocks:
        block.pk = None
        block.channel = copy
        block.save()
"""


def add_channels(env: dict[str, str], count: int) -> list[str]:
    manage(env, "shell", "-c", COPY_CHANNELS.format(slug=SLUG, count=count))
    manage(env, "build_schedule", "--hours", "2")
    return [f"bench-{i}" for i in range(1, count + 1)]


def wait_for(check: Callable[[], bool], *, what: str, timeout: float, procs: Processes) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        procs.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def answers(port: int, path: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return conn.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def top_rung(live: Path) -> str:
    """The first variant of the channel's master playlist (its highest rung)."""
    lines = (live / "master.m3u8").read_text().splitlines()
    return next(line for line in lines if line and not line.startswith("#")).split("/")[0]


def nginx_config(env: dict[str, str], static_dir: Path) -> str:
    """The project's nginx configuration plus the baseline: an ordinary prefix location serving
    a folder as plain files (the server's other locations, regex ones included, still apply)."""
    extra = f"    location /bench/static/ {{ alias {static_dir}/; }}"
    result = subprocess.run(
        [str(ROOT / "scripts" / "nginx-conf.sh")], env={**env, "CARILLON_NGINX_EXTRA": extra},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def web_command() -> str:
    """The Procfile's ``web:`` command, run by a shell as honcho does."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise RuntimeError("no web: line in the Procfile")


# --- Measurements -------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def run_wrk(
    wrk: str, url: str, *, connections: int, seconds: int = DURATION_S, script: Path | None = None
) -> dict[str, Any]:
    # A long timeout, so slow answers count as answers rather than as errors.
    argv = [wrk, f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    argv += ["--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    load = os.getloadavg()[0]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    figures: dict[str, Any] = {
        "rps": round(float(rate.group(1)) if rate else 0.0),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "load_before": round(load, 1),
    }
    for pct in ("50", "99"):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+(?:us|ms|s))\s*$", out, re.MULTILINE)
        figures[f"p{pct}_ms"] = round(_ms(found.group(1)), 2) if found else None
    return figures


def pacing_script(folder: Path) -> Path:
    interval = 1000.0 * PACED_CONNECTIONS / RATE * 0.95  # 5 % for the response time itself
    script = folder / "paced.lua"
    script.write_text(PACING_LUA.format(interval=f"{interval:.3f}"))
    return script


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


_PUBLISHED = re.compile(r"^(\S+) seq=\d+ published=(\d+) ", re.MULTILINE)


def playout_cpu(pid: int, channels: int, log: Path) -> dict[str, Any]:
    """CPU of the playout over ``CPU_SEGMENTS`` segments, and what it did meanwhile (from its
    log: publishing rounds and segments published per channel)."""
    wall = CPU_SEGMENTS * SEGMENT_S
    offset = log.stat().st_size
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(wall)
    used, elapsed = cpu_seconds(pid) - before, time.monotonic() - started
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    rounds: dict[str, list[int]] = {}
    for slug, published in _PUBLISHED.findall(text):
        rounds.setdefault(slug, []).append(int(published))
    channel_rounds = sum(len(counts) for counts in rounds.values())
    per_round = used / max(channel_rounds, 1)
    return {
        "channels": channels, "wall_s": round(elapsed, 1), "cpu_s": round(used, 2),
        "cpu_pct_per_channel": round(100 * used / elapsed / channels, 2),
        "cpu_ms_per_channel_round": round(1000 * per_round, 1),
        "pct_per_channel_at_one_round_per_segment": round(100 * per_round / SEGMENT_S, 2),
        "rounds": {slug: len(counts) for slug, counts in rounds.items()},
        "segments_published": {slug: sum(counts) for slug, counts in rounds.items()},
        "errors": text.count("playout failed"),
    }  # fmt: skip


def first_frame_seconds(url: str) -> float:
    started = time.monotonic()
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", url, "-map", "0:v:0",
         "-frames:v", "1", "-f", "null", "-"],
        check=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    return time.monotonic() - started


def time_to_first_frame(url: str) -> dict[str, Any]:
    runs = [round(first_frame_seconds(url), 2) for _ in range(TTFF_RUNS)]
    return {"median_s": statistics.median(runs), "runs_s": runs}


# --- The run ------------------------------------------------------------------------------------


@dataclass
class Stage:
    """Ports and paths of a running stage."""

    tmp: Path
    env: dict[str, str]
    nginx_port: int
    web_port: int
    rung: str
    playout_pid: int

    @property
    def playout_log(self) -> Path:
        return self.tmp / "logs" / "playout.log"

    def live(self, slug: str = SLUG) -> Path:
        return self.tmp / "media" / "public" / "live" / slug


@contextmanager
def stage(tmp: Path, procs: Processes) -> Iterator[Stage]:
    """Seed the channel, start playout, web server and nginx; yield once the playlist is live."""
    web_port, nginx_port = free_port(), free_port()
    bare = tmp / "bare.m3u8"
    env = bench_env(tmp, web_port=web_port, nginx_port=nginx_port, bare=bare)
    for folder in ("var/nginx", "media/public", "media/private", "work", "logs"):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
    print(f"set-up: demo library transcoded and scheduled in {seed_channel(env):.0f} s", flush=True)
    pid = procs.start(
        "playout", [PYTHON, "manage.py", "playout"], env=env, log=tmp / "logs" / "playout.log"
    )
    live = tmp / "media" / "public" / "live" / SLUG
    wait_for(lambda: (live / "master.m3u8").exists(), what="playout", timeout=60, procs=procs)
    rung = top_rung(live)
    wait_for(
        lambda: (live / rung / "index.m3u8").exists(), what="playlist", timeout=30, procs=procs
    )
    shutil.copyfile(live / rung / "index.m3u8", bare)
    (tmp / "static").mkdir()
    shutil.copyfile(bare, tmp / "static" / "index.m3u8")
    conf = tmp / "var" / "nginx" / "nginx.conf"
    conf.write_text(nginx_config(env, tmp / "static"))
    nginx = ["nginx", "-p", str(tmp / "var" / "nginx"), "-c", str(conf), "-g", "daemon off;"]
    procs.start("nginx", nginx, env=env, log=tmp / "logs" / "nginx.log")
    web = ["bash", "-c", f"exec {web_command()}"]
    procs.start("web", web, env=env, log=tmp / "logs" / "web.log")
    for port, path in ((nginx_port, "/bench/static/index.m3u8"), (web_port, "/bench/bare.m3u8")):
        ready = functools.partial(answers, port, path)
        wait_for(ready, what=f"port {port}", timeout=60, procs=procs)
    yield Stage(tmp, env, nginx_port, web_port, rung, pid)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
        data: bytes = response.read()
        return data


def same_bytes(nginx_url: str, web_url: str) -> bool:
    """The web view answers what nginx serves (retried across a segment boundary)."""
    for _ in range(3):
        if fetch(nginx_url) == fetch(web_url):
            return True
        time.sleep(0.5)
    return False


def combined(halves: list[dict[str, Any]]) -> dict[str, Any]:
    """Two halves of one server's run as one figure: requests summed, worst p99, mean p50."""
    p50s = [h["p50_ms"] for h in halves if h["p50_ms"] is not None]
    p99s = [h["p99_ms"] for h in halves if h["p99_ms"] is not None]
    return {
        "rps": round(sum(h["rps"] for h in halves) / len(halves)),
        "requests": sum(h["requests"] for h in halves),
        "non_2xx": sum(h["non_2xx"] for h in halves),
        "socket_errors": "; ".join(h["socket_errors"] for h in halves if h["socket_errors"]),
        "load_before": max(h["load_before"] for h in halves),
        "p50_ms": round(statistics.mean(p50s), 2) if p50s else None,
        "p99_ms": max(p99s) if p99s else None,
    }


def throughput(wrk: str, st: Stage) -> dict[str, dict[str, Any]]:
    """Each pair of servers in the order x y y x, two halves each, so that a drift in the
    machine's load (it may be shared) weighs on both alike; a pause lets a server drain the
    requests the previous run left queued."""
    media = f"/live/{SLUG}/{st.rung}/index.m3u8"
    nginx_url = f"http://127.0.0.1:{st.nginx_port}{media}"
    if not same_bytes(nginx_url, f"http://127.0.0.1:{st.web_port}{media}"):
        raise RuntimeError("the web view and nginx disagree on the playlist")
    urls = {
        "a": nginx_url,
        "c": f"http://127.0.0.1:{st.nginx_port}/bench/static/index.m3u8",
        "b": f"http://127.0.0.1:{st.web_port}{media}",
        "d": f"http://127.0.0.1:{st.web_port}/bench/bare.m3u8",
    }
    halves: dict[str, list[dict[str, Any]]] = {key: [] for key in urls}
    for key in ("a", "c", "c", "a", "b", "d", "d", "b"):
        halves[key].append(
            run_wrk(wrk, urls[key], connections=CONNECTIONS, seconds=DURATION_S // 2)
        )
        time.sleep(DRAIN_S)
    return {key: combined(runs) for key, runs in halves.items()}


def paced(wrk: str, st: Stage) -> dict[str, dict[str, Any]]:
    script = pacing_script(st.tmp)
    media = f"/live/{SLUG}/{st.rung}/index.m3u8"
    return {
        key: run_wrk(wrk, f"http://127.0.0.1:{port}{media}", connections=PACED_CONNECTIONS,
                     script=script)
        for key, port in (("a", st.nginx_port), ("b", st.web_port))
    }  # fmt: skip


def benchmark() -> dict[str, Any]:
    wrk = ensure_wrk()
    procs = Processes()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        try:
            with stage(Path(folder), procs) as st:
                time.sleep(SEGMENT_S)  # let the playout's start-up window settle
                ttff = time_to_first_frame(
                    f"http://127.0.0.1:{st.nginx_port}/live/{SLUG}/master.m3u8"
                )
                cpu_one = playout_cpu(st.playout_pid, 1, st.playout_log)
                rates = throughput(wrk, st)
                latency = paced(wrk, st)
                procs.check()
                slugs = add_channels(st.env, EXTRA_CHANNELS)
                for slug in slugs:
                    published = (st.live(slug) / "master.m3u8").exists
                    try:
                        wait_for(published, what=f"channel {slug}", timeout=60, procs=procs)
                    except RuntimeError:
                        print(Path(st.playout_log).read_text()[-4000:], file=sys.stderr)
                        raise
                time.sleep(2 * SEGMENT_S)
                cpu_four = playout_cpu(st.playout_pid, 1 + EXTRA_CHANNELS, st.playout_log)
                procs.check()
                playlist_bytes = (st.tmp / "bare.m3u8").stat().st_size
                rung = st.rung
        finally:
            procs.stop_all()
    return summarise(rates, latency, [cpu_one, cpu_four], ttff, rung, playlist_bytes)


def summarise(
    rates: dict[str, dict[str, Any]],
    latency: dict[str, dict[str, Any]],
    cpu: list[dict[str, Any]],
    ttff: dict[str, Any],
    rung: str,
    playlist_bytes: int,
) -> dict[str, Any]:
    a_c = round(rates["a"]["rps"] / max(rates["c"]["rps"], 1), 3)
    b_d = round(rates["b"]["rps"] / max(rates["d"]["rps"], 1), 3)
    p99 = max(latency[k]["p99_ms"] or 0.0 for k in latency)
    summary: dict[str, Any] = {
        "rung": rung, "playlist_bytes": playlist_bytes, "a_over_c": a_c, "b_over_d": b_d,
        "throughput": rates, "paced": latency, "playout_cpu": cpu, "first_frame": ttff,
    }  # fmt: skip
    summary["targets_met"] = (
        a_c >= TARGETS["a_over_c"]
        and b_d >= TARGETS["b_over_d"]
        and p99 < TARGETS["p99_ms"]
        and ttff["median_s"] < TARGETS["ttff_s"]
        and all(r["non_2xx"] == 0 for r in [*rates.values(), *latency.values()])
    )
    return summary


NAMES = {
    "a": "(a) nginx, live playlist",
    "c": "(c) nginx, static copy",
    "b": "(b) web, views_live",
    "d": "(d) web, bare view",
}


def print_report(s: dict[str, Any]) -> None:
    print(f"playlist: rung {s['rung']}, {s['playlist_bytes']} bytes; "
          f"wrk -t{THREADS} -c{CONNECTIONS}, {DURATION_S} s per server as two halves (a c c a, "
          "b d d b)")  # fmt: skip
    header = f"{'server':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'load':>5}"
    print(header)
    print("-" * len(header))
    for key in ("a", "c", "b", "d"):
        r = s["throughput"][key]
        print(
            f"{NAMES[key]:<28} {r['rps']:>9} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['non_2xx']:>8}"
            f" {r['load_before']:>5}"
        )
    print(f"a/c = {s['a_over_c']:.3f} (target >= {TARGETS['a_over_c']}), "
          f"b/d = {s['b_over_d']:.3f} (target >= {TARGETS['b_over_d']})")  # fmt: skip
    print(f"\npaced at {RATE} req/s ({PACED_CONNECTIONS} connections, wrk delay(); "
          "closed loop: no coordinated-omission correction)")  # fmt: skip
    for key, r in s["paced"].items():
        print(f"{NAMES[key]:<28} achieved {r['rps']:>6} req/s  p50 {r['p50_ms']} ms  "
              f"p99 {r['p99_ms']} ms (target < {TARGETS['p99_ms']:.0f})  non-2xx {r['non_2xx']}")  # fmt: skip
    print(f"load = the machine's 1-min load average before the run ({os.cpu_count()} CPUs)")
    print(f"\nplayout CPU (user+sys over {CPU_SEGMENTS} segments):")
    for c in s["playout_cpu"]:
        print(
            f"  {c['channels']} channel(s): {c['cpu_s']} CPU s in {c['wall_s']} s = "
            f"{c['cpu_pct_per_channel']} % of a core per channel"
        )
        print(
            f"    publishing rounds {c['rounds']}, segments published "
            f"{c['segments_published']}, errors {c['errors']}"
        )
        print(f"    {c['cpu_ms_per_channel_round']} CPU ms per channel and round: "
              f"{c['pct_per_channel_at_one_round_per_segment']} % of a core per channel at one "
              f"round per {SEGMENT_S} s segment")  # fmt: skip
    f = s["first_frame"]
    print(f"\nnew viewer, first decoded frame via nginx: median {f['median_s']} s "
          f"(target < {TARGETS['ttff_s']:.0f}), runs {f['runs_s']}")  # fmt: skip
    print(f"targets met: {s['targets_met']}")


def main() -> int:
    summary = benchmark()
    print_report(summary)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
