"""The segment rewriter: unit tests on synthetic packets, then real items aired back to back.

Three clips are encoded (360p rung only) with the channel format, then their segments are
concatenated as the channel airs them, each rewritten with the running channel time and one
shared continuity state, and read by ffmpeg as a client, as an HLS playlist without
EXT-X-DISCONTINUITY and as one TS stream: no warning at all, monotonic timestamps, the exact
duration, audio throughout. The same concatenation without the rewrite is the control.
"""

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from broadcasting.live.tsrewrite import (
    PTS_MODULO,
    SEGMENT_TICKS,
    ContinuityState,
    TsError,
    channel_pts,
    first_pts,
    last_counters,
    offset_for,
    rewrite_segment,
)
from broadcasting.media.formats import DEFAULT_FORMAT
from tests.broadcasting import clips
from tests.broadcasting.cached_media import encoded_clip
from tests.broadcasting.media_facts import ffprobe_json

SPEC = replace(DEFAULT_FORMAT, rungs=tuple(r for r in DEFAULT_FORMAT.rungs if r.name == "360p"))
FRAME_TICKS = 3600  # one video frame at 25 fps
MAX_AUDIO_GAP_TICKS = 2700  # 30 ms


# --- synthetic packets ----------------------------------------------------------------------


def _pes_header(pts: int, dts: int | None = None) -> bytes:
    def stamp(prefix: int, value: int) -> bytes:
        return bytes(
            [
                prefix << 4 | (value >> 29) & 0x0E | 1,
                (value >> 22) & 0xFF,
                (value >> 14) & 0xFE | 1,
                (value >> 7) & 0xFF,
                (value << 1) & 0xFE | 1,
            ]
        )

    if dts is None:
        return b"\x00\x00\x01\xe0\x00\x00\x80\x80\x05" + stamp(2, pts)
    return b"\x00\x00\x01\xe0\x00\x00\x80\xc0\x0a" + stamp(3, pts) + stamp(1, dts)


def _packet(
    pid: int, cc: int, *, payload: bytes | None = b"", pcr: tuple[int, int] | None = None
) -> bytes:
    """One packet; ``payload`` None means adaptation field only; a PES header sets PUSI."""
    pusi = 0x40 if payload and payload.startswith(b"\x00\x00\x01") else 0
    header = bytes([0x47, pusi | pid >> 8, pid & 0xFF])
    if pcr is None and payload is not None:
        body = payload + b"\xff" * (184 - len(payload))
        return header + bytes([0x10 | cc]) + body
    field = b""
    if pcr is not None:
        base, ext = pcr
        value = base << 15 | 0x3F << 9 | ext
        field = b"\x10" + value.to_bytes(6, "big")
    else:
        field = b"\x00"
    data = payload or b""
    stuffing = 184 - 1 - len(field) - len(data)
    control = 0x30 if payload is not None else 0x20
    adaptation = bytes([len(field) + stuffing]) + field + b"\xff" * stuffing
    return header + bytes([control | cc]) + adaptation + data


def _counters(data: bytes) -> list[tuple[int, int]]:
    return [
        ((data[i + 1] & 0x1F) << 8 | data[i + 2], data[i + 3] & 0x0F)
        for i in range(0, len(data), 188)
    ]


def _pcr(packet: bytes) -> tuple[int, int, int]:
    value = int.from_bytes(packet[6:12], "big")
    return value >> 15, (value >> 9) & 0x3F, value & 0x1FF


