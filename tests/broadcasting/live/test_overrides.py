"""Overrides (issue 5): the services snap to segment boundaries, the pure choice of what airs
holds over random timelines, a real-ffmpeg playout airs a clip mid-item and resumes at wall
clock, and editors start and end overrides from the admin."""

import datetime as dt
import json
from pathlib import Path
from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from broadcasting.live.overrides import (
    OverrideWindow,
    override_at,
    override_end,
    override_index,
    override_start,
)
from broadcasting.live.playout import publish_window
from broadcasting.live.store import live_prefix
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import asset_prefix, public_storage
from broadcasting.models import Asset, Override
from playlists.models import AsRunEntry, Channel
from tests.broadcasting.live.test_playout import (  # noqa: F401 - fixtures
    EPOCH,
    RUNG,
    SPEC,
    START,
    WINDOW,
    _check_clean,
    _stored_asset,
    channel,
    encoded,
)
from tests.factories import EditorFactory, ReadyAssetFactory, default_channel

SEGMENT = dt.timedelta(milliseconds=4800)


def _seq(on: Channel, at: dt.datetime) -> int:
    return sequence_at(at, epoch=on.epoch, segment_ms=on.channel_format.segment_ms)


# --- services --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_start_and_end_snap_to_the_next_boundary() -> None:
    ch = cast(Channel, default_channel())
    clip = cast(Asset, ReadyAssetFactory(segment_count=2))
    now = segment_start(5000, epoch=ch.epoch, segment_ms=4800) + dt.timedelta(seconds=1.7)
    override = override_start(channel=ch, asset=clip, now=now)
    assert override.start == segment_start(5001, epoch=ch.epoch, segment_ms=4800)
    exact = segment_start(5000, epoch=ch.epoch, segment_ms=4800)  # on a boundary: the next one
    assert override_start(channel=ch, asset=clip, now=exact).start == override.start
    override_end(override=override, now=now + 3 * SEGMENT)
    override.refresh_from_db()
    assert override.end == segment_start(5004, epoch=ch.epoch, segment_ms=4800)
    assert override.ended_at == now + 3 * SEGMENT
    early = override_start(channel=ch, asset=clip, now=now)
    override_end(override=early, now=now - SEGMENT)  # ended before it started: zero length
    assert early.end == early.start


@pytest.mark.django_db
def test_an_editor_is_recorded_and_nobody_else() -> None:
    ch = cast(Channel, default_channel())
    clip = cast(Asset, ReadyAssetFactory(segment_count=2))
    editor = cast(User, EditorFactory())
    now = segment_start(9000, epoch=ch.epoch, segment_ms=4800)
    by_editor = override_start(channel=ch, asset=clip, user=editor, now=now)
    anonymous = override_start(channel=ch, asset=clip, user=AnonymousUser(), now=now)
    by_code = override_start(channel=ch, asset=clip, now=now)
    assert (by_editor.created_by, anonymous.created_by, by_code.created_by) == (editor, None, None)
    override_end(override=by_editor, user=AnonymousUser(), now=now)
    override_end(override=anonymous, user=editor, now=now)
    assert (by_editor.ended_by, anonymous.ended_by) == (None, editor)
    assert Override.objects.get(pk=anonymous.pk).ended_by == editor


@pytest.mark.django_db
def test_override_at_picks_the_latest_active_one() -> None:
    ch = cast(Channel, default_channel())
    clip = cast(Asset, ReadyAssetFactory(segment_count=2))
    t0 = segment_start(7000, epoch=ch.epoch, segment_ms=4800)
    first = override_start(channel=ch, asset=clip, now=t0)  # from 7001, open-ended
    second = override_start(channel=ch, asset=clip, now=t0 + 3 * SEGMENT, end=t0 + 6 * SEGMENT)
    assert override_at(channel=ch, at=t0) is None
    assert override_at(channel=ch, at=t0 + SEGMENT) == first
    assert override_at(channel=ch, at=t0 + 4 * SEGMENT) == second
    assert override_at(channel=ch, at=t0 + 6 * SEGMENT) == first  # second has ended
    override_end(override=first, now=t0 + 7 * SEGMENT)
    assert override_at(channel=ch, at=t0 + 8 * SEGMENT) is None


# --- the pure choice over random timelines ----------------------------------------------------


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[int], OverrideWindow]:
    """Item lengths (in segments, back to back from 0) and an override window."""
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=8))
    total = sum(lengths)
    first = draw(st.integers(0, total))
    stop = draw(st.none() | st.integers(first, total + 5))
    window = OverrideWindow(
        first=first, stop=stop, length=draw(st.integers(1, 6)), repeat=draw(st.booleans())
    )
    return lengths, window


def _plan_index(lengths: list[int], n: int) -> int:
    """The wall-clock index inside the item airing at ``n`` (what ``resolve_slot`` computes)."""
    start = 0
    for length in lengths:
        if n < start + length:
            return n - start
        start += length
    return 0


