"""Push throughput: NGSI-LD notifications accepted per second with 50 concurrent senders.

In a temporary folder (SQLite database, as ``make run``): one NGSI-LD source pushed to by an
Orion-like broker (its token in ``X-Carillon-Token``), and the production web server (gunicorn
with uvicorn workers, ``WEB_CONCURRENCY`` = 2, as the Procfile runs it). For ``SECONDS``
seconds, 50 threads each post a car-park notification (one of 20 car parks, so items are
updated, not only created) and count the ``202`` answers; side by side, in the same run, the
same 50 threads on ``/healthz`` (a request that touches no database) give the server's own
ceiling. Reported: accepted notifications per second, latency median and 95th percentile,
errors.

Usage: ``.venv/bin/python benchmarks/bench_push.py [--seconds 15]``.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SENDERS = 50
SOURCE = """
from city_feeds.models import FeedSource
source, _ = FeedSource.objects.update_or_create(
    slug="bench-parkings",
    defaults={"name": "Bench", "standard": "ngsi-ld", "delivery": "push", "ttl_seconds": 600},
)
print(source.push_token)
"""


def notification(number: int) -> bytes:
    park = number % 20
    return json.dumps(
        {
            "id": f"urn:ngsi-ld:Notification:{number}",
            "type": "Notification",
            "subscriptionId": "urn:ngsi-ld:Subscription:bench",
            "notifiedAt": "2026-11-30T10:00:00Z",
            "data": [
                {
                    "id": f"urn:ngsi-ld:OffStreetParking:chartres-{park}",
                    "type": "OffStreetParking",
                    "name": {"type": "Property", "value": f"Parking {park}"},
                    "availableSpotNumber": {
                        "type": "Property",
                        "value": number % 300,
                        "observedAt": "2026-11-30T10:00:00Z",
                    },
                    "totalSpotNumber": {"type": "Property", "value": 300},
                    "location": {
                        "type": "GeoProperty",
                        "value": {"type": "Point", "coordinates": [1.4877, 48.4479]},
                    },
                }
            ],
        }
    ).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_env(tmp: Path) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CARILLON_", "CELERY_", "AWS_"))
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "DATABASE_URL": f"sqlite:///{tmp / 'carillon.sqlite3'}",
        "CARILLON_MEDIA_ROOT": str(tmp / "media"),
        "CARILLON_VAR": str(tmp / "var"),
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "PYTHONPATH": str(ROOT),
    }


def hammer(
    method: str, url: str, seconds: float, headers: dict[str, str], body: bool
) -> tuple[list[float], int, int]:
    """``SENDERS`` threads for ``seconds``: latencies of the good answers, good, errors."""
    latencies: list[float] = []
    counts = {"good": 0, "bad": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def sender(offset: int) -> None:
        session, number = requests.Session(), offset
        while time.monotonic() < deadline:
            number += SENDERS
            started = time.monotonic()
            try:
                answer = session.request(
                    method, url, headers=headers, timeout=30,
                    data=notification(number) if body else None,
                )  # fmt: skip
                good = answer.status_code in (200, 202)
            except requests.RequestException:
                good = False
            took = time.monotonic() - started
            with lock:
                counts["good" if good else "bad"] += 1
                if good:
                    latencies.append(took)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, counts["good"], counts["bad"]


def summary(name: str, seconds: float, result: tuple[list[float], int, int]) -> dict[str, float]:
    latencies, good, bad = result
    ordered = sorted(latencies) or [0.0]
    figures = {
        "per_second": round(good / seconds, 1),
        "latency_median_ms": round(statistics.median(ordered) * 1000, 1),
        "latency_p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "errors": bad,
    }
    print(
        f"{name:<34} {figures['per_second']:>8.1f}/s  median {figures['latency_median_ms']:>7.1f} ms"
        f"  p95 {figures['latency_p95_ms']:>7.1f} ms  errors {bad}"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-push-") as folder:
        tmp = Path(folder)
        env = bench_env(tmp)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        token = subprocess.run(
            [*manage, "shell", "-c", SOURCE], cwd=ROOT, env=env, check=True, capture_output=True,
            text=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.asgi:application",
             "-k", "uvicorn.workers.UvicornWorker", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=(tmp / "web.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the web server did not start")
                time.sleep(0.3)
            headers = {"X-Carillon-Token": token, "Content-Type": "application/ld+json"}
            print(f"{SENDERS} concurrent senders, {options.seconds:.0f} s each")
            pushed = summary(
                "NGSI-LD notifications accepted",
                options.seconds,
                hammer("POST", f"{base}/api/v1/feeds/bench-parkings/push", options.seconds,
                       headers, body=True),
            )  # fmt: skip
            ceiling = summary(
                "baseline: GET /healthz",
                options.seconds,
                hammer("GET", f"{base}/healthz", options.seconds, {}, body=False),
            )
        finally:
            web.terminate()
            web.wait(timeout=30)
    print(json.dumps({"push": pushed, "healthz": ceiling}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
