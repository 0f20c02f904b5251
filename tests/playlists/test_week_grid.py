"""The week grid's layout is measured on real instants, so it is right on 23- and 25-hour days."""

import datetime as dt

from playlists.week_grid import (
    GridItem,
    day_bounds,
    hour_marks,
    merge_small,
    place,
    week_columns,
    week_monday,
)

PARIS = "Europe/Paris"
UTC = dt.UTC


def item(start: dt.datetime, minutes: float, role: str = "programme", title: str = "A") -> GridItem:
    return GridItem(start=start, end=start + dt.timedelta(minutes=minutes), role=role, title=title)


def test_week_monday_snaps_to_monday_and_ignores_garbage() -> None:
    today = dt.date(2026, 10, 22)
    assert week_monday("2026-10-25", today) == dt.date(2026, 10, 19)
    assert week_monday("not-a-date", today) == dt.date(2026, 10, 19)
    assert week_monday(None, today) == dt.date(2026, 10, 19)


def test_days_of_clock_changes_last_23_and_25_hours() -> None:
    autumn = day_bounds(dt.date(2026, 10, 25), PARIS)
    spring = day_bounds(dt.date(2027, 3, 28), PARIS)
    assert autumn == (
        dt.datetime(2026, 10, 24, 22, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 23, tzinfo=UTC),
    )
    assert (autumn[1] - autumn[0]) == dt.timedelta(hours=25)
    assert (spring[1] - spring[0]) == dt.timedelta(hours=23)


def test_hour_marks_repeat_two_oclock_in_autumn_and_skip_it_in_spring() -> None:
    autumn = [mark.label for mark in hour_marks(*day_bounds(dt.date(2026, 10, 25), PARIS), PARIS)]
    spring = [mark.label for mark in hour_marks(*day_bounds(dt.date(2027, 3, 28), PARIS), PARIS)]
    assert autumn[:5] == ["00:00", "01:00", "02:00", "02:00", "03:00"] and len(autumn) == 25
    assert spring[:3] == ["00:00", "01:00", "03:00"] and len(spring) == 23


def test_an_entry_is_placed_by_the_minutes_really_elapsed_since_local_midnight() -> None:
    # 20:00 local is 19:00 UTC on 2026-10-25 (CET) but 18:00 UTC on 2026-10-21 (CEST).
    normal = place(
        [item(dt.datetime(2026, 10, 21, 18, tzinfo=UTC), 30)],
        *day_bounds(dt.date(2026, 10, 21), PARIS),
        PARIS,
    )
    autumn = place(
        [item(dt.datetime(2026, 10, 25, 19, tzinfo=UTC), 30)],
        *day_bounds(dt.date(2026, 10, 25), PARIS),
        PARIS,
    )
    spring = place(
        [item(dt.datetime(2027, 3, 28, 18, tzinfo=UTC), 30)],
        *day_bounds(dt.date(2027, 3, 28), PARIS),
        PARIS,
    )
    assert [(e.top, e.height) for e in normal] == [(1200, 30)]
    assert [(e.top, e.height) for e in autumn] == [(1260, 30)]
    assert [(e.top, e.height) for e in spring] == [(1140, 30)]
    assert autumn[0].tooltip == "A · 20:00:00–20:30:00"


def test_an_item_crossing_midnight_is_split_between_the_two_days() -> None:
    start = dt.datetime(2026, 10, 21, 21, 45, tzinfo=UTC)  # 23:45 local
    columns = week_columns([item(start, 30)], dt.date(2026, 10, 19), PARIS, now=start)
    wednesday, thursday = columns[2], columns[3]
    assert [(e.top, e.height) for e in wednesday.entries] == [(1425, 15)]
    assert [(e.top, e.height) for e in thursday.entries] == [(0, 15)]
    assert wednesday.now_top == 1425 and thursday.now_top is None
    assert [column.minutes for column in columns] == [1440] * 6 + [1500]


def test_runs_of_short_fillers_merge_into_one_break_but_programmes_stay() -> None:
    at = dt.datetime(2026, 10, 21, 18, tzinfo=UTC)
    items = [
        item(at, 0.16, "ident", "Jingle"),
        item(at + dt.timedelta(minutes=0.16), 0.16, "card", "Météo"),
        item(at + dt.timedelta(minutes=0.32), 30, "programme", "Film"),
        item(at + dt.timedelta(minutes=30.32), 0.16, "ident", "Jingle"),
    ]
    entries = merge_small(place(items, *day_bounds(dt.date(2026, 10, 21), PARIS), PARIS))
    assert [(e.role, e.count) for e in entries] == [("break", 2), ("programme", 1), ("ident", 1)]
    assert entries[0].title == "Jingle + Météo" and entries[0].url == ""
