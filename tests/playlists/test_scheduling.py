"""Tests of the timeline builder (pure: no database, no clock)."""

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcasting.media.grid import grid_ceil
from playlists.calendar import resolve_local
from playlists.rules import (
    WEEKDAYS,
    Block,
    CardSlotRule,
    ChannelRules,
    Event,
    FillerPolicy,
    LibraryAsset,
    PlaylistRule,
    PlayRecord,
    RotationRule,
    TimelineEntry,
)
from playlists.scheduling import (
    Gate,
    IndexedPool,
    PoolAsset,
    ScanPool,
    build_timeline,
    timeline_problems,
)

PARIS = ZoneInfo("Europe/Paris")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SEG = 4800
ALL_DAYS = frozenset(WEEKDAYS)
CATEGORIES = ("news", "sport", "culture")
PROPERTY = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def asset(
    id: int,
    segments: int,
    *,
    kind: str = "programme",
    category: str = "news",
    origin: str = "city",
    created_at: datetime = EPOCH,
) -> LibraryAsset:
    """A library asset of ``segments`` segments."""
    return LibraryAsset(
        id=id,
        title=f"asset {id}",
        duration_ms=segments * SEG,
        kind=kind,
        category=category,
        origin=origin,
        created_at=created_at,
    )


def channel(
    blocks: tuple[Block, ...] = (),
    events: tuple[Event, ...] = (),
    fillers: FillerPolicy | None = None,
    slate_id: int | None = 999,
) -> ChannelRules:
    """A Paris channel with the default epoch."""
    return ChannelRules(
        channel_id=1,
        tz="Europe/Paris",
        epoch=EPOCH,
        slate_id=slate_id,
        blocks=blocks,
        events=events,
        default_fillers=fillers or FillerPolicy(),
    )


def block(
    id: int,
    start: time,
    end: time,
    content: RotationRule | PlaylistRule,
    *,
    days: frozenset[str] = ALL_DAYS,
    priority: int = 0,
    fillers: FillerPolicy | None = None,
) -> Block:
    """A block called after its id."""
    return Block(
        id=id,
        name=f"block {id}",
        day_types=days,
        start=start,
        end=end,
        priority=priority,
        content=content,
        fillers=fillers,
    )


def naive(*args: int) -> datetime:
    """A naive local (wall-clock) datetime, as events take."""
    return datetime(*args)  # noqa: DTZ001


def paris(*args: int) -> datetime:
    """An aware instant from Paris wall time (first occurrence)."""
    return resolve_local(date(*args[:3]), time(*args[3:]), "Europe/Paris")


def build(rules: ChannelRules, library: list[LibraryAsset], start: datetime, end: datetime, **kw):  # type: ignore[no-untyped-def]
    """Build and check the timeline is a valid tiling of the window."""
    entries = build_timeline(rules=rules, library=library, start=start, end=end, seed=7, **kw)
    assert timeline_problems(entries, start, end, EPOCH, SEG) == []
    return entries


def starting_at(entries: list[TimelineEntry], instant: datetime) -> TimelineEntry:
    """The entry that starts at ``instant``."""
    matches = [entry for entry in entries if entry.start == instant]
    assert matches, f"no entry starts at {instant}"
    return matches[0]


# --- units -----------------------------------------------------------------------------------


def test_empty_library_yields_one_valid_slate_entry() -> None:
    start, end = datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC)
    rules = channel(
        (block(1, time(0), time(0), RotationRule()),), fillers=FillerPolicy(ident_ids=(1,))
    )
    entries = build(rules, [], start, end)
    assert [(e.kind, e.role, e.asset_id, e.start, e.end) for e in entries] == [
        ("slate", "slate", 999, start, end)
    ]


def test_empty_library_without_slate_asset_uses_the_builtin_slate() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    entries = build(channel(slate_id=None), [], start, end)
    assert [(e.kind, e.asset_id) for e in entries] == [("slate", None)]


def test_window_snaps_to_the_next_grid_instant_and_the_tail_is_cut() -> None:
    start = datetime(2026, 5, 4, 10, 0, 1, tzinfo=UTC)
    end = datetime(2026, 5, 4, 10, 30, 1, tzinfo=UTC)
    rules = channel((block(1, time(0), time(0), PlaylistRule(asset_ids=(1,))),))
    entries = build(rules, [asset(1, 750)], start, end)
    assert entries[0].start == grid_ceil(start, epoch=EPOCH, segment_ms=SEG)
    assert entries[-1].end == grid_ceil(end, epoch=EPOCH, segment_ms=SEG)
    assert entries[-1].cut


