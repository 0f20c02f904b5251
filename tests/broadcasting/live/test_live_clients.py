"""Live, in real time: the playout loop publishes the test channel while real clients watch it.

The test channel of ``test_playout`` (slate, then items of 2, 1, 2 and 2 segments back to back) is
re-timed so that its first item starts a few seconds from now. A background thread runs the
playout as production does (``publish_window`` at ``timezone.now()`` about every second) and the
public media are served over HTTP on loopback, as nginx would. Then:

- ffmpeg reads the live master playlist across 3 item boundaries: no warning, monotonic PTS/DTS,
  audio throughout, a duration matching the wall time it spent reading;
- hls.js in headless Chromium plays the live master through two boundaries: ``currentTime`` keeps
  advancing, no fatal error, no stall longer than one segment after the start.

Then the playout as it runs in production (``manage.py playout`` in its own process, its lease
in Redis) with three channels whose epochs are 0, 1.1 and 2.4 s apart, the first with stacked
overrides (a manual take-over, an alert over it, the take-over resumed, then the plan), the
second with an alert over its plan: ffmpeg reads the three at once, then hls.js plays them.
"""

import datetime as dt
import functools
import math
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
import pytest
from django.db import connection
from django.utils import timezone

from broadcasting.live.overrides import override_start
from broadcasting.live.playout import publish_window
from broadcasting.live.store import live_prefix
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import public_storage
from playlists.models import AsRunEntry, Channel
from tests.broadcasting.live.running import (
    PlayoutProcess,
    copy_on_epoch,
    database_env,
    only_on_air,
    retime,
    wait_until,
)
from tests.broadcasting.live.test_playout import (  # noqa: F401 - fixtures used by name
    RUNG,
    SEGMENT,
    SPEC,
    START,
    _stored_asset,
    channel,
    encoded,
)
from tests.broadcasting.live.test_tsrewrite import (
    FRAME_TICKS,
    MAX_AUDIO_GAP_TICKS,
    ffmpeg_warnings,
    non_monotonic,
    packets,
)
from tests.support import ROOT, QuietHTTPServer, launch_chromium

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.slow]

PERIOD = 1.0  # seconds between two runs of the playout loop
CLIENT_START_S = 30.0  # a client's start-up (process, first requests) on a busy machine
SEG_S = SPEC.segment_ms / 1000

