"""The playout, end to end with real encodes: items aired back to back through ``publish_window``.

Three clips are encoded once (360p only, the channel format) and stored as approved assets; a
channel whose format has only that rung airs them back to back (3 item boundaries) after a gap
that plays the slate. A controllable clock steps through the items; every segment the media
playlist listed is collected and read by ffmpeg as a client: no warning, monotonic timestamps,
the exact duration, audio throughout. Then the same with one asset's segment deleted.
"""

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any, cast
from unittest import mock

import m3u8  # type: ignore[import-untyped]
import pytest
from django.conf import LazySettings
from django.core.files.base import ContentFile

from broadcasting.live.as_run import as_run_write
from broadcasting.live.plan import plan_resolve
from broadcasting.live.playout import publish_ahead, publish_air, publish_window
from broadcasting.live.store import index_storage, live_prefix, read_index, rung_prefix
from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import (
    asset_prefix,
    private_storage,
    public_storage,
    store_renditions,
)
from broadcasting.models import Asset, ChannelFormat, Override, Rendition
from playlists.models import AsRunEntry, Channel, ScheduledItem, ScheduleVersion
from tests.broadcasting.cached_media import encoded_clip
from tests.broadcasting.live.test_tsrewrite import (
    ITEM_CLIPS,
    check_continuous,
    counter_jumps,
    ffmpeg_warnings,
    publish,
)
from tests.factories import ReadyAssetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

RUNG = next(r for r in DEFAULT_FORMAT.rungs if r.name == "360p")
SPEC = dataclasses.replace(DEFAULT_FORMAT, rungs=(RUNG,))
SEGMENT = dt.timedelta(milliseconds=SPEC.segment_ms)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
START = 1_000_000  # the first item's sequence (2026-02-25 13:20 UTC)
WINDOW = 6


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Output directories of three clips (2, 1 and 2 segments) in the 360p channel format: the
    real encodes, made once for every worker and run (``cached_media``), copied here."""
    root = tmp_path_factory.mktemp("playout")
    return {
        name: encoded_clip(generator, args, SPEC, root / name)
        for name, (generator, args) in ITEM_CLIPS.items()
    }


def _stored_asset(out_dir: Path, channel_format: ChannelFormat, title: str) -> Asset:
    """An approved, ready asset whose 360p rendition is ``out_dir``'s, in private storage."""
    count = len(list((out_dir / RUNG.name).glob("seg_*.ts")))
    asset = cast(
        Asset,
        ReadyAssetFactory(channel_format=channel_format, title=title, segment_count=count),
    )
    prefix = asset_prefix(asset.pk)
    store_renditions(directory=out_dir, prefix=prefix)
    Rendition.objects.create(
        asset=asset, name=RUNG.name, width=RUNG.width, height=RUNG.height, bandwidth=1,
        average_bandwidth=1, codecs="", playlist=f"{prefix}/{RUNG.name}/index.m3u8",
        segment_prefix=f"{prefix}/{RUNG.name}/", segment_count=count,
    )  # fmt: skip
    return asset


@pytest.fixture
def channel(encoded: dict[str, Path]) -> Channel:
    """A 360p-only channel: gap (slate) until START, then landscape, 4:3, loud, landscape."""
    fmt = ChannelFormat.objects.create(name="test 360p", rungs=[dataclasses.asdict(RUNG)])
    slate = _stored_asset(encoded["four_by_three"], fmt, "Slate")
    channel = Channel.objects.create(
        name="Test", slug="test-playout", number=990, channel_format=fmt, slate=slate, epoch=EPOCH
    )
    version = ScheduleVersion.objects.create(
        channel=channel, number=1, window_start=EPOCH, window_end=EPOCH + dt.timedelta(days=90)
    )
    sequence = START
    for name in ("landscape", "four_by_three", "loud", "landscape"):
        asset = _stored_asset(encoded[name], fmt, name)
        start = segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms)
        sequence += asset.segment_count
        ScheduledItem.objects.create(
            channel=channel, version=version, start=start, end=start + asset.segment_count * SEGMENT,
            kind="asset", role="programme", asset=asset,
        )  # fmt: skip
    return Channel.objects.select_related("channel_format", "slate").get(pk=channel.pk)


