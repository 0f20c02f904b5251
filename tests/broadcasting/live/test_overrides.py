"""Overrides (issues 5 and 10): the services snap to segment boundaries and accept only clips
that can air, priorities stack them (alerts above manual take-overs), the pure choice of what
airs holds over random timelines and stacks, a real-ffmpeg playout airs clips mid-item, resumes
the next override and then the plan at wall clock and logs what aired, and editors start, rank
and end overrides from the admin."""

import datetime as dt
import json
from pathlib import Path
from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from broadcasting.live.overrides import (
    DEFAULT_PRIORITY,
    OverrideRefused,
    OverrideWindow,
    clip_refusal,
    override_at,
    override_choice,
    override_end,
    override_index,
    override_start,
)
from broadcasting.live.playout import publish_window
from broadcasting.live.store import index_storage, live_prefix, read_index, rung_prefix
from broadcasting.media.grid import segment_start, sequence_at
from broadcasting.media.storage import asset_prefix, public_storage
from broadcasting.models import Asset, ChannelFormat, Override, OverrideReason
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
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"approval": "pending"}, "not_approved"),
        ({"approval": "rejected"}, "not_approved"),
        ({"state": "transcoding"}, "not_ready"),
        ({"segment_count": 0}, "no_segments"),
        ({"channel_format": "other"}, "other_format"),
    ],
)
def test_only_clips_that_can_air_on_the_channel_take_it_over(
    change: dict[str, object], reason: str
) -> None:
    """A pending clip was accepted, the playout rightly did not air it, and the as-run log said
    it had aired: the service now refuses it, with a reason an editor can read."""
    ch = cast(Channel, default_channel())
    if change.get("channel_format") == "other":
        change = {"channel_format": ChannelFormat.objects.create(name="Autre", rungs=[])}
    clip = cast(Asset, ReadyAssetFactory(**{"segment_count": 2, **change}))
    with pytest.raises(OverrideRefused) as refused:
        override_start(
            channel=ch, asset=clip, now=segment_start(9000, epoch=ch.epoch, segment_ms=4800)
        )
    assert refused.value.code == reason
    assert refused.value.message and not Override.objects.exists()


@pytest.mark.django_db
def test_the_default_priority_puts_alerts_above_manual_take_overs() -> None:
    ch = cast(Channel, default_channel())
    clip = cast(Asset, ReadyAssetFactory(segment_count=2))
    now = segment_start(9000, epoch=ch.epoch, segment_ms=4800)
    manual = override_start(channel=ch, asset=clip, now=now)
    alert = override_start(channel=ch, asset=clip, now=now, reason=OverrideReason.ALERT)
    chosen = override_start(channel=ch, asset=clip, now=now, priority=150)
    assert manual.priority == DEFAULT_PRIORITY[OverrideReason.MANUAL]
    assert alert.priority == DEFAULT_PRIORITY[OverrideReason.ALERT] > manual.priority
    assert chosen.priority == 150


@pytest.mark.django_db
def test_the_highest_override_airs_and_the_next_one_resumes_when_it_ends() -> None:
    """Only the latest override used to count, and one that had finished did not give the air
    back to an older one still running."""
    ch = cast(Channel, default_channel())
    loop = cast(Asset, ReadyAssetFactory(segment_count=3))
    once = cast(Asset, ReadyAssetFactory(segment_count=2))
    t0 = segment_start(7000, epoch=ch.epoch, segment_ms=4800)
    alert = override_start(channel=ch, asset=once, now=t0, reason="alert", repeat=False)  # 7001-2
    manual = override_start(channel=ch, asset=loop, now=t0 + SEGMENT)  # from 7002, lower priority
    assert override_at(channel=ch, at=t0 + SEGMENT) == alert
    assert override_at(channel=ch, at=t0 + 2 * SEGMENT) == alert  # started later, ranks lower
    assert override_at(channel=ch, at=t0 + 3 * SEGMENT) == manual  # the alert's clip has ended
    override_end(override=manual, now=t0 + 4 * SEGMENT)
    assert override_at(channel=ch, at=t0 + 5 * SEGMENT) is None


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