@given(timelines())
def test_overrides_start_on_their_boundary_and_the_plan_resumes_at_wall_clock(
    timeline: tuple[list[int], OverrideWindow],
) -> None:
    lengths, window = timeline
    for n in range(sum(lengths) + 6):
        clip = override_index(n, window)
        kind, index = ("plan", _plan_index(lengths, n)) if clip is None else ("override", clip)
        inside = n >= window.first and (window.stop is None or n < window.stop)
        k = n - window.first
        if inside and (window.repeat or k < window.length):
            assert (kind, index) == ("override", k % window.length)
            if n == window.first:
                assert index == 0  # the clip starts at its first segment, on the boundary
        else:  # the plan, joined at wall clock: the elapsed segments since the item's start
            assert (kind, index) == ("plan", _plan_index(lengths, n))


# --- real ffmpeg: an override mid-item, then the item joined at wall clock --------------------


@pytest.mark.django_db
@pytest.mark.slow
def test_an_override_mid_item_airs_then_the_plan_resumes_at_wall_clock(
    channel: Channel,  # noqa: F811
    encoded: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    alert = _stored_asset(encoded["landscape"], channel.channel_format, "Alerte")
    storage = public_storage()
    prefix = f"{live_prefix(channel.slug)}/{RUNG.name}"
    seen: dict[int, bytes] = {}
    last = START + 6
    for sequence in range(START, last + 1):
        now = segment_start(sequence, epoch=EPOCH, segment_ms=SPEC.segment_ms) + SEGMENT / 3
        publish_window(channel=channel, now=now, window=WINDOW)
        if sequence == START + 3:  # "loud" began: take over from its second segment
            started = override_start(channel=channel, asset=alert, repeat=True, now=now)
            assert _seq(channel, started.start) == START + 4
            publish_window(channel=channel, now=now, window=WINDOW)  # the playout's next tick
        if sequence == START + 5:  # two override segments, then end
            override_end(override=started, now=now)
            publish_window(channel=channel, now=now, window=WINDOW)
        index = json.loads(storage.open(f"{prefix}/index.json").read())
        for n in range(sequence - WINDOW + 1, sequence + 1):
            if str(n) in index:
                seen.setdefault(n, storage.open(f"{prefix}/{index[str(n)]['name']}").read())
    index = json.loads(storage.open(f"{prefix}/index.json").read())
    items = {a.title: a.pk for a in Asset.objects.filter(channel_format=channel.channel_format)}
    second_landscape = max(
        a.pk for a in Asset.objects.filter(title="landscape", channel_format=channel.channel_format)
    )
    expected = {
        START + 3: f"{asset_prefix(items['loud'])}/{RUNG.name}/seg_00000.ts",
        START + 4: f"{asset_prefix(alert.pk)}/{RUNG.name}/seg_00000.ts",
        START + 5: f"{asset_prefix(alert.pk)}/{RUNG.name}/seg_00001.ts",
        # the last item started at START + 5: joined at its second segment (wall clock)
        START + 6: f"{asset_prefix(second_landscape)}/{RUNG.name}/seg_00001.ts",
    }
    assert {n: index[str(n)]["source"] for n in expected} == expected
    _check_clean(tmp_path, seen, START, last)
    run = AsRunEntry.objects.get(channel=channel, reason="override")
    assert run.title == "Alerte"
    assert run.actual_start == segment_start(START + 4, epoch=EPOCH, segment_ms=4800)
    assert run.actual_end == segment_start(START + 6, epoch=EPOCH, segment_ms=4800)
    titles = [r.title for r in AsRunEntry.objects.filter(channel=channel).order_by("actual_start")]
    assert titles == ["landscape", "four_by_three", "loud", "Alerte", "landscape"]


# --- admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_editors_list_start_and_end_overrides_in_the_admin(client: Client) -> None:
    ch = cast(Channel, default_channel())
    clip = cast(Asset, ReadyAssetFactory(title="Alerte générique", segment_count=2))
    client.force_login(EditorFactory(is_superuser=True))
    response = client.post(
        "/admin/overrides/new/",
        {"channel": ch.pk, "asset": clip.pk, "reason": "manual", "repeat": "on", "note": "Test"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    override = Override.objects.get()
    assert override.start > override.created_at
    assert (override.start - ch.epoch) % SEGMENT == dt.timedelta(0)
    html = client.get("/admin/overrides/").content.decode()
    assert "Alerte générique" in html and f"/admin/overrides/end/{override.pk}/" in html
    assert client.get(f"/admin/overrides/end/{override.pk}/").status_code == 200
    edit = client.get(f"/admin/overrides/edit/{override.pk}/").content.decode()
    assert 'name="note"' in edit and 'name="start"' not in edit and 'name="end"' not in edit
    response = client.post(f"/admin/overrides/end/{override.pk}/")
    assert response.status_code == 302
    override.refresh_from_db()
    assert override.ended_at is not None and override.end is not None
    assert (
        f"/admin/overrides/end/{override.pk}/"
        not in client.get("/admin/overrides/").content.decode()
    )