PLAYER_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="/hls.min.js"></script></head>
<body><video id="v" muted playsinline width="640" height="360"></video>
<script>
  window.fatal = []; window.events = []; window.samples = [];
  const video = document.getElementById("v");
  const hls = new Hls();
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) window.fatal.push(data.details); });
  for (const name of ["waiting", "playing", "stalled"]) {
    video.addEventListener(name, () => window.events.push([name, performance.now(), video.currentTime]));
  }
  setInterval(() => {
    const date = hls.playingDate;
    window.samples.push([performance.now(), video.currentTime, date ? date.getTime() : null]);
  }, 250);
  hls.loadSource("/MASTER");
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
</script></body></html>
"""


class _LoggingHandler(SimpleHTTPRequestHandler):
    """Logs the paths requested (to ``requests``) instead of printing them."""

    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


class Playout:
    """The playout loop in a background thread: ``publish_window`` at wall clock every PERIOD."""

    def __init__(self, on_air: Channel) -> None:
        self.on_air = on_air
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.runs: list[tuple[float, int, float]] = []  # (wall clock, sequence, seconds taken)
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        try:
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    report = publish_window(channel=self.on_air, now=timezone.now())
                except Exception as error:  # noqa: BLE001 - reported by the test
                    self.errors.append(error)
                    return
                took = time.monotonic() - began
                self.runs.append((time.time(), report.sequence, took))
                self.stop.wait(max(0.0, PERIOD - took))
        finally:
            connection.close()

    def __enter__(self) -> "Playout":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def _live_sequence(on_air: Channel) -> int | None:
    """The last sequence listed by the published live media playlist (``None``: not yet)."""
    name = f"{live_prefix(on_air.slug)}/{RUNG.name}/index.m3u8"
    try:
        with public_storage().open(name, "rb") as handle:
            playlist = m3u8.loads(handle.read().decode())
    except (FileNotFoundError, OSError):
        return None  # being replaced right now
    if not playlist.segments:
        return None
    return int(playlist.media_sequence) + len(playlist.segments) - 1


def _wait_for_sequence(on_air: Channel, playout: Playout, sequence: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert not playout.errors, playout.errors
        found = _live_sequence(on_air)
        if found is not None and found >= sequence:
            return
        time.sleep(0.05)
    raise AssertionError(f"sequence {sequence} not listed after {timeout} s")


def _segments_fetched(requests: list[str]) -> list[int]:
    """The channel sequences of the live segments requested, in order of the first request."""
    found: list[int] = []
    for path in requests:
        name = path.rsplit("/", 1)[-1]
        if name.endswith(".ts"):
            sequence = int(name.split("-", 1)[0])
            if sequence not in found:
                found.append(sequence)
    return found


def _ceil_second(instant: dt.datetime) -> dt.datetime:
    return instant.replace(microsecond=0) + dt.timedelta(seconds=1)


def _check_live_read(result: subprocess.CompletedProcess[str], out: Path, seconds: float) -> float:
    """What ffmpeg read live and wrote to ``out``: no warning, monotonic timestamps, the
    duration asked, audio throughout. The media duration read."""
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # no warning while reading live
    assert ffmpeg_warnings(out) == ""  # nor reading what it wrote
    found = packets(out)
    video, audio = found["video"], found["audio"]
    for stream in (video, audio):
        assert non_monotonic([p["dts"] for p in stream]) == 0
    assert non_monotonic(sorted(p["pts"] for p in video)) == 0
    assert non_monotonic([p["pts"] for p in audio]) == 0
    first = min(p["pts"] for p in video)
    span: float = (max(p["pts"] + p["duration"] for p in video) - first) / 90_000
    assert abs(span - seconds) <= 2 * FRAME_TICKS / 90_000
    # audio throughout: from the first video frame to the last, no gap
    assert abs(audio[0]["pts"] - first) <= FRAME_TICKS
    audio_span = (audio[-1]["pts"] + audio[-1]["duration"] - audio[0]["pts"]) / 90_000
    assert abs(audio_span - span) <= 2 * FRAME_TICKS / 90_000
    gaps = [b["pts"] - (a["pts"] + a["duration"]) for a, b in zip(audio, audio[1:], strict=False)]
    assert max(gaps) <= MAX_AUDIO_GAP_TICKS
    assert min(gaps) >= -MAX_AUDIO_GAP_TICKS
    return span


@pytest.fixture
def site(settings, tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:  # type: ignore[no-untyped-def]
    """Public media's ``live/`` and hls.js served over HTTP on loopback, as nginx would; the
    paths requested."""
    root = tmp_path / "site"
    root.mkdir()
    live = Path(settings.MEDIA_ROOT) / "public" / "live"
    live.mkdir(parents=True, exist_ok=True)
    (root / "live").symlink_to(live)
    (root / "hls.min.js").symlink_to(ROOT / "node_modules" / "hls.js" / "dist" / "hls.min.js")
    requests: list[str] = []
    handler = functools.partial(
        type("Handler", (_LoggingHandler,), {"requests": requests}), directory=str(root)
    )
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_ffmpeg_reads_the_live_master_across_three_boundaries(
    channel: Channel,  # noqa: F811
    site: tuple[Path, str, list[str]],
    tmp_path: Path,
) -> None:
    # START - 1 (slate) starts within ~1.5 s: reading START - 1 .. START + 3 crosses the
    # boundaries slate/landscape (START), landscape/4:3 (START + 2) and 4:3/loud (START + 3).
    live = retime(channel, _ceil_second(timezone.now() + SEGMENT))
    _, base, requests = site
    segments = 5
    seconds = segments * SEG_S - 0.1  # stop inside the last segment: no wait for the next one
    out = tmp_path / "live.ts"
    with Playout(live) as playout:
        _wait_for_sequence(live, playout, START - 1, timeout=SEG_S + 5)
        began = time.monotonic()
        result = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "warning",
             "-live_start_index", "-1", "-i", f"{base}/live/{live.slug}/master.m3u8",
             "-map", "0", "-c", "copy", "-t", f"{seconds:.3f}", "-f", "mpegts", str(out)],
            capture_output=True, text=True, timeout=seconds + CLIENT_START_S, check=False,
        )  # fmt: skip
        wall = time.monotonic() - began
        assert not playout.errors, playout.errors
    span = _check_live_read(result, out, seconds)
    # a live reader gets each segment when it starts airing: it reads one segment ahead of the
    # wall clock at most (plus the playout loop's period, the delay before a segment is listed)
    print(f"live read: media {span:.2f} s in {wall:.2f} s of wall time")  # noqa: T201
    assert -SEG_S <= span - wall <= SEG_S + PERIOD
    # it read the slate segment before the first item, then the first 4 item segments: across the
    # boundaries slate/landscape, landscape/4:3 and 4:3/loud
    # (ffmpeg's demuxer reads ahead: it may also wait for and fetch the next one before stopping)
    fetched = _segments_fetched(requests)
    assert fetched[:segments] == list(range(START - 1, START + segments - 1)), fetched
    assert len(fetched) <= segments + 1, fetched
    assert (segments - 1) * SEG_S - PERIOD <= wall


def _until_played_ms(target_ms: int) -> int:
    """How long hls.js may take to play past ``target_ms`` (wall clock, ms since the epoch):
    until then, plus its distance to the live edge (3 target durations), plus its start-up."""
    return max(0, target_ms - int(time.time() * 1000)) + int((3 * SEG_S + CLIENT_START_S) * 1000)


def _wait_until_played(page: Any, target_ms: int, *, timeout_ms: int) -> None:
    """Until the picture's program date-time passes ``target_ms`` (or a fatal error)."""
    page.wait_for_function(
        f"(window.hls.playingDate && window.hls.playingDate.getTime() > {target_ms})"
        " || window.fatal.length > 0",
        timeout=timeout_ms,
        polling=200,
    )