@st.composite
def stacks(draw: st.DrawFn) -> list[OverrideWindow]:
    """Up to five overrides over 40 segments, each with a priority (equal ones included)."""
    windows = []
    for key in range(1, draw(st.integers(0, 5)) + 1):
        first = draw(st.integers(0, 40))
        windows.append(
            OverrideWindow(
                first=first, stop=draw(st.none() | st.integers(first, 45)),
                length=draw(st.integers(1, 6)), repeat=draw(st.booleans()),
                priority=draw(st.sampled_from([100, 200, 150])), key=key,
            )
        )  # fmt: skip
    return windows


@given(stacks())
def test_the_highest_active_override_airs_and_the_next_resumes_at_wall_clock(
    windows: list[OverrideWindow],
) -> None:
    for n in range(50):
        active = [w for w in windows if override_index(n, w) is not None]
        chosen = override_choice(n, windows)
        if not active:  # the plan airs (at wall clock, as above)
            assert chosen is None
            continue
        assert chosen is not None
        window, clip = chosen
        assert window in active
        # the highest priority; among equals the latest start, then the latest created
        assert (window.priority, window.first, window.key) == max(
            (w.priority, w.first, w.key) for w in active
        )
        # joined at wall clock: the segment its own clock says, whatever aired before
        assert (
            clip
            == override_index(n, window)
            == ((n - window.first) % window.length if window.repeat else n - window.first)
        )
        assert override_choice(n, list(reversed(windows))) == chosen  # order does not matter


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
        index = json.loads(index_storage().open(f"{prefix}/index.json").read())
        for n in range(sequence - WINDOW + 1, sequence + 1):
            if str(n) in index:
                seen.setdefault(n, storage.open(f"{prefix}/{index[str(n)]['name']}").read())
    index = json.loads(index_storage().open(f"{prefix}/index.json").read())
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


def _sources(on: Channel) -> dict[int, str]:
    """What each published sequence of the rung was made from."""
    index = read_index(index_storage(), rung_prefix(on.slug, RUNG.name))
    return {n: entry.source for n, entry in index.items()}