def test_offset_for_wraps_modulo_2_33() -> None:
    assert offset_for(segment_first_pts=126_000, channel_pts=126_000) == 0
    assert offset_for(segment_first_pts=200_000, channel_pts=100_000) == PTS_MODULO - 100_000
    near_end = PTS_MODULO - 180_000
    assert offset_for(segment_first_pts=126_000, channel_pts=near_end) == near_end - 126_000
    assert (126_000 + offset_for(segment_first_pts=126_000, channel_pts=5)) % PTS_MODULO == 5
    assert channel_pts(0) == 126_000
    assert channel_pts(1) == 126_000 + SEGMENT_TICKS
    assert channel_pts(0, base_ticks=PTS_MODULO - 10) == PTS_MODULO - 10
    assert channel_pts(1, base_ticks=PTS_MODULO - 10) == SEGMENT_TICKS - 10
    # 26.5 h of segments later the channel time has wrapped once, exactly
    wraps = PTS_MODULO // SEGMENT_TICKS + 1
    assert channel_pts(wraps) == 126_000 + wraps * SEGMENT_TICKS - PTS_MODULO


def test_pts_and_dts_are_shifted_modulo_2_33() -> None:
    data = _packet(256, 0, payload=_pes_header(PTS_MODULO - 100, PTS_MODULO - 3700))
    out = rewrite_segment(data, offset_ticks=1000, continuity=ContinuityState())
    assert out == _packet(256, 0, payload=_pes_header(900, PTS_MODULO - 2700))
    assert first_pts(out) == 900
    # a negative offset is the same as its residue
    back = rewrite_segment(out, offset_ticks=-1000, continuity=ContinuityState())
    assert back == data


def test_pcr_base_is_shifted_and_its_extension_kept() -> None:
    data = _packet(256, 7, payload=_pes_header(1000), pcr=(PTS_MODULO - 5, 299))
    out = rewrite_segment(data, offset_ticks=20, continuity=ContinuityState())
    assert _pcr(out) == (15, 0x3F, 299)
    assert first_pts(out) == 1020
    assert out[12:] == data[12:].replace(_pes_header(1000), _pes_header(1020))


def test_counters_continue_per_pid_across_segments() -> None:
    first = _packet(0, 0) + _packet(256, 5) + _packet(257, 9) + _packet(256, 6)
    second = _packet(0, 0) + _packet(256, 0) + _packet(257, 0) + _packet(257, 1)
    state = ContinuityState()
    out1 = rewrite_segment(first, offset_ticks=0, continuity=state)
    assert out1 == first  # PIDs seen for the first time keep the muxer's counters
    assert state.counters == {0: 0, 256: 6, 257: 9}
    out2 = rewrite_segment(second, offset_ticks=0, continuity=state)
    assert _counters(out2) == [(0, 1), (256, 7), (257, 10), (257, 11)]
    assert last_counters(out2) == state


def test_counters_wrap_at_16_and_adaptation_only_packets_repeat() -> None:
    state = ContinuityState({256: 14})
    data = _packet(256, 0) + _packet(256, 1, payload=None) + _packet(256, 1) + _packet(256, 2)
    out = rewrite_segment(data, offset_ticks=0, continuity=state)
    assert _counters(out) == [(256, 15), (256, 15), (256, 0), (256, 1)]
    assert state.counters == {256: 1}


def test_bad_input_raises_ts_error() -> None:
    good = _packet(256, 0, payload=_pes_header(0))
    with pytest.raises(TsError, match="multiple of 188"):
        rewrite_segment(good[:-1], offset_ticks=0, continuity=ContinuityState())
    with pytest.raises(TsError, match="sync"):
        rewrite_segment(good + b"\x00" + good[1:], offset_ticks=0, continuity=ContinuityState())
    overflowing = bytearray(_packet(256, 0, payload=None))
    overflowing[4] = 200
    with pytest.raises(TsError, match="overflows"):
        rewrite_segment(bytes(overflowing), offset_ticks=0, continuity=ContinuityState())
    with pytest.raises(TsError, match="no video"):
        first_pts(_packet(256, 0))
    with pytest.raises(TsError):
        first_pts(b"\x47" * 100)
    assert rewrite_segment(b"", offset_ticks=5, continuity=ContinuityState()) == b""


