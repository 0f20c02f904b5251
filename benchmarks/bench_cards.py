"""Card latency: from a car park's NGSI-LD notification to its card ready to air.

In a throwaway SQLite database and media folder (the local settings, as ``make run``), with a
real Celery worker consuming the ``cards`` queue (Redis db 7 as its broker, flushed first): a
notification of "Parking Cathédrale" with a new count of free spaces goes through
``payload_ingest`` (the adapter, the upsert) and ``cards_refresh_enqueue`` (the message to the
cards queue); the worker draws the card (Pillow), makes its clip (ffmpeg) and imports it, then
transcodes it into the channel's whole ladder (its job routed to the same queue). The clock
stops when ``card_freshest`` returns a card that shows the new count: what the playout would
air. Ten notifications; the throttle (once a minute per card) is reset before each, since it is
a policy, not a cost. Reports the median and the maximum.

Usage: ``.venv/bin/python benchmarks/bench_cards.py [--runs 10]``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/7"
TARGET_SECONDS = 30.0  # "well under a minute"

CHILD = """
import json, statistics, sys, time
import datetime as dt
from django.core.cache import cache
from django.utils import timezone
from broadcasting.media.selectors import card_freshest
from city_feeds.cards.services import cards_refresh_enqueue
from city_feeds.models import FeedSource
from city_feeds.services import payload_ingest

RUNS, OUT = int(sys.argv[1]), sys.argv[2]

def notification(free, now):
    entity = {
        "id": "urn:ngsi-ld:OffStreetParking:chartres-cathedrale",
        "type": "OffStreetParking",
        "name": {"type": "Property", "value": "Parking Cathédrale"},
        "availableSpotNumber": {"type": "Property", "value": free,
                                "observedAt": now.isoformat()},
        "totalSpotNumber": {"type": "Property", "value": 400},
        "location": {"type": "GeoProperty",
                     "value": {"type": "Point", "coordinates": [1.4853, 48.4489]}},
    }
    return json.dumps({"id": f"urn:ngsi-ld:Notification:bench-{free}", "type": "Notification",
                       "notifiedAt": now.isoformat(), "data": [entity]}).encode()

source = FeedSource.objects.create(name="Parkings de Chartres", slug="parkings",
                                   standard="ngsi-ld", delivery="push", ttl_seconds=900)
latencies = []
for run in range(RUNS):
    free = 100 + run
    cache.delete("carillon:cards:made:parking")
    started = time.monotonic()
    payload_ingest(source=source, data=notification(free, timezone.now()))
    cards_refresh_enqueue(kinds={"parking"})  # sent at once: no transaction is open
    while True:
        card = card_freshest(category="parking", now=timezone.now())
        if card is not None and f" {free} " in card.description.replace("\\u202f", " "):
            break
        if time.monotonic() - started > 300:
            raise SystemExit(f"no card after 300 s (run {run})")
        time.sleep(0.05)
    latencies.append(time.monotonic() - started)
    print(f"run {run}: {latencies[-1]:.2f} s (asset {card.pk})", flush=True)
Path = __import__("pathlib").Path
Path(OUT).write_text(json.dumps(latencies))
"""


def child_env(tmp: Path) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CARILLON_", "CELERY_", "AWS_", "REDIS_"))
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'carillon.sqlite3'}",
        "CARILLON_MEDIA_ROOT": str(tmp / "media"),
        "CARILLON_WORK_DIR": str(tmp / "work"),
        "CARILLON_VAR": str(tmp / "var"),
        "REDIS_URL": BROKER,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BROKER,
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()


def run(runs: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="carillon-bench-cards-") as folder:
        tmp = Path(folder)
        env = child_env(tmp)
        flush_broker()
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        celery = str(Path(sys.executable).with_name("celery"))
        worker = subprocess.Popen(
            [celery, "-A", "config.celery_app", "worker", "-Q", "cards", "--concurrency", "2",
             "--prefetch-multiplier", "1", "-n", "bench-cards@%h", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "worker.log").open("w"),
        )  # fmt: skip
        try:
            out = tmp / "latencies.json"
            script = CHILD.replace("int(sys.argv[1])", str(runs)).replace(
                "sys.argv[2]", repr(str(out))
            )
            manage(env, "shell", "-c", script)
            return [float(x) for x in json.loads(out.read_text())]
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            flush_broker()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    latencies = run(options.runs)
    median, worst = statistics.median(latencies), max(latencies)
    print(f"{'runs':>4} {'median s':>9} {'max s':>7}  target")
    print(f"{len(latencies):>4} {median:9.2f} {worst:7.2f}  max < {TARGET_SECONDS:.0f}")
    summary = {
        "runs": len(latencies),
        "median_seconds": round(median, 2),
        "max_seconds": round(worst, 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