def test_empty_window_gives_no_entries() -> None:
    instant = datetime(2026, 5, 4, 10, tzinfo=UTC)
    assert (
        build_timeline(rules=channel(), library=[asset(1, 5)], start=instant, end=instant, seed=1)
        == []
    )


def test_playlist_plays_in_order_and_loops_then_fills_the_remainder() -> None:
    rules = channel(
        (block(1, time(12), time(12, 50), PlaylistRule(asset_ids=(1, 2, 404, 3))),),
        fillers=FillerPolicy(
            card_slots=(CardSlotRule(category="parking", length_ms=9600, every_n_items=99),)
        ),
    )
    library = [asset(1, 100), asset(2, 200), asset(3, 150)]
    entries = build(rules, library, paris(2026, 6, 1, 12), paris(2026, 6, 1, 13))
    programmes = [e.asset_id for e in entries if e.role == "programme"]
    assert programmes == [1, 2, 3, 1]  # 550 of 625 segments; 2 (200) does not fit in 75
    tail = [(e.kind, e.role, e.end - e.start) for e in entries[4:] if e.block_id == 1]
    assert tail == [
        ("card_slot", "card", timedelta(seconds=9.6)),
        ("slate", "slate", timedelta(seconds=4.8 * 73)),
    ]
    assert entries[4].card_category == "parking"


def test_items_that_do_not_fit_before_the_block_end_are_not_started() -> None:
    rules = channel(
        (
            block(1, time(12), time(13), PlaylistRule(asset_ids=(1,))),
            block(2, time(13), time(14), PlaylistRule(asset_ids=(2,))),
        )
    )
    library = [asset(1, 500), asset(2, 10)]
    entries = build(rules, library, paris(2026, 6, 1, 12), paris(2026, 6, 1, 14))
    first_of_block_2 = next(e for e in entries if e.block_id == 2)
    assert first_of_block_2.start == paris(2026, 6, 1, 13)
    assert [e.role for e in entries if e.block_id == 1] == ["programme", "slate"]


def test_breaks_rolls_and_idents_surround_programmes() -> None:
    fillers = FillerPolicy(
        ident_ids=(10,),
        preroll_ids=(11,),
        postroll_ids=(12,),
        interstitial_ids=(13,),
        card_slots=(CardSlotRule(category="weather", length_ms=9600, every_n_items=2),),
        ident_every_n_items=2,
    )
    rules = channel((block(1, time(0), time(0), PlaylistRule(asset_ids=(1,)), fillers=fillers),))
    library = [asset(1, 20), *(asset(i, 2, kind="ident") for i in (10, 11, 12, 13))]
    entries = build(
        rules, library, paris(2026, 6, 1, 12), paris(2026, 6, 1, 12) + timedelta(seconds=4.8 * 100)
    )
    roles = [e.role for e in entries][:13]
    assert roles == [
        "ident", "preroll", "programme", "postroll",
        "interstitial", "preroll", "programme", "postroll",
        "interstitial", "card", "ident", "preroll", "programme",
    ]  # fmt: skip


def test_hard_event_starts_on_time_and_soft_event_waits_for_the_item() -> None:
    events = (
        Event(
            id=1,
            title="hard",
            dtstart_local=naive(2026, 6, 6, 20, 31),
            rrule=None,
            asset_ids=(5,),
        ),
        Event(
            id=2,
            title="soft",
            dtstart_local=naive(2026, 6, 6, 22, 10),
            rrule=None,
            asset_ids=(5,),
            hard=False,
        ),
    )
    rules = channel((block(1, time(18), time(23, 59), PlaylistRule(asset_ids=(1,))),), events)
    library = [asset(1, 750), asset(5, 100)]
    entries = build(rules, library, paris(2026, 6, 6, 18), paris(2026, 6, 7, 0))
    hard = starting_at(entries, grid_ceil(paris(2026, 6, 6, 20, 31), epoch=EPOCH, segment_ms=SEG))
    assert (hard.role, hard.event_id) == ("event", 1)
    soft = next(e for e in entries if e.event_id == 2)
    programme_before = [e for e in entries if e.role == "programme" and e.start < soft.start][-1]
    assert programme_before.start < paris(2026, 6, 6, 22, 10) < soft.start == programme_before.end