def _playback(page: Any) -> tuple[list[str], list[list[Any]], list[list[Any]]]:
    """The page's fatal errors, media events and (time, currentTime, playingDate) samples."""
    fatal = page.evaluate("window.fatal")
    events = page.evaluate("window.events")
    samples = page.evaluate(
        "[...window.samples, [performance.now(), document.getElementById('v').currentTime,"
        " window.hls.playingDate ? window.hls.playingDate.getTime() : null]]"
    )
    return fatal, events, samples


def _check_playback(
    fatal: list[str], events: list[list[Any]], samples: list[list[Any]]
) -> list[int]:
    """No fatal error, no stall longer than a segment once playing, ``currentTime`` advancing
    in real time. The program date-times sampled."""
    assert fatal == []
    playing = [e for e in events if e[0] == "playing"]
    assert playing, events
    started = playing[0][1]
    # after the first "playing" (the initial buffering tolerated), every stall ends within a segment
    for index, (name, at, _) in enumerate(events):
        if name != "waiting" or at < started:
            continue
        resumed = next((e[1] for e in events[index + 1 :] if e[0] == "playing"), None)
        assert resumed is not None, events
        assert resumed - at < SPEC.segment_ms, events
    # currentTime keeps advancing: at least 0.5 s in every 1 s of wall time once playing
    after = [(at, current) for at, current, _ in samples if at >= started]
    assert len(after) >= 8, samples
    for (at, current), (later_at, later) in zip(after, after[4:], strict=False):
        assert later - current >= 0.5 * (later_at - at) / 1000, (at, current, later_at, later)
    progress = after[-1][1] - after[0][1]
    elapsed = (after[-1][0] - after[0][0]) / 1000
    print(f"hls.js: {progress:.2f} s played in {elapsed:.2f} s, events {events}")  # noqa: T201
    assert math.isclose(progress, elapsed, abs_tol=SEG_S)
    return [date for _, _, date in samples if date is not None]