def _air(channel: Channel, *, until: int, jitter: dt.timedelta) -> dict[int, bytes]:
    """Step the clock segment by segment from START to ``until``; every listed segment's bytes."""
    storage = public_storage()
    prefix = f"{live_prefix(channel.slug)}/{RUNG.name}"
    seen: dict[int, bytes] = {}
    for sequence in range(START, until + 1):
        now = segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms) + jitter
        report = publish_window(channel=channel, now=now, window=WINDOW)
        assert report.sequence == sequence == sequence_at(now, epoch=EPOCH, segment_ms=4800)
        with storage.open(f"{prefix}/index.m3u8", "rb") as handle:
            playlist = m3u8.loads(handle.read().decode())
        assert playlist.media_sequence == sequence - WINDOW + 1
        assert len(playlist.segments) == WINDOW
        for offset, segment in enumerate(playlist.segments):
            n = playlist.media_sequence + offset
            assert segment.uri.startswith(f"{n}-")
            with storage.open(f"{prefix}/{segment.uri}", "rb") as handle:
                data = handle.read()
            assert seen.setdefault(n, data) == data  # a listed segment never changes
        files = storage.listdir(prefix)[1]
        assert len([f for f in files if f.endswith(".ts")]) <= WINDOW + 1 + 3
    return seen


def _check_clean(tmp_path: Path, seen: dict[int, bytes], first: int, last: int) -> None:
    aired = [seen[n] for n in range(first, last + 1)]
    assert counter_jumps(b"".join(aired)) == 0
    playlist, concat = publish(tmp_path / "aired", aired)
    for path in (playlist, concat):
        assert ffmpeg_warnings(path) == "", path.name
        check_continuous(path, len(aired))


def test_items_air_back_to_back_through_the_playout(channel: Channel, tmp_path: Path) -> None:
    last = START + 6  # 7 segments: 3 item boundaries, after a slate segment
    seen = _air(channel, until=last, jitter=dt.timedelta(seconds=2.3))
    _check_clean(tmp_path, seen, START - 1, last)  # the slate-to-programme boundary too
    runs = AsRunEntry.objects.filter(channel=channel).order_by("actual_start")
    assert [r.title for r in runs] == ["landscape", "four_by_three", "loud", "landscape"]
    assert {r.reason for r in runs} == {"as_planned"}
    master = m3u8.loads(public_storage().open(f"live/{channel.slug}/master.m3u8").read().decode())
    assert [p.uri for p in master.playlists] == ["360p/index.m3u8"]