def test_hard_event_cuts_a_running_event() -> None:
    events = (
        Event(id=1, title="long", dtstart_local=naive(2026, 6, 6, 20), rrule=None, asset_ids=(5,)),
        Event(
            id=2,
            title="news flash",
            dtstart_local=naive(2026, 6, 6, 20, 30),
            rrule=None,
            asset_ids=(6,),
        ),
    )
    library = [asset(5, 750), asset(6, 10)]
    entries = build(channel(events=events), library, paris(2026, 6, 6, 19), paris(2026, 6, 6, 22))
    long = next(e for e in entries if e.event_id == 1)
    assert long.cut and long.end == paris(2026, 6, 6, 20, 30)
    assert starting_at(entries, paris(2026, 6, 6, 20, 30)).event_id == 2


def test_weekly_rrule_event_keeps_local_time_across_the_autumn_change() -> None:
    event = Event(
        id=1,
        title="match",
        dtstart_local=naive(2026, 10, 3, 20, 30),
        rrule="FREQ=WEEKLY;BYDAY=SA",
        asset_ids=(5,),
    )
    entries = build(
        channel(events=(event,)), [asset(5, 100)], paris(2026, 10, 20), paris(2026, 11, 3)
    )
    starts = [e.start for e in entries if e.event_id == 1]
    assert starts == [
        datetime(2026, 10, 24, 18, 30, tzinfo=UTC),
        datetime(2026, 10, 31, 19, 30, tzinfo=UTC),
    ]


def test_event_started_before_the_window_keeps_its_later_items_on_time() -> None:
    event = Event(
        id=1,
        title="marathon",
        dtstart_local=naive(2026, 6, 6, 20),
        rrule=None,
        asset_ids=(5, 6, 7),
    )
    library = [asset(5, 100), asset(6, 100), asset(7, 100), asset(1, 3)]
    rules = channel((block(1, time(0), time(0), RotationRule()),), (event,))
    start = paris(2026, 6, 6, 20) + timedelta(seconds=4.8 * 150)
    entries = build(rules, library, start, paris(2026, 6, 6, 22))
    assert starting_at(entries, paris(2026, 6, 6, 20) + timedelta(seconds=4.8 * 200)).asset_id == 7


@pytest.mark.parametrize(
    ("day", "start", "end", "expected_start", "expected_end"),
    [
        # spring 2027: a block starting inside the skipped hour starts at 03:00 CEST
        (date(2027, 3, 28), time(2, 30), time(4), (1, 0), (2, 0)),
        # ... and one ending inside it ends at 03:00 CEST too
        (date(2027, 3, 28), time(1), time(2, 30), (0, 0), (1, 0)),
        # autumn 2026: 02:30 is the first (CEST) 02:30
        (date(2026, 10, 25), time(2, 30), time(3, 30), (0, 30), (2, 30)),
        (date(2026, 10, 25), time(1), time(2, 30), (23, 0), (0, 30)),
    ],
)
def test_dayparts_starting_or_ending_in_dst_changes(
    day: date,
    start: time,
    end: time,
    expected_start: tuple[int, int],
    expected_end: tuple[int, int],
) -> None:
    rules = channel(
        (
            block(1, time(0), time(0), PlaylistRule(asset_ids=(1,))),
            block(2, start, end, PlaylistRule(asset_ids=(2,)), priority=1),
        )
    )
    library = [asset(1, 25), asset(2, 25)]
    window_start = datetime.combine(day - timedelta(days=1), time(12), UTC)
    entries = build(rules, library, window_start, window_start + timedelta(days=1))
    inside = [e for e in entries if e.block_id == 2]
    utc_day = day - timedelta(days=1) if expected_start[0] >= 12 else day
    assert inside[0].start == datetime.combine(utc_day, time(*expected_start), UTC)
    assert inside[-1].end == datetime.combine(day, time(*expected_end), UTC)


