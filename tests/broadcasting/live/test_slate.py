"""The built-in slate: made once for a channel without a usable slate, through the real pipeline
(real ffmpeg, real PostgreSQL), and aired by the playout wherever nothing else can air.

The channels here use a 360p-only format so that the built-in slate's transcode is quick.
"""

import dataclasses
import datetime as dt
import importlib
import threading
from io import StringIO
from pathlib import Path
from typing import cast

import m3u8  # type: ignore[import-untyped]
import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from broadcasting.demo import DEMO_CLIPS, demo_clip_command
from broadcasting.live import slate as slate_module
from broadcasting.live.playout import publish_window
from broadcasting.live.slate import (
    MESSAGE,
    builtin_slate_command,
    slate_builtin_ensure,
    slate_for_air,
)
from broadcasting.live.store import live_prefix
from broadcasting.media.captions import drawtext_escape
from broadcasting.media.ffmpeg import FailureKind, FFmpegError
from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.grid import segment_start
from broadcasting.media.storage import public_storage
from broadcasting.models import Asset, AssetKind, ChannelFormat, TranscodeJob
from playlists.models import AsRunEntry, Channel, ScheduledItem, ScheduleVersion
from tests.broadcasting.live.test_tsrewrite import check_continuous, ffmpeg_warnings
from tests.factories import AssetFactory, ReadyAssetFactory

RUNG = next(r for r in DEFAULT_FORMAT.rungs if r.name == "360p")
SPEC = dataclasses.replace(DEFAULT_FORMAT, rungs=(RUNG,))
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW_SEQUENCE = 1_000_000
WINDOW = 6
AHEAD = 3


# --- the pure command ---------------------------------------------------------------------


def test_caption_text_is_escaped_for_drawtext() -> None:
    assert drawtext_escape("Canal 12: l'info \\ 100%") == r"Canal 12\: l’info / 100%"


def test_builtin_slate_command_draws_the_name_and_message_at_the_top_rung() -> None:
    command = builtin_slate_command(
        channel_name="Chartres TV", spec=DEFAULT_FORMAT, output=Path("/tmp/out.mp4")
    )
    video = command[command.index("-i") + 1]
    assert video.startswith("color=") and "size=1920x1080" in video and "rate=25" in video
    drawn = command[command.index("-vf") + 1]
    assert "text='Chartres TV'" in drawn and f"text='{MESSAGE}'" in drawn
    assert "expansion=none" in drawn
    assert command[command.index("-t") + 1] == "9.6"  # two segments
    assert "anullsrc" in command[command.index("-i", command.index("-i") + 1) + 1]


def test_the_demo_clips_still_build_their_command() -> None:
    command = demo_clip_command(DEMO_CLIPS[0], Path("/tmp/demo.mp4"))
    assert "text='Bienvenue à Chartres'" in command[command.index("-vf") + 1]
    assert "sine=frequency=330:sample_rate=48000" in command


# --- with the database and real ffmpeg ----------------------------------------------------


@pytest.fixture
def work_dir(settings, tmp_path: Path, cached_media_builds: None) -> Path:  # type: ignore[no-untyped-def]
    """Work files here; the slate's ffmpeg generation and encode (the same for every test of
    this module) run once per run and are copied afterwards (``cached_media``)."""
    settings.CARILLON_WORK_DIR = tmp_path / "work"
    return cast(Path, settings.CARILLON_WORK_DIR)


@pytest.fixture
def bare_channel(work_dir: Path) -> Channel:
    """A 360p-only channel with no slate, no timeline and an empty library."""
    fmt = ChannelFormat.objects.create(name="slate 360p", rungs=[dataclasses.asdict(RUNG)])
    channel = Channel.objects.create(
        name="Chartres: l'essentiel", slug="test-slate", number=991, channel_format=fmt, epoch=EPOCH
    )
    return _fresh(channel)


def _fresh(channel: Channel) -> Channel:
    return Channel.objects.select_related("channel_format", "slate").get(pk=channel.pk)


def _now(sequence: int = NOW_SEQUENCE) -> dt.datetime:
    return segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms)


def _ended_playlist(channel: Channel) -> Path:
    """The published live media playlist, as a file beside it that ends (a client reads it all
    and stops instead of waiting for the next segment)."""
    storage = public_storage()
    prefix = f"{live_prefix(channel.slug)}/{RUNG.name}"
    with storage.open(f"{prefix}/index.m3u8", "rb") as handle:
        text = handle.read().decode()
    path = Path(storage.path(f"{prefix}/ended.m3u8"))
    path.write_text(text + "#EXT-X-ENDLIST\n")
    return path


