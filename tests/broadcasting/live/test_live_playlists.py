"""The live playlists as pure functions of the clock: properties over random instants (the grid's
own arithmetic is tested in ``tests/broadcasting/media/test_grid.py``)."""

import datetime as dt
import zoneinfo

import m3u8  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadcasting.live.playlist import master_playlist, media_playlist, program_date_time
from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.grid import sequence_at

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SEGMENT_MS = 4800
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2040, 1, 1),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)


@given(instants, st.integers(min_value=1, max_value=12))
def test_window_and_program_date_times(at: dt.datetime, window: int) -> None:
    last = sequence_at(at, epoch=EPOCH, segment_ms=SEGMENT_MS)
    first = last - window + 1
    uris = [f"{n}-abcdef012345.ts" for n in range(first, last + 1)]
    text = media_playlist(
        first_sequence=first, segment_uris=uris, epoch=EPOCH, segment_ms=SEGMENT_MS
    )
    parsed = m3u8.loads(text)
    assert parsed.media_sequence == first
    assert parsed.target_duration == 5
    assert parsed.version == 3
    assert not parsed.is_endlist
    assert len(parsed.segments) == window
    assert "#EXT-X-DISCONTINUITY" not in text
    for k, segment in enumerate(parsed.segments):
        assert segment.uri == uris[k]
        assert segment.duration == pytest.approx(4.8)
        assert segment.duration <= parsed.target_duration
        expected = EPOCH + dt.timedelta(milliseconds=(first + k) * SEGMENT_MS)
        assert segment.program_date_time == expected


def test_program_date_time_format() -> None:
    instant = dt.datetime(2026, 3, 1, 12, 0, 4, 800_000, tzinfo=dt.UTC)
    assert program_date_time(instant) == "2026-03-01T12:00:04.800Z"
    assert program_date_time(instant.astimezone(PARIS)) == "2026-03-01T12:00:04.800Z"


def test_master_playlist_lists_every_rung_highest_first() -> None:
    text = master_playlist(spec=DEFAULT_FORMAT)
    parsed = m3u8.loads(text)
    assert [p.uri for p in parsed.playlists] == [
        "1080p/index.m3u8", "720p/index.m3u8", "480p/index.m3u8", "360p/index.m3u8"
    ]  # fmt: skip
    top = parsed.playlists[0].stream_info
    assert top.bandwidth == 5_500_000 + 128_000
    assert top.resolution == (1920, 1080)
    assert top.codecs == "avc1.640028,mp4a.40.2"
    assert top.frame_rate == 25.0
    assert parsed.playlists[-1].stream_info.codecs == "avc1.4d401e,mp4a.40.2"