@pytest.mark.parametrize(("day", "hours"), [(date(2027, 3, 28), 23), (date(2026, 10, 25), 25)])
def test_whole_day_block_lasts_23_or_25_hours(day: date, hours: int) -> None:
    rules = channel(
        (
            block(1, time(0), time(0), PlaylistRule(asset_ids=(1,)), days=ALL_DAYS - {"sun"}),
            block(2, time(0), time(0), PlaylistRule(asset_ids=(2,)), days=frozenset({"sun"})),
        )
    )
    entries = build(rules, [asset(1, 25), asset(2, 25)], paris(2026, 10, 20), paris(2027, 4, 2))
    sunday = [e for e in entries if e.block_id == 2 and e.start.astimezone(PARIS).date() == day]
    assert sunday[-1].end - sunday[0].start == timedelta(hours=hours)
    assert sunday[0].start == paris(day.year, day.month, day.day, 0)


def test_christmas_uses_holiday_blocks_and_other_days_their_weekday() -> None:
    rules = channel(
        (
            block(1, time(0), time(0), PlaylistRule(asset_ids=(1,))),
            block(2, time(0), time(0), PlaylistRule(asset_ids=(2,)), days=frozenset({"holiday"})),
        )
    )
    entries = build(rules, [asset(1, 25), asset(2, 25)], paris(2026, 12, 24), paris(2026, 12, 27))
    by_day = {(e.start.astimezone(PARIS).date(), e.block_id) for e in entries}
    assert {d for d, b in by_day if b == 2} == {date(2026, 12, 25)}
    assert {d for d, b in by_day if b == 1} == {date(2026, 12, 24), date(2026, 12, 26)}


def test_holidays_fall_back_to_weekday_blocks_when_no_block_lists_them() -> None:
    rules = channel(
        (block(1, time(0), time(0), PlaylistRule(asset_ids=(1,)), days=frozenset({"fri"})),)
    )
    entries = build(rules, [asset(1, 25)], paris(2026, 12, 25), paris(2026, 12, 26))
    assert {e.block_id for e in entries} == {1}


def test_higher_priority_block_overrides_and_the_lower_one_resumes() -> None:
    rules = channel(
        (
            block(1, time(10), time(14), PlaylistRule(asset_ids=(1, 2, 3, 4, 5))),
            block(2, time(11), time(12), PlaylistRule(asset_ids=(9,)), priority=5),
        )
    )
    library = [*(asset(i, 125) for i in (1, 2, 3, 4, 5)), asset(9, 750)]
    entries = build(rules, library, paris(2026, 6, 1, 10), paris(2026, 6, 1, 14))
    assert [(e.block_id, e.asset_id) for e in entries if e.role == "programme"][:8] == [
        (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 1), (2, 9), (1, 2),
    ]  # fmt: skip


def test_small_pool_falls_back_to_least_recently_played_and_flags_it() -> None:
    rule = RotationRule(no_repeat_hours=24)
    rules = channel((block(1, time(0), time(0), rule),))
    entries = build(rules, [asset(1, 750), asset(2, 750)], paris(2026, 6, 1), paris(2026, 6, 1, 6))
    assert [e.repeat_fallback for e in entries] == [False, False, True, True, True, True]
    assert [e.asset_id for e in entries][2:] in ([entries[0].asset_id, entries[1].asset_id] * 2,)


def test_max_plays_per_day_is_hard_and_leaves_slate() -> None:
    rule = RotationRule(max_plays_per_day=2)
    rules = channel((block(1, time(0), time(0), rule),))
    entries = build(rules, [asset(1, 750)], paris(2026, 6, 1), paris(2026, 6, 2, 2))
    assert [(e.kind, e.asset_id) for e in entries][:3] == [
        ("asset", 1),
        ("asset", 1),
        ("slate", 999),
    ]
    assert entries[-2].start == paris(2026, 6, 2) and entries[-2].asset_id == 1  # a new local day


def test_an_asset_in_the_break_is_not_picked_as_the_programme_under_no_repeat() -> None:
    fillers = FillerPolicy(preroll_ids=(1,))
    rules = channel((block(1, time(0), time(0), RotationRule(no_repeat_hours=1), fillers=fillers),))
    entries = build(rules, [asset(1, 1), asset(2, 1)], paris(2026, 6, 1), paris(2026, 6, 1, 0, 1))
    assert [(e.role, e.asset_id) for e in entries[:2]] == [("preroll", 1), ("programme", 2)]


def test_history_before_the_window_counts_for_no_repeat() -> None:
    rules = channel((block(1, time(0), time(0), RotationRule(no_repeat_hours=6)),))
    library = [asset(1, 750), asset(2, 750)]
    history = [PlayRecord(asset_id=1, start=paris(2026, 6, 1, 5))]
    entries = build(rules, library, paris(2026, 6, 1, 6), paris(2026, 6, 1, 7), history=history)
    assert entries[0].asset_id == 2