@pytest.mark.django_db
def test_a_channel_with_its_own_slate_keeps_it(bare_channel: Channel) -> None:
    own = ReadyAssetFactory(channel_format=bare_channel.channel_format, kind="slate", title="Mire")
    bare_channel.slate = cast(Asset, own)
    bare_channel.save()
    channel = _fresh(bare_channel)
    assert slate_builtin_ensure(channel=channel) == own
    assert _fresh(channel).slate_id == own.pk
    assert not Asset.objects.filter(builtin_slate_for__isnull=False).exists()
    assert slate_for_air(channel=channel) == own


@pytest.mark.django_db
def test_a_generation_failure_is_logged_and_leaves_the_channel_without_slate(
    bare_channel: Channel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise FFmpegError("no font", kind=FailureKind.CONTENT, stderr_tail="no font")

    monkeypatch.setattr(slate_module.ffmpeg, "run", broken)
    assert slate_builtin_ensure(channel=bare_channel) is None
    assert "built-in slate not made" in caplog.text
    assert _fresh(bare_channel).slate is None
    report = publish_window(channel=bare_channel, now=_now(), window=WINDOW, ahead=AHEAD)
    assert len(report.unfilled) == WINDOW + AHEAD and report.published == []


@pytest.mark.slow
@pytest.mark.django_db
def test_an_empty_timeline_airs_the_builtin_slate_cleanly(
    bare_channel: Channel, tmp_path: Path
) -> None:
    slate = slate_builtin_ensure(channel=bare_channel)
    assert slate is not None and slate.builtin_slate_for_id == bare_channel.pk
    assert slate.kind == AssetKind.SLATE and slate.is_schedulable
    assert slate.channel_format_id == bare_channel.channel_format_id
    assert [r.name for r in slate.renditions.all()] == [RUNG.name]
    assert slate.segment_count == 2
    channel = _fresh(bare_channel)
    assert channel.slate == slate

    report = publish_window(channel=channel, now=_now(), window=WINDOW, ahead=AHEAD)
    first = NOW_SEQUENCE - WINDOW + 1
    assert report.unfilled == []
    assert sorted(report.slated) == list(range(first, NOW_SEQUENCE + AHEAD + 1))
    playlist = _ended_playlist(channel)
    parsed = m3u8.loads(playlist.read_text())
    assert parsed.media_sequence == first and len(parsed.segments) == WINDOW
    assert ffmpeg_warnings(playlist) == ""
    check_continuous(playlist, WINDOW)  # monotonic timestamps, exact duration, audio throughout
    assert AsRunEntry.objects.filter(channel=channel).count() == 0  # no timeline, no item


@pytest.mark.slow
@pytest.mark.django_db
def test_ensuring_the_builtin_slate_twice_makes_it_once(
    bare_channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = slate_builtin_ensure(channel=bare_channel)
    assert made is not None
    counts = (Asset.objects.count(), TranscodeJob.objects.count())

    def no_ffmpeg(*args: object, **kwargs: object) -> None:
        raise AssertionError("the built-in slate was generated again")

    monkeypatch.setattr(slate_module.ffmpeg, "run", no_ffmpeg)
    assert slate_builtin_ensure(channel=_fresh(bare_channel)) == made
    # A restart after an editor cleared the channel's slate: the same slate comes back.
    Channel.objects.filter(pk=bare_channel.pk).update(slate=None)
    assert slate_builtin_ensure(channel=_fresh(bare_channel)) == made
    assert _fresh(bare_channel).slate_id == made.pk
    assert (Asset.objects.count(), TranscodeJob.objects.count()) == counts


@pytest.mark.slow
@pytest.mark.django_db
def test_an_unusable_own_slate_is_kept_and_the_builtin_one_airs(bare_channel: Channel) -> None:
    pending = ReadyAssetFactory(
        channel_format=bare_channel.channel_format, kind="slate", approval="pending"
    )
    Channel.objects.filter(pk=bare_channel.pk).update(slate=pending)
    channel = _fresh(bare_channel)
    builtin = slate_builtin_ensure(channel=channel)
    assert builtin is not None and builtin.builtin_slate_for_id == channel.pk
    assert _fresh(channel).slate_id == pending.pk  # the editor's choice is not replaced
    assert slate_for_air(channel=_fresh(channel)) == builtin


@pytest.mark.slow
@pytest.mark.django_db
def test_a_deleted_asset_on_a_channel_without_slate_airs_the_builtin_slate(
    bare_channel: Channel,
) -> None:
    gone = ReadyAssetFactory(channel_format=bare_channel.channel_format, segment_count=3)
    version = ScheduleVersion.objects.create(
        channel=bare_channel, number=1, window_start=EPOCH, window_end=_now(NOW_SEQUENCE + 100)
    )
    segment = dt.timedelta(milliseconds=SPEC.segment_ms)
    start = _now(NOW_SEQUENCE - 1)
    item = ScheduledItem.objects.create(
        channel=bare_channel, version=version, start=start, end=start + 3 * segment,
        kind="asset", role="programme", asset=gone,
    )  # fmt: skip
    gap = ScheduledItem.objects.create(
        channel=bare_channel, version=version, start=start + 3 * segment,
        end=start + 10 * segment, kind="slate", role="slate", asset=None,
    )  # fmt: skip
    gone.delete()
    slate = slate_builtin_ensure(channel=bare_channel)
    assert slate is not None
    channel = _fresh(bare_channel)

    report = publish_window(channel=channel, now=_now(NOW_SEQUENCE + 2), window=WINDOW, ahead=0)
    assert report.unfilled == []
    assert set(range(NOW_SEQUENCE - 1, NOW_SEQUENCE + 3)) <= set(report.slated)
    runs = {run.scheduled_item_id: run for run in AsRunEntry.objects.filter(channel=channel)}
    assert runs[item.pk].reason == "missing_asset"
    assert runs[gap.pk].reason == "gap" and runs[gap.pk].asset_id == slate.pk
    playlist = _ended_playlist(channel)
    assert ffmpeg_warnings(playlist) == ""
    check_continuous(playlist, WINDOW)


@pytest.mark.slow
@pytest.mark.django_db
def test_the_playout_command_makes_the_slate_before_it_publishes(bare_channel: Channel) -> None:
    Channel.objects.exclude(pk=bare_channel.pk).update(is_active=False)
    out = StringIO()
    call_command("playout", "--once", stdout=out)
    assert f"{bare_channel.slug} seq=" in out.getvalue()
    assert "unfilled=0" in out.getvalue() and f"slated={WINDOW + 3}" in out.getvalue()
    builtin = Asset.objects.get(builtin_slate_for__isnull=False)
    assert _fresh(bare_channel).slate_id == builtin.pk
    call_command("playout", "--once", stdout=StringIO())  # a restart: nothing made again
    assert Asset.objects.filter(builtin_slate_for__isnull=False).count() == 1


@pytest.mark.django_db
def test_a_channel_that_appears_later_gets_its_slate_beside_the_loop(
    bare_channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadcasting.management.commands import playout as command_module

    release = threading.Event()
    seen: list[int] = []

    def slow_ensure(*, channel: Channel) -> None:
        seen.append(channel.pk)
        assert release.wait(timeout=30)

    monkeypatch.setattr(command_module, "slate_builtin_ensure", slow_ensure)
    command = command_module.Command(stdout=StringIO(), stderr=StringIO())
    command.ensure_slates([bare_channel], wait=False)  # returns at once
    assert command.slate_pending(bare_channel)
    release.set()
    command.slate_threads[bare_channel.pk].join(timeout=30)
    assert not command.slate_pending(bare_channel) and seen == [bare_channel.pk]
    command.ensure_slates([bare_channel], wait=False)  # checked recently: not again
    assert seen == [bare_channel.pk]


@pytest.mark.django_db
def test_slates_made_before_the_field_are_marked_by_the_migration(bare_channel: Channel) -> None:
    migration = importlib.import_module("broadcasting.migrations.0005_builtin_slate_field")
    old = AssetFactory(
        kind="slate", original_filename=f"builtin-slate-channel-{bare_channel.pk}.mp4"
    )
    gone = AssetFactory(kind="slate", original_filename="builtin-slate-channel-999999.mp4")
    other = AssetFactory(
        kind="programme", original_filename=f"builtin-slate-channel-{bare_channel.pk}.mp4"
    )
    migration.mark_builtin_slates(django_apps, None)
    assert Asset.objects.get(pk=old.pk).builtin_slate_for_id == bare_channel.pk
    assert Asset.objects.get(pk=gone.pk).builtin_slate_for_id is None
    assert Asset.objects.get(pk=other.pk).builtin_slate_for_id is None
