"""Benchmark of the timeline builder (issue 4): 7 days, 20 blocks, 5 recurring events.

Standalone (no Django). Builds the same week with the builder's indexed rotation pools and with
the naive baseline (``ScanPool``: the same builder, but every rotation pick scans the whole pool),
for libraries of 1,000, 10,000 and 100,000 assets; median of 5 runs each. The week crosses the
autumn DST change. Prints a table, then one JSON line. Target: < 1 s for 7 days x 10,000 assets.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playlists.rules import (  # noqa: E402
    WEEKDAYS,
    Block,
    CardSlotRule,
    ChannelRules,
    Event,
    FillerPolicy,
    LibraryAsset,
    PlaylistRule,
    RotationRule,
)
from playlists.scheduling import (  # noqa: E402
    IndexedPool,
    PoolFactory,
    ScanPool,
    build_timeline,
    timeline_problems,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2026, 10, 21, 22, tzinfo=UTC)  # Thursday 00:00 in Paris; the week has 169 h
END = START + timedelta(days=7, hours=1)
SIZES = (1_000, 10_000, 100_000)
RUNS = 5
CATEGORIES = ("news", "sport", "culture", "kids", "music", "city", "debate", "history", "food")


def library(size: int) -> list[LibraryAsset]:
    """A deterministic library: 90% programmes (30 s to 40 min), idents and fillers."""
    rng = random.Random(size)
    kinds = ["programme"] * 18 + ["ident", "filler"]
    return [
        LibraryAsset(
            id=i,
            title=f"asset {i}",
            duration_ms=4800 * rng.randint(7, 500),
            kind=rng.choice(kinds),
            category=rng.choice(CATEGORIES),
            origin=rng.choice(("resident", "city")),
            created_at=EPOCH + timedelta(days=rng.uniform(-400, 290)),
        )
        for i in range(1, size + 1)
    ]


def channel(assets: list[LibraryAsset]) -> ChannelRules:
    """20 blocks over the day (overlapping, with priorities) and 5 recurring events."""
    idents = tuple(a.id for a in assets if a.kind == "ident" and a.duration_ms <= 48_000)[:6]
    fillers = tuple(a.id for a in assets if a.kind == "filler" and a.duration_ms <= 96_000)[:8]
    policy = FillerPolicy(
        ident_ids=idents,
        preroll_ids=idents[:2],
        interstitial_ids=fillers,
        card_slots=(CardSlotRule(category="parking", length_ms=9600, every_n_items=3),),
        ident_every_n_items=2,
    )
    programmes = [a.id for a in assets if a.kind == "programme"]
    return ChannelRules(
        channel_id=1,
        tz="Europe/Paris",
        epoch=EPOCH,
        slate_id=None,
        blocks=tuple(block(n, programmes, policy) for n in range(20)),
        events=tuple(event(n, programmes) for n in range(5)),
        default_fillers=policy,
    )


def block(n: int, programmes: list[int], policy: FillerPolicy) -> Block:
    """Block ``n``: 12 weekday dayparts of 2 h, 6 weekend ones of 4 h, 2 overlapping specials."""
    if n < 12:
        days, start, end = frozenset(WEEKDAYS[:5]), time(2 * n), time((2 * n + 2) % 24)
    elif n < 18:
        days, start, end = frozenset(WEEKDAYS[5:]), time(4 * (n - 12)), time((4 * (n - 11)) % 24)
    else:
        days, start, end = frozenset({"wed", "sat"}), time(14 + n - 18, 30), time(16 + n - 18)
    content: RotationRule | PlaylistRule = RotationRule(
        categories=frozenset(CATEGORIES[n % 9 : n % 9 + 3]),
        weights=(("news", 2.0), ("kids", 0.5)),
        no_repeat_hours=48,
        max_plays_per_day=2,
        fresh_boost_days=30,
        fresh_boost=3.0,
    )
    if n % 10 == 9:
        content = PlaylistRule(asset_ids=tuple(programmes[n * 10 : n * 10 + 12]))
    priority = 5 if n >= 18 else 0
    return Block(
        id=n + 1,
        name=f"block {n}",
        day_types=days,
        start=start,
        end=end,
        priority=priority,
        content=content,
        fillers=policy,
    )


def event(n: int, programmes: list[int]) -> Event:
    """Event ``n``: daily news, a weekly match, council meetings, ... (hard and soft)."""
    rrules = [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=SA",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "FREQ=DAILY",
        "FREQ=WEEKLY",
    ]
    return Event(
        id=n + 1,
        title=f"event {n}",
        dtstart_local=datetime(2026, 9, 1, 12 + 2 * n, 7 * n),  # noqa: DTZ001 (local time)
        rrule=rrules[n],
        asset_ids=tuple(programmes[-(n + 1) * 2 :][:2]),
        hard=n % 2 == 0,
    )


def median_ms(
    rules: ChannelRules, assets: list[LibraryAsset], factory: PoolFactory
) -> tuple[float, int]:
    """Median build time in ms over ``RUNS`` runs, and the number of entries (checked)."""
    times, count = [], 0
    for run in range(RUNS):
        began = clock.perf_counter()
        entries = build_timeline(
            rules=rules, library=assets, start=START, end=END, seed=run, pool_factory=factory
        )
        times.append((clock.perf_counter() - began) * 1000)
        problems = timeline_problems(entries, START, END, EPOCH, rules.segment_ms)
        if problems:
            raise SystemExit(f"invalid timeline: {problems[:3]}")
        count = len(entries)
    return statistics.median(times), count


def main() -> None:
    """Run every size with both strategies; print the table and the JSON summary."""
    print(
        f"timeline build, 7 days (+1 h, across the DST change), 20 blocks, 5 events, median of {RUNS}"
    )
    print(
        f"{'assets':>8} | {'indexed ms':>10} | {'naive scan ms':>13} | {'speed-up':>8} | {'entries':>7}"
    )
    summary: dict[str, float] = {}
    for size in SIZES:
        assets = library(size)
        rules = channel(assets)
        fast, entries = median_ms(rules, assets, IndexedPool)
        slow, _ = median_ms(rules, assets, ScanPool)
        print(f"{size:>8} | {fast:>10.1f} | {slow:>13.1f} | {slow / fast:>7.1f}x | {entries:>7}")
        summary[f"indexed_ms_{size}"] = round(fast, 1)
        summary[f"naive_ms_{size}"] = round(slow, 1)
    target = summary["indexed_ms_10000"] < 1000
    print(f"target 7 days x 10,000 assets < 1000 ms: {'met' if target else 'MISSED'}")
    print(
        json.dumps({"benchmark": "schedule_7d", **summary, "target_ms": 1000, "target_met": target})
    )


if __name__ == "__main__":
    main()