def test_fresh_resident_assets_are_boosted() -> None:
    rule = RotationRule(fresh_boost_days=7, fresh_boost=9.0)
    fresh = asset(1, 25, origin="resident", created_at=datetime(2026, 5, 30, tzinfo=UTC))
    old = asset(2, 25, origin="resident", created_at=datetime(2026, 1, 2, tzinfo=UTC))
    rules = channel((block(1, time(0), time(0), rule),))
    entries = build(rules, [fresh, old], paris(2026, 6, 1), paris(2026, 6, 2))
    counts = Counter(e.asset_id for e in entries)
    assert 0.85 < counts[1] / (counts[1] + counts[2]) < 0.95


@pytest.mark.parametrize("pool_type", [IndexedPool, ScanPool])
def test_pool_picks_follow_weights_boost_and_room(pool_type: type) -> None:
    rule = RotationRule(
        weights=(("sport", 3.0), ("culture", 0.0)), fresh_boost_days=1, fresh_boost=4.0
    )
    day = 750 * 24
    items = [
        # 1: weight 1; 2: weight 3; 3: fresh, 1 x 4; 4: weight 0, never; 5: does not fit
        PoolAsset(segments=10, id=1, category="news", created=0.0, resident=True),
        PoolAsset(segments=10, id=2, category="sport", created=0.0, resident=False),
        PoolAsset(segments=10, id=3, category="news", created=100 * day - 10, resident=True),
        PoolAsset(segments=10, id=4, category="culture", created=100 * day, resident=True),
        PoolAsset(segments=99, id=5, category="news", created=0.0, resident=True),
    ]
    pool = pool_type(rule, items, float(day))
    rng = random.Random(3)
    gate = Gate(last={}, plays={}, at=100 * day, day=0, gap=0.0, cap=None)
    counts = Counter(pool.pick(room=50, at=100 * day, gate=gate, rng=rng)[0] for _ in range(16_000))
    assert set(counts) == {1, 2, 3}
    for asset_id, weight in ((1, 1), (2, 3), (3, 4)):
        assert abs(counts[asset_id] / 16_000 - weight / 8) < 0.015


def test_same_inputs_give_the_same_timeline_and_another_seed_another() -> None:
    rules = channel((block(1, time(0), time(0), RotationRule(no_repeat_hours=1)),))
    library = [asset(i, 10 + i) for i in range(1, 60)]
    args = {
        "rules": rules,
        "library": library,
        "start": paris(2026, 6, 1),
        "end": paris(2026, 6, 2),
    }
    assert build_timeline(**args, seed=1) == build_timeline(**args, seed=1)
    assert build_timeline(**args, seed=1) != build_timeline(**args, seed=2)


def test_a_block_change_on_one_day_does_not_reshuffle_another_day() -> None:
    library = [asset(i, 10 + i) for i in range(1, 60)]
    base = block(1, time(0), time(0), RotationRule())
    extra = block(
        2, time(12), time(13), PlaylistRule(asset_ids=(1,)), days=frozenset({"tue"}), priority=1
    )
    start, end = paris(2026, 6, 1), paris(2026, 6, 3)  # Monday, Tuesday
    before = build(channel((base,)), library, start, end)
    after = build(channel((base, extra)), library, start, end)
    monday = paris(2026, 6, 2)
    assert [e for e in before if e.end <= monday] == [e for e in after if e.end <= monday]


def test_timeline_problems_reports_gaps_overlaps_and_off_grid_entries() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    s = timedelta(milliseconds=SEG)

    def entry(a: datetime, b: datetime) -> TimelineEntry:
        return TimelineEntry(
            start=a, end=b, kind="slate", asset_id=None, role="slate", block_id=None, event_id=None
        )

    entries = [
        entry(t0, t0 + s),
        entry(t0 + 2 * s, t0 + 4 * s),
        entry(t0 + 3 * s, t0 + 5 * s + timedelta(seconds=1)),
    ]
    problems = timeline_problems(entries, t0, t0 + 6 * s, EPOCH, SEG)
    assert any(p.startswith("gap") for p in problems)
    assert any(p.startswith("overlap") for p in problems)
    assert any("off the grid" in p for p in problems)
    assert any("ends at" in p for p in problems)