def test_first_pts_stops_at_the_first_video_pes_with_a_pts() -> None:
    """It reads packets only up to the first video PTS: what follows, even bytes that are no
    transport stream at all (the playout checks whole segments with ``check_packets``), is
    never looked at."""
    audio = b"\x00\x00\x01\xc0" + _pes_header(500)[4:]
    head = (
        _packet(0, 0) + _packet(257, 0, payload=audio) + _packet(256, 0, payload=_pes_header(700))
    )
    garbage = b"\x00not a packet" * 1000 + b"\x47" * 7
    assert first_pts(head + garbage) == 700
    assert first_pts(head + _packet(256, 1, payload=_pes_header(99)) + garbage[:-1]) == 700
    with pytest.raises(TsError, match="sync"):
        first_pts(_packet(0, 0) + garbage + head)  # a packet read before the PTS is checked
    with pytest.raises(TsError, match="no video"):
        first_pts(head[:-1])  # the video packet cut short


# --- real items aired back to back ------------------------------------------------------------


# The items aired here and by the playout tests: (generator, arguments) of 2, 1 and 2 segments.
ITEM_CLIPS: dict[str, tuple[Callable[..., Path], tuple[float]]] = {
    "landscape": (clips.landscape_1080p, (6.0,)),
    "four_by_three": (clips.four_by_three, (4.0,)),
    "loud": (clips.loud, (9.0,)),
}


@dataclass(frozen=True)
class Item:
    name: str
    segments: list[bytes]


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> list[Item]:
    """Three different clips of 1 to 2 segments each, encoded in the channel format (360p): the
    real encodes, made once for every worker and run (``cached_media``)."""
    root = tmp_path_factory.mktemp("tsrewrite")
    made = []
    for name, (generator, args) in ITEM_CLIPS.items():
        out_dir = encoded_clip(generator, args, SPEC, root / name)
        paths = sorted((out_dir / "360p").glob("seg_*.ts"))
        made.append(Item(name, [path.read_bytes() for path in paths]))
    assert [len(item.segments) for item in made] == [2, 1, 2]
    return made


def air(items: list[Item], *, base_ticks: int, rewrite: bool = True) -> list[bytes]:
    """The channel's segments, as the playout publishes them from sequence 0."""
    state = ContinuityState()
    aired: list[bytes] = []
    for item in items:
        for segment in item.segments:
            if not rewrite:
                aired.append(segment)
                continue
            target = channel_pts(len(aired), base_ticks=base_ticks)
            offset = offset_for(segment_first_pts=first_pts(segment), channel_pts=target)
            aired.append(rewrite_segment(segment, offset_ticks=offset, continuity=state))
    return aired


def publish(folder: Path, segments: list[bytes]) -> tuple[Path, Path]:
    """A VOD media playlist with no EXT-X-DISCONTINUITY, and the same segments as one file."""
    folder.mkdir()
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:5", "#EXT-X-MEDIA-SEQUENCE:0"]
    for index, segment in enumerate(segments):
        (folder / f"ch_{index:05d}.ts").write_bytes(segment)
        lines += ["#EXTINF:4.800,", f"ch_{index:05d}.ts"]
    playlist = folder / "live.m3u8"
    playlist.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    concat = folder / "concat.ts"
    concat.write_bytes(b"".join(segments))
    return playlist, concat


def ffmpeg_warnings(path: Path) -> str:
    """What ffmpeg as a client prints at level warning while reading everything."""
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-v", "warning", "-i", str(path),
         "-map", "0", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stderr