def test_hls_js_plays_the_live_master_through_boundaries(
    channel: Channel,  # noqa: F811
    site: tuple[Path, str, list[str]],
) -> None:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # hls.js starts about 3 target durations behind the live edge: with the first item 8 s in the
    # past, playback starts near START - 1 (slate) and crosses START and START + 2 within ~20 s.
    live = retime(channel, timezone.now().replace(microsecond=0) - dt.timedelta(seconds=8))
    root, base, requests = site
    (root / "player.html").write_text(
        PLAYER_PAGE.replace("MASTER", f"live/{live.slug}/master.m3u8")
    )
    boundary = segment_start(START + 2, epoch=live.epoch, segment_ms=SPEC.segment_ms)
    target_ms = int(boundary.timestamp() * 1000) + 1500
    with Playout(live) as playout, sync_playwright() as playwright:
        _wait_for_sequence(live, playout, START, timeout=5)
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{base}/player.html")
            _wait_until_played(page, target_ms, timeout_ms=_until_played_ms(target_ms))
            fatal, events, samples = _playback(page)
        finally:
            browser.close()
        assert not playout.errors, playout.errors
    dates = _check_playback(fatal, events, samples)
    assert dates[-1] > target_ms  # played through START (slate to item) and START + 2
    first_item_ms = segment_start(START, epoch=live.epoch, segment_ms=SPEC.segment_ms)
    assert min(dates) < int(first_item_ms.timestamp() * 1000)
    fetched = _segments_fetched(requests)
    assert fetched == list(range(fetched[0], fetched[-1] + 1)), fetched
    assert fetched[0] < START and fetched[-1] >= START + 2, fetched


# --- three channels on different epochs, stacked overrides, the real loop ---------------------


def _three_channels(
    source: Channel, clips: dict[str, Path], first_item_at: dt.datetime
) -> list[Channel]:
    """The test channel and two copies 1.1 s and 2.4 s later, on air from ``first_item_at``.
    The first: a manual take-over from START + 1 to START + 5 (a looped 2-segment clip), an
    alert over it at START + 2 (one segment, not looped), so the take-over resumes at START + 3
    at its wall clock and the plan at START + 5. The second: an alert over its plan at START."""
    first = retime(source, first_item_at)
    channels = [
        first,
        copy_on_epoch(first, slug="decale-1-1", shift=dt.timedelta(seconds=1.1)),
        copy_on_epoch(first, slug="decale-2-4", shift=dt.timedelta(seconds=2.4)),
    ]
    only_on_air(*channels)
    take_over = _stored_asset(clips["loud"], first.channel_format, "Reprise")
    alert = _stored_asset(clips["four_by_three"], first.channel_format, "Alerte")

    def at(on: Channel, sequence: int) -> dt.datetime:
        return segment_start(sequence, epoch=on.epoch, segment_ms=SPEC.segment_ms)

    one_s = dt.timedelta(seconds=1)
    override_start(
        channel=first, asset=take_over, now=at(first, START) + one_s, end=at(first, START + 5)
    )
    override_start(
        channel=first, asset=alert, reason="alert", repeat=False, now=at(first, START + 1) + one_s
    )
    override_start(
        channel=channels[1], asset=alert, reason="alert", repeat=False,
        now=at(channels[1], START - 1) + one_s,
    )  # fmt: skip
    return channels