# --- properties ------------------------------------------------------------------------------

TRICKY_TIMES = [
    time(0),
    time(1),
    time(2),
    time(2, 30),
    time(3),
    time(3, 30),
    time(6),
    time(12),
    time(23),
]
WINDOW_STARTS = [
    datetime(2026, 10, 24, 18, tzinfo=UTC),  # around the autumn change (2026-10-25)
    datetime(2027, 3, 27, 18, tzinfo=UTC),  # around the spring change (2027-03-28)
    datetime(2026, 12, 24, 6, tzinfo=UTC),  # around Christmas
]


@st.composite
def libraries(draw: st.DrawFn) -> list[LibraryAsset]:
    """Small libraries of short assets: programmes, idents, fillers."""
    count = draw(st.integers(min_value=0, max_value=30))
    return [
        asset(
            i,
            draw(st.integers(min_value=1, max_value=300)),
            kind=draw(st.sampled_from(["programme", "programme", "programme", "ident", "filler"])),
            category=draw(st.sampled_from(CATEGORIES)),
            origin=draw(st.sampled_from(["resident", "city"])),
            created_at=EPOCH + timedelta(days=draw(st.integers(min_value=0, max_value=700))),
        )
        for i in range(1, count + 1)
    ]


@st.composite
def channels(draw: st.DrawFn) -> ChannelRules:
    """Random rule sets: blocks with tricky local times, events, filler policies."""
    ids = st.lists(st.integers(min_value=1, max_value=32), max_size=4).map(tuple)
    fillers = FillerPolicy(
        ident_ids=draw(ids),
        preroll_ids=draw(ids),
        postroll_ids=draw(ids),
        interstitial_ids=draw(ids),
        card_slots=tuple(
            CardSlotRule(
                category="parking", length_ms=draw(st.integers(1, 30)) * 960, every_n_items=n
            )
            for n in draw(st.lists(st.integers(min_value=1, max_value=4), max_size=2))
        ),
        ident_every_n_items=draw(st.none() | st.integers(min_value=1, max_value=3)),
    )
    rotation = st.builds(
        RotationRule,
        categories=st.frozensets(st.sampled_from(CATEGORIES)),
        kinds=st.just(frozenset({"programme"})),
        weights=st.just((("sport", 2.0), ("culture", 0.5))),
        no_repeat_hours=st.sampled_from([0.0, 0.5, 2.0, 12.0]),
        max_plays_per_day=st.none() | st.integers(min_value=1, max_value=3),
        fresh_boost_days=st.sampled_from([0.0, 30.0, 300.0]),
        fresh_boost=st.sampled_from([1.0, 3.0]),
    )
    content = rotation | st.builds(PlaylistRule, asset_ids=ids)
    day_types = st.frozensets(st.sampled_from([*WEEKDAYS, "holiday"]), min_size=1)
    blocks = tuple(
        Block(
            id=i,
            name=f"block {i}",
            day_types=draw(day_types),
            start=draw(st.sampled_from(TRICKY_TIMES)),
            end=draw(st.sampled_from(TRICKY_TIMES)),
            priority=draw(st.integers(min_value=0, max_value=2)),
            content=draw(content),
            fillers=draw(st.none() | st.just(fillers)),
        )
        for i in range(1, draw(st.integers(min_value=0, max_value=6)) + 1)
    )
    events = tuple(
        Event(
            id=i,
            title=f"event {i}",
            dtstart_local=datetime.combine(date(2026, 9, 5), draw(st.sampled_from(TRICKY_TIMES))),
            rrule=draw(
                st.sampled_from(
                    [None, "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SA,SU", "FREQ=HOURLY;INTERVAL=5"]
                )
            ),
            asset_ids=draw(ids),
            hard=draw(st.booleans()),
        )
        for i in range(1, draw(st.integers(min_value=0, max_value=3)) + 1)
    )
    return ChannelRules(
        channel_id=1, tz="Europe/Paris", epoch=EPOCH, slate_id=draw(st.none() | st.just(1)),
        blocks=blocks, events=events, default_fillers=fillers,
    )  # fmt: skip


windows = st.tuples(
    st.sampled_from(WINDOW_STARTS),
    st.integers(min_value=-6 * 3600, max_value=12 * 3600),  # start offset, seconds (off-grid too)
    st.integers(min_value=1, max_value=60 * 3600),  # length, seconds
).map(lambda w: (w[0] + timedelta(seconds=w[1]), w[0] + timedelta(seconds=w[1] + w[2])))