def packets(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Packets per codec type, with PTS/DTS unwrapped past 2^33 should ffprobe not do it."""
    streams = {s["index"]: s["codec_type"] for s in ffprobe_json(path, "-show_streams")["streams"]}
    found: dict[str, list[dict[str, Any]]] = {"video": [], "audio": []}
    entries = "packet=stream_index,pts,dts,duration"
    for packet in ffprobe_json(path, "-show_entries", entries)["packets"]:
        kind = found[streams[packet["stream_index"]]]
        previous = kind[-1] if kind else None
        for key in ("pts", "dts"):
            value = int(packet[key])
            if previous is not None:
                value += (previous[key] - value + PTS_MODULO // 2) // PTS_MODULO * PTS_MODULO
            packet[key] = value
        packet["duration"] = int(packet["duration"])
        kind.append(packet)
    return found


def non_monotonic(values: list[int]) -> int:
    return sum(later <= earlier for earlier, later in zip(values, values[1:], strict=False))


def counter_jumps(data: bytes) -> int:
    """How many payload packets do not carry their PID's previous counter + 1."""
    last: dict[int, int] = {}
    jumps = 0
    for pid, cc, has_payload in (
        ((data[i + 1] & 0x1F) << 8 | data[i + 2], data[i + 3] & 0x0F, data[i + 3] & 0x10)
        for i in range(0, len(data), 188)
    ):
        expected = last.get(pid, cc - 1 if has_payload else cc) + (1 if has_payload else 0)
        jumps += cc != expected & 0x0F
        last[pid] = cc
    return jumps


def check_continuous(path: Path, segment_count: int) -> None:
    """Monotonic PTS/DTS per stream, exact total duration, no audio gap."""
    found = packets(path)
    video, audio = found["video"], found["audio"]
    assert non_monotonic([p["dts"] for p in video]) == 0
    assert non_monotonic(sorted(p["pts"] for p in video)) == 0
    assert non_monotonic([p["dts"] for p in audio]) == 0
    assert non_monotonic([p["pts"] for p in audio]) == 0
    assert len(video) == segment_count * SPEC.frames_per_segment
    span = max(p["pts"] + p["duration"] for p in video) - min(p["pts"] for p in video)
    assert abs(span - segment_count * SEGMENT_TICKS) <= FRAME_TICKS
    gaps = [b["pts"] - (a["pts"] + a["duration"]) for a, b in zip(audio, audio[1:], strict=False)]
    assert max(gaps) <= MAX_AUDIO_GAP_TICKS
    assert min(gaps) >= -MAX_AUDIO_GAP_TICKS  # no overlap either (the priming frame)
    audio_span = audio[-1]["pts"] + audio[-1]["duration"] - audio[0]["pts"]
    assert abs(audio_span - segment_count * SEGMENT_TICKS) <= FRAME_TICKS


@pytest.mark.slow
@pytest.mark.parametrize(
    "base_ticks",
    [channel_pts(0), PTS_MODULO - 2 * 90_000],
    ids=["channel-start", "across-the-2^33-wrap"],
)
def test_items_aired_back_to_back_read_cleanly(
    items: list[Item], tmp_path: Path, base_ticks: int
) -> None:
    aired = air(items, base_ticks=base_ticks)
    expected = [channel_pts(index, base_ticks=base_ticks) for index in range(len(aired))]
    assert [first_pts(segment) for segment in aired] == expected  # wraps in the second case
    assert counter_jumps(b"".join(aired)) == 0
    playlist, concat = publish(tmp_path / "channel", aired)
    for path in (playlist, concat):
        assert ffmpeg_warnings(path) == "", path.name
        check_continuous(path, len(aired))


@pytest.mark.slow
def test_the_control_without_rewrite_is_not_clean(items: list[Item], tmp_path: Path) -> None:
    aired = air(items, base_ticks=channel_pts(0), rewrite=False)
    assert counter_jumps(b"".join(aired)) > 0
    playlist, concat = publish(tmp_path / "control", aired)
    for path in (playlist, concat):
        warnings = ffmpeg_warnings(path)
        assert "Packet corrupt" in warnings or "Non-monotonous" in warnings, path.name
        video = packets(path)["video"]
        assert non_monotonic([p["dts"] for p in video]) > 0, path.name


@pytest.mark.slow
def test_real_segments_keep_their_bytes_at_offset_zero(items: list[Item]) -> None:
    state = ContinuityState()
    for segment in items[0].segments:
        assert rewrite_segment(segment, offset_ticks=0, continuity=state) == segment
    assert state == last_counters(items[0].segments[-1])
    assert [first_pts(s) for s in items[0].segments] == [126_000, 126_000 + SEGMENT_TICKS]