def _read_live(url: str, out: Path, seconds: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-v", "warning",
         "-live_start_index", "-1", "-i", url, "-map", "0", "-c", "copy",
         "-t", f"{seconds:.3f}", "-f", "mpegts", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_ffmpeg_and_hls_js_read_three_channels_with_stacked_overrides_from_the_real_loop(
    channel: Channel,  # noqa: F811
    encoded: dict[str, Path],  # noqa: F811
    site: tuple[Path, str, list[str]],
    tmp_path: Path,
) -> None:
    """One run of the real loop, read at once by both clients: ffmpeg from the live edge (the
    as-run log and each boundary's lead checked too) and hls.js in Chromium, through the
    take-over, the alert over it, the take-over again and the plan."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    channels = _three_channels(channel, encoded, _ceil_second(timezone.now() + 14 * SEGMENT / 4))
    root, base, requests = site
    for on in channels:
        (root / f"{on.slug}.html").write_text(
            PLAYER_PAGE.replace("MASTER", f"live/{on.slug}/master.m3u8")
        )
    segments = 6  # ffmpeg: START - 1 .. START + 4: take-over, alert, take-over again, plan
    seconds = segments * SEG_S - 0.1
    # hls.js starts about three segments behind the live edge, near START - 1, and plays on to
    # the plan (START + 5)
    end = segment_start(START + 5, epoch=channels[0].epoch, segment_ms=SPEC.segment_ms)
    target_ms = int(end.timestamp() * 1000) + 1500
    playout = PlayoutProcess(
        tmp_path / "playout.log", lease_key=uuid.uuid4().hex, **database_env()
    ).start()
    try:
        for on in channels:
            wait_until(lambda on=on: (_live_sequence(on) or 0) >= START - 1, timeout=40,
                       what=f"{on.slug} on air")  # fmt: skip
        with ThreadPoolExecutor(max_workers=len(channels)) as pool:
            reads = {
                on.slug: pool.submit(
                    _read_live,
                    f"{base}/live/{on.slug}/master.m3u8",
                    tmp_path / f"{on.slug}.ts",
                    seconds,
                )  # fmt: skip
                for on in channels
            }
            for on in channels:
                wait_until(lambda on=on: (_live_sequence(on) or 0) >= START + 1, timeout=60,
                           what=f"{on.slug} at START + 1")  # fmt: skip
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    pages = []
                    for on in channels:
                        page = browser.new_page()
                        page.goto(f"{base}/{on.slug}.html")
                        pages.append(page)
                    found = []
                    for page in pages:
                        _wait_until_played(page, target_ms + 2400, timeout_ms=60_000)
                        found.append(_playback(page))
                finally:
                    browser.close()
            results = {slug: read.result(timeout=150) for slug, read in reads.items()}
        assert playout.alive, playout.output()
        first = channels[0]
        wait_until(
            lambda: AsRunEntry.objects.filter(channel=first, reason="alert").exists(),
            timeout=10, what="the as-run log",
        )  # fmt: skip
    finally:
        playout.stop()
    for slug, result in results.items():
        _check_live_read(result, tmp_path / f"{slug}.ts", seconds)
    assert _segments_fetched(requests), requests
    alert = segment_start(START + 2, epoch=channels[0].epoch, segment_ms=SPEC.segment_ms)
    for fatal, events, samples in found:
        dates = _check_playback(fatal, events, samples)
        # it played from before the alert (over the take-over) to the plan after both
        assert min(dates) < int(alert.timestamp() * 1000) and dates[-1] > target_ms
    leads: dict[str, list[int]] = {}
    for slug, lead in re.findall(r"^(\S+) seq=\d+ .* lead=(-?\d+)ms$", playout.output(), re.M):
        leads.setdefault(slug, []).append(int(lead))
    assert set(leads) == {on.slug for on in channels}
    # each boundary published before it airs (the first: the segment on air at start)
    assert all(min(mine[1:]) > 0 for mine in leads.values()), playout.output()
    runs = AsRunEntry.objects.filter(channel=first).order_by("actual_start")
    logged = [
        (r.title, sequence_at(r.actual_start, epoch=first.epoch, segment_ms=SPEC.segment_ms))
        for r in runs
    ]
    assert [entry for entry in logged if START <= entry[1] <= START + 3] == [
        ("landscape", START), ("Reprise", START + 1), ("Alerte", START + 2), ("Reprise", START + 3),
    ]  # fmt: skip