def expected_hard_starts(
    rules: ChannelRules, library: list[LibraryAsset], start: datetime, end: datetime
) -> set[datetime]:
    """Grid starts of hard occurrences inside the window, computed independently."""
    known = {a.id for a in library}
    first = grid_ceil(start, epoch=EPOCH, segment_ms=SEG)
    last = grid_ceil(end, epoch=EPOCH, segment_ms=SEG)
    low = start.astimezone(PARIS).replace(tzinfo=None) - timedelta(days=1)
    high = end.astimezone(PARIS).replace(tzinfo=None)
    result = set()
    for event in rules.events:
        if not event.hard or not known & set(event.asset_ids):
            continue
        locals_ = (
            rrulestr(event.rrule, dtstart=event.dtstart_local).between(low, high, inc=True)
            if event.rrule
            else [event.dtstart_local]
        )
        for local in locals_:
            resolved = resolve_local(local.date(), local.time(), rules.tz)
            instant = grid_ceil(resolved, epoch=EPOCH, segment_ms=SEG)
            if first <= instant < last:
                result.add(instant)
    return result


def rotation_of(rules: ChannelRules, entry: TimelineEntry) -> RotationRule | None:
    """The rotation rule of the block an entry comes from, if any."""
    for candidate in rules.blocks:
        if candidate.id == entry.block_id and isinstance(candidate.content, RotationRule):
            return candidate.content
    return None


@PROPERTY
@given(rules=channels(), library=libraries(), window=windows, seed=st.integers(0, 2**32))
def test_timeline_is_gap_free_on_grid_deterministic_and_honours_rules(
    rules: ChannelRules, library: list[LibraryAsset], window: tuple[datetime, datetime], seed: int
) -> None:
    start, end = window
    entries = build_timeline(rules=rules, library=library, start=start, end=end, seed=seed)
    assert timeline_problems(entries, start, end, EPOCH, SEG) == []
    assert entries == build_timeline(rules=rules, library=library, start=start, end=end, seed=seed)
    starts = {e.start for e in entries if e.role == "event"}
    assert expected_hard_starts(rules, library, start, end) <= starts
    last: dict[int, datetime] = {}
    plays: Counter[tuple[int, date]] = Counter()
    for entry in entries:
        if entry.kind != "asset" or entry.asset_id is None:
            continue
        rule = rotation_of(rules, entry) if entry.role == "programme" else None
        day = (entry.asset_id, entry.start.astimezone(PARIS).date())
        if rule is not None and rule.max_plays_per_day is not None:
            assert plays[day] < rule.max_plays_per_day
        if rule is not None and not entry.repeat_fallback and entry.asset_id in last:
            assert entry.start - last[entry.asset_id] >= timedelta(hours=rule.no_repeat_hours)
        last[entry.asset_id] = entry.start
        plays[day] += 1


@PROPERTY
@given(window=windows, seed=st.integers(0, 2**32), hours=st.sampled_from([1.0, 3.0, 6.0]))
def test_large_pools_never_need_the_no_repeat_fallback(
    window: tuple[datetime, datetime], seed: int, hours: float
) -> None:
    start, end = window
    library = [asset(i, 25 + i % 50) for i in range(1, 401)]  # 400 items of 2-6 min
    rules = channel((block(1, time(0), time(0), RotationRule(no_repeat_hours=hours)),))
    entries = build_timeline(rules=rules, library=library, start=start, end=end, seed=seed)
    assert not any(e.repeat_fallback for e in entries)
    last: dict[int | None, datetime] = {}
    for entry in entries:
        if entry.asset_id in last:
            assert entry.start - last[entry.asset_id] >= timedelta(hours=hours)
        last[entry.asset_id] = entry.start


@PROPERTY
@given(rules=channels(), window=windows)
def test_empty_library_is_always_one_slate(
    rules: ChannelRules, window: tuple[datetime, datetime]
) -> None:
    entries = build_timeline(rules=rules, library=[], start=window[0], end=window[1], seed=0)
    assert timeline_problems(entries, *window, EPOCH, SEG) == []
    assert {(e.kind, e.asset_id) for e in entries} <= {("slate", rules.slate_id)}
    assert len(entries) <= 1