@pytest.mark.django_db
@pytest.mark.slow
def test_stacked_overrides_air_by_priority_resume_at_wall_clock_and_are_logged(
    channel: Channel,  # noqa: F811
    encoded: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A manual take-over from START + 1 to START + 6, an alert (a 2-segment clip, not looped)
    over it from START + 2: the alert airs, the take-over resumes at its wall clock, then the
    plan at its own. Each run that aired is logged, nothing that did not."""
    take_over = _stored_asset(encoded["loud"], channel.channel_format, "Reprise")
    alert_clip = _stored_asset(encoded["landscape"], channel.channel_format, "Alerte")
    at = {
        n: segment_start(n, epoch=EPOCH, segment_ms=SPEC.segment_ms)
        for n in range(START - 6, START + 8)
    }
    manual = override_start(
        channel=channel, asset=take_over, now=at[START] + SEGMENT / 4, end=at[START + 6]
    )
    alert = override_start(
        channel=channel, asset=alert_clip, reason="alert", repeat=False,
        now=at[START + 1] + SEGMENT / 4,
    )  # fmt: skip
    assert (manual.start, alert.start) == (at[START + 1], at[START + 2])
    storage = public_storage()
    prefix = f"{live_prefix(channel.slug)}/{RUNG.name}"
    seen: dict[int, bytes] = {}
    for sequence in range(START, START + 7):
        publish_window(channel=channel, now=at[sequence] + SEGMENT / 3, window=WINDOW)
        for n, entry in read_index(index_storage(), prefix).items():
            if n <= sequence:
                seen.setdefault(n, storage.open(f"{prefix}/{entry.name}").read())
    last_landscape = max(
        a.pk for a in Asset.objects.filter(title="landscape", channel_format=channel.channel_format)
    )
    first_landscape = min(
        a.pk for a in Asset.objects.filter(title="landscape", channel_format=channel.channel_format)
    )

    def seg(asset_id: int, index: int) -> str:
        return f"{asset_prefix(asset_id)}/{RUNG.name}/seg_{index:05d}.ts"

    expected = {
        START: seg(first_landscape, 0),
        START + 1: seg(take_over.pk, 0),
        START + 2: seg(alert_clip.pk, 0),  # the alert, above the take-over
        START + 3: seg(alert_clip.pk, 1),
        START + 4: seg(take_over.pk, 1),  # the take-over again, at its wall clock (3 in)
        START + 5: seg(take_over.pk, 0),
        START + 6: seg(last_landscape, 1),  # then the plan, at its wall clock
    }
    assert {n: _sources(channel)[n] for n in expected} == expected
    _check_clean(tmp_path, seen, START, START + 6)
    runs = AsRunEntry.objects.filter(channel=channel, actual_start__gte=at[START])
    logged = [
        (r.title, r.reason, _seq(channel, r.actual_start), _seq(channel, r.actual_end))
        for r in runs.order_by("actual_start")
    ]
    assert logged == [
        ("landscape", "as_planned", START, START + 1),  # interrupted after one segment
        ("Reprise", "override", START + 1, START + 2),
        ("Alerte", "alert", START + 2, START + 4),
        ("Reprise", "override", START + 4, START + 6),
        ("landscape", "as_planned", START + 6, START + 7),
    ]


def _logged(on: Channel) -> list[tuple[int, str, str]]:
    runs = AsRunEntry.objects.filter(channel=on).order_by("actual_start")
    return [(_seq(on, r.actual_start) - START, r.title, r.reason) for r in runs]


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.parametrize("clip", ["Alerte", "loud"])
def test_an_override_whose_first_segment_aired_already_is_logged_from_what_aired(
    channel: Channel,  # noqa: F811
    encoded: dict[str, Path],  # noqa: F811
    clip: str,
) -> None:
    """Started after its first boundary was published (the loop publishes a second early): the
    plan aired there, the override joins at its wall clock and is logged from its first segment
    on air. Its clip may be the very asset the plan airs at the same place ("loud"): the same
    bytes are the plan's, the override is logged where it airs something else."""
    at = {
        n: segment_start(n, epoch=EPOCH, segment_ms=SPEC.segment_ms)
        for n in range(START, START + 8)
    }
    if clip == "Alerte":
        asset = _stored_asset(encoded["landscape"], channel.channel_format, "Alerte")
    else:
        asset = Asset.objects.get(title="loud", channel_format=channel.channel_format)
    for n in range(START, START + 4):
        publish_window(channel=channel, now=at[n], window=WINDOW)
    started = override_start(channel=channel, asset=asset, now=at[START + 3] - SEGMENT / 4)
    assert started.start == at[START + 3]  # on air already: made from the plan
    for n in range(START + 3, START + 7):
        publish_window(channel=channel, now=at[n], window=WINDOW)
    first = START + 4 if clip == "Alerte" else START + 5  # loud's 2nd segment is the plan's too
    assert _logged(channel) == [
        (0, "landscape", "as_planned"),
        (2, "four_by_three", "as_planned"),
        (3, "loud", "as_planned"),
        (first - START, clip, "override"),
    ]


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


@pytest.mark.django_db
def test_editors_rank_overrides_and_the_form_refuses_a_clip_that_cannot_air(
    client: Client,
) -> None:
    ch = cast(Channel, default_channel())
    pending = cast(
        Asset, ReadyAssetFactory(title="En attente", segment_count=2, approval="pending")
    )
    clip = cast(Asset, ReadyAssetFactory(title="Alerte générique", segment_count=2))
    client.force_login(EditorFactory(is_superuser=True))
    assert 'name="priority"' in client.get("/admin/overrides/new/").content.decode()
    form = {"channel": ch.pk, "reason": "alert", "repeat": "on", "note": ""}
    refused = client.post("/admin/overrides/new/", {**form, "asset": pending.pk})
    assert refused.status_code == 200 and not Override.objects.exists()
    refusal = clip_refusal(channel=ch, asset=pending)
    assert refusal is not None and escape(refusal.message) in refused.content.decode()
    assert client.post("/admin/overrides/new/", {**form, "asset": clip.pk}).status_code == 302
    by_default = Override.objects.get()
    assert by_default.priority == DEFAULT_PRIORITY[OverrideReason.ALERT]
    response = client.post("/admin/overrides/new/", {**form, "asset": clip.pk, "priority": "150"})
    assert response.status_code == 302
    assert Override.objects.exclude(pk=by_default.pk).get().priority == 150
    listing = client.get("/admin/overrides/").content.decode()
    assert ">150<" in listing.replace(" ", "").replace("\n", "")
    edit = client.get(f"/admin/overrides/edit/{by_default.pk}/").content.decode()
    assert 'name="priority"' in edit
    client.post(f"/admin/overrides/edit/{by_default.pk}/", {"note": "", "priority": "50"})
    assert Override.objects.get(pk=by_default.pk).priority == 50