def test_a_restart_publishes_nothing_new(channel: Channel) -> None:
    now = segment_start(START + 2, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    first = publish_window(channel=channel, now=now)
    again = publish_window(channel=channel, now=now)
    assert len(first.published) == 6 + 3
    assert again.published == [] and again.kept == 9
    assert AsRunEntry.objects.filter(channel=channel).count() == 2


def test_a_deleted_segment_airs_the_slate_cleanly(channel: Channel, tmp_path: Path) -> None:
    missing = ScheduledItem.objects.get(channel=channel, asset__title="four_by_three")
    private_storage().delete(f"{asset_prefix(missing.asset_id)}/{RUNG.name}/seg_00000.ts")
    last = START + 6
    seen = _air(channel, until=last, jitter=dt.timedelta(0))
    _check_clean(tmp_path, seen, START, last)
    run = AsRunEntry.objects.get(channel=channel, scheduled_item=missing)
    assert run.reason == "missing_asset"


def test_an_unreadable_segment_airs_the_slate(channel: Channel) -> None:
    item = ScheduledItem.objects.get(channel=channel, asset__title="loud")
    name = f"{asset_prefix(item.asset_id)}/{RUNG.name}/seg_00001.ts"
    private_storage().delete(name)
    private_storage().save(name, ContentFile(b"not a transport stream"))
    sequence = START + 4  # the second segment of "loud"
    now = segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    report = publish_window(channel=channel, now=now)
    assert sequence in report.slated
    assert START - 1 in report.slated  # the gap before the first item


def test_a_segment_cut_short_airs_the_slate(channel: Channel) -> None:
    """A rendition cut mid-packet (its first video PES whole, which is all ``first_pts``
    reads) is not rewritten and aired: the whole segment is checked first."""
    item = ScheduledItem.objects.get(channel=channel, asset__title="loud")
    name = f"{asset_prefix(item.asset_id)}/{RUNG.name}/seg_00001.ts"
    with private_storage().open(name, "rb") as handle:
        data = handle.read()
    private_storage().delete(name)
    private_storage().save(name, ContentFile(data[: len(data) // 2 + 100]))
    sequence = START + 4  # the second segment of "loud"
    now = segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    report = publish_window(channel=channel, now=now)
    assert sequence in report.slated


def test_a_card_slot_airs_the_channel_ident_until_cards_exist(
    channel: Channel, tmp_path: Path
) -> None:
    from playlists.models import FillerSet

    ident = Asset.objects.get(title="loud", channel_format=channel.channel_format)
    fillers = FillerSet.objects.create(name="Habillage")
    fillers.idents.add(ident)
    fillers.save()
    channel.default_fillers = fillers
    channel.save()
    item = ScheduledItem.objects.get(channel=channel, asset__title="four_by_three")
    ScheduledItem.objects.filter(pk=item.pk).update(kind="card_slot", role="card", asset=None)
    channel = Channel.objects.select_related("channel_format", "slate").get(pk=channel.pk)
    first = START + 2  # the card slot's first segment
    report = publish_window(channel=channel, now=segment_start(first, epoch=EPOCH, segment_ms=4800))
    assert first not in report.slated
    index = json.loads(index_storage().open(f"live/{channel.slug}/{RUNG.name}/index.json").read())
    assert index[str(first)]["source"].startswith(f"{asset_prefix(ident.pk)}/")


@pytest.mark.django_db
def test_the_loop_publishes_each_boundary_once(channel: Channel) -> None:
    """Publishing ends before the boundary it prepares: the loop then waits for the next one
    instead of publishing the same boundary again until it passes. A round that ends after the
    next boundary publishes it at once (listing the segment on air) instead of skipping it."""
    from broadcasting.live.planner import PUBLISH_LEAD as LEAD
    from broadcasting.management.commands.playout import boundary_to_publish

    segment = dt.timedelta(milliseconds=SPEC.segment_ms)
    first = segment_start(100, epoch=channel.epoch, segment_ms=SPEC.segment_ms)
    woke = first - LEAD  # the loop wakes a second early and publishes ``first``
    assert boundary_to_publish(channel=channel, now=woke, last=None) == first
    done = woke + dt.timedelta(milliseconds=300)  # publishing took 0.3 s: still before ``first``
    assert boundary_to_publish(channel=channel, now=done, last=first) == first + segment
    late = first + segment + dt.timedelta(seconds=2)  # a slow round: the next boundary is past
    assert boundary_to_publish(channel=channel, now=late, last=first) == first + segment
    started = first + dt.timedelta(seconds=2)  # a (re)start mid-segment: the segment on air now
    assert boundary_to_publish(channel=channel, now=started, last=None) == first


def test_a_truncated_segment_under_its_content_addressed_name_is_replaced(
    channel: Channel, settings: LazySettings
) -> None:
    """Segments were saved in place and skipped when their name existed: a kill mid-write left
    a truncated file that every later round kept (and a CDN cached for a day)."""
    now = segment_start(START + 2, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    publish_window(channel=channel, now=now)
    rung = Path(settings.MEDIA_ROOT) / "public" / live_prefix(channel.slug) / RUNG.name
    made = {path.name: path.read_bytes() for path in rung.glob("*.ts")}
    assert len(made) == 6 + 3
    for side in ("public", "private"):  # as if nothing had been published, index included
        shutil.rmtree(Path(settings.MEDIA_ROOT) / side / "live", ignore_errors=True)
    rung.mkdir(parents=True)
    for name, data in made.items():  # what a kill mid-write leaves under the final name
        (rung / name).write_bytes(data[: len(data) // 2])
    publish_window(channel=channel, now=now)
    assert {path.name: path.read_bytes() for path in rung.glob("*.ts")} == made
    assert not [path for path in rung.iterdir() if path.name.startswith(".tmp")]


def test_a_segment_is_written_under_a_temporary_name_and_renamed(channel: Channel) -> None:
    """A reader (nginx, a CDN) never sees a half segment under its final name."""
    now = segment_start(START, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    storage = public_storage()
    with mock.patch.object(type(storage), "save", side_effect=AssertionError("saved in place")):
        report = publish_window(channel=channel, now=now)
    assert len(report.published) == 6 + 3


def test_an_override_whose_clip_cannot_air_is_not_logged_as_aired(
    channel: Channel, encoded: dict[str, Path]
) -> None:
    """The as-run log is written from what was published, not from the plan: an override whose
    clip is not approved (taken down after it started) airs the plan, and the plan is logged."""
    clip = _stored_asset(encoded["landscape"], channel.channel_format, "Alerte")
    Asset.objects.filter(pk=clip.pk).update(approval="pending")
    start = segment_start(START + 1, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    Override.objects.create(channel=channel, asset=clip, start=start, reason="alert")
    report = publish_window(
        channel=channel, now=segment_start(START + 3, epoch=EPOCH, segment_ms=4800)
    )
    assert not report.unfilled
    runs = AsRunEntry.objects.filter(channel=channel).order_by("actual_start")
    assert [(r.title, r.reason) for r in runs] == [
        ("landscape", "as_planned"),
        ("four_by_three", "as_planned"),
        ("loud", "as_planned"),
    ]


def test_a_held_plan_publishes_without_the_database(
    channel: Channel, django_assert_num_queries: Any
) -> None:
    """The playout resolves the next minutes ahead and publishes from that plan alone, so a
    database outage costs nothing on air; only the as-run log waits for the database."""
    now = segment_start(START + 1, epoch=EPOCH, segment_ms=SPEC.segment_ms)
    plan = plan_resolve(
        channel=channel, start=now - 10 * SEGMENT, end=now + dt.timedelta(minutes=5)
    )
    later = now + 20 * SEGMENT  # long after the plan was made (and the items): the slate
    records = []
    for at in (now, now + SEGMENT, now + 3 * SEGMENT, now + 5 * SEGMENT, later):
        with django_assert_num_queries(0):
            report = publish_air(plan=plan, now=at, window=WINDOW)
            publish_ahead(plan=plan, now=at, ahead=3, report=report)
        assert not report.unfilled
        records += report.as_run_records
    assert not AsRunEntry.objects.exists()  # kept for the database: the loop's planner writes
    started = sorted({(r.at, r.item.asset.title) for r in records if r.item and not r.ended})
    assert [title for _, title in started] == ["landscape", "four_by_three", "loud", "landscape"]


def test_the_segment_a_round_lists_is_made_again_when_an_override_starts_at_its_boundary(
    channel: Channel, encoded: dict[str, Path], tmp_path: Path
) -> None:
    """Issue 12: a round lists boundary ``B`` from the segment made ahead in the round before;
    an override started since (an emergency alert) must air at ``B``, so that segment is made
    again from the round's plan, and those after it follow from it. A segment a playlist has
    listed is never made again, whatever the plan says later."""
    at = lambda n: segment_start(n, epoch=EPOCH, segment_ms=SPEC.segment_ms)  # noqa: E731
    prefix = rung_prefix(channel.slug, RUNG.name)
    storage = public_storage()
    seen: dict[int, bytes] = {}

    def round_at(n: int) -> None:  # the loop's round for boundary ``n``, from a fresh plan
        plan = plan_resolve(channel=channel, start=at(n - 10), end=at(n + 30))
        report = publish_air(plan=plan, now=at(n), window=WINDOW)
        publish_ahead(plan=plan, now=at(n), ahead=3, report=report)
        for record in report.as_run_records:
            as_run_write(record)
        with storage.open(f"{prefix}/index.m3u8", "rb") as handle:
            playlist = m3u8.loads(handle.read().decode())
        for offset, segment in enumerate(playlist.segments):
            with storage.open(f"{prefix}/{segment.uri}", "rb") as handle:
                data = handle.read()
            assert seen.setdefault(playlist.media_sequence + offset, data) == data

    round_at(START + 1)
    made_ahead = read_index(index_storage(), prefix)[START + 2]
    assert not made_ahead.listed
    clip = _stored_asset(encoded["loud"], channel.channel_format, "Alerte orages")
    override = Override.objects.create(
        channel=channel, asset=clip, start=at(START + 2), reason="alert", repeat=True
    )
    round_at(START + 2)
    index = read_index(index_storage(), prefix)
    clip_prefix = clip.renditions.get().segment_prefix
    assert index[START + 2].source == f"{clip_prefix}seg_00000.ts"  # at its boundary
    assert index[START + 2].listed and index[START + 2].name != made_ahead.name
    assert index[START + 3].source == f"{clip_prefix}seg_00001.ts"

    Override.objects.filter(pk=override.pk).update(end=at(START + 3))  # too late for START + 2
    round_at(START + 2)  # the same round again (a standby taking over): nothing listed changes
    assert read_index(index_storage(), prefix)[START + 2] == index[START + 2]
    for n in range(START + 3, START + 5):
        round_at(n)
    assert read_index(index_storage(), prefix)[START + 3].source != index[START + 3].source
    _check_clean(tmp_path, seen, START - 4, START + 4)
    logged = AsRunEntry.objects.filter(channel=channel, reason="alert")
    assert [(e.asset_id, e.actual_start) for e in logged] == [(clip.pk, at(START + 2))]
