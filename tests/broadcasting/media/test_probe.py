"""Probing uploads: facts from real ffprobe runs, limits, and the hostile-file defences."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from broadcasting.media import ffmpeg, probe
from broadcasting.media.intake import UploadRejected, check_upload
from broadcasting.media.probe import (
    ProbeFacts,
    ProbeLimits,
    check_limits,
    last_timestamp,
    parse_probe,
    probe_command,
    source_input_args,
    tail_command,
)
from tests.broadcasting import clips
from tests.broadcasting.conftest import MakeClip

GiB = 1024**3


def intake(path: Path, limits: ProbeLimits | None = None) -> ProbeFacts:
    """The whole intake of an upload: the checks before parsing, then the probe."""
    demuxer = check_upload(path, original_name=path.name, max_bytes=GiB)
    return probe.probe(path, demuxer=demuxer, limits=limits or ProbeLimits())


def rejection(path: Path, limits: ProbeLimits | None = None) -> UploadRejected:
    with pytest.raises(UploadRejected) as rejected:
        intake(path, limits)
    return rejected.value


def first_frame(path: Path, *, autorotate: bool, video_filter: str = "null") -> bytes:
    """The first decoded frame as grey bytes, with or without ffmpeg's own autorotation."""
    rotate = [] if autorotate else ["-noautorotate"]
    command = [
        "ffmpeg", "-v", "error", *rotate, "-i", str(path), "-vf", video_filter,
        "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True, timeout=60).stdout


# --- Facts of real clips ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("generator", "args", "container", "duration", "display"),
    [
        (clips.landscape_1080p, (), "mov", 6.0, (1920, 1080)),
        (clips.four_by_three, (), "mov", 5.0, (640, 480)),
        (clips.one_second, (), "mov", 1.0, (1280, 720)),
        (clips.surround_51, (), "matroska", 4.0, (1280, 720)),
        (clips.small_in_container, ("webm",), "matroska", 2.0, (320, 240)),
        (clips.small_in_container, ("avi",), "avi", 2.0, (320, 240)),
        (clips.small_in_container, ("mpegts",), "mpegts", 2.0, (320, 240)),
        (clips.small_in_container, ("m2ts",), "mpegts", 2.0, (320, 240)),
        (clips.small_in_container, ("mpeg",), "mpeg", 2.0, (320, 240)),
    ],
)
def test_good_clips_are_accepted_with_their_container_duration_and_size(
    make_clip: MakeClip,
    generator: Callable[..., Path],
    args: tuple[str, ...],
    container: str,
    duration: float,
    display: tuple[int, int],
) -> None:
    path = make_clip(generator, *args)
    facts = intake(path)
    assert facts.container == container
    assert facts.duration == pytest.approx(duration, abs=0.1)
    assert (facts.display_width, facts.display_height) == display
    assert facts.size == path.stat().st_size
    assert facts.video_streams == 1 and facts.audio_streams == 1
    assert facts.frame_rate == pytest.approx(25.0, abs=0.01)
    assert not facts.variable_frame_rate
    assert facts.bit_depth == 8
    assert facts.rotation == 0


def test_iphone_style_portrait_is_rotated_90_clockwise(make_clip: MakeClip) -> None:
    facts = intake(make_clip(clips.portrait_rotated_clockwise))
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.rotation == 90
    assert (facts.display_width, facts.display_height) == (720, 1280)


def test_portrait_clip_is_shown_standing_up(make_clip: MakeClip) -> None:
    """``clips.portrait_rotated`` tags rotate=90, but ffmpeg 5.1 writes that tag as a matrix
    turning the picture 90° counter-clockwise, i.e. 270° clockwise: see the next test."""
    facts = intake(make_clip(clips.portrait_rotated))
    assert (facts.width, facts.height) == (1920, 1080)
    assert (facts.display_width, facts.display_height) == (1080, 1920)
    assert facts.rotation == 270


@pytest.mark.parametrize("generator", [clips.portrait_rotated, clips.portrait_rotated_clockwise])
def test_rotation_agrees_with_what_ffmpeg_displays(
    make_clip: MakeClip, generator: Callable[..., Path]
) -> None:
    """ffmpeg's autorotation of the clip equals its coded picture turned by our rotation
    clockwise, and differs from the opposite turn."""
    path = make_clip(generator)
    facts = intake(path)
    turns = {90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}
    shown = first_frame(path, autorotate=True)
    assert shown == first_frame(path, autorotate=False, video_filter=turns[facts.rotation])
    opposite = turns[(360 - facts.rotation) % 360] if facts.rotation != 180 else "null"
    assert shown != first_frame(path, autorotate=False, video_filter=opposite)


def test_ntsc_frame_rate_is_measured_exactly(make_clip: MakeClip) -> None:
    facts = intake(make_clip(clips.ntsc_2997))
    assert facts.frame_rate == pytest.approx(30000 / 1001, abs=1e-3)
    assert not facts.variable_frame_rate


def test_variable_frame_rate_is_flagged(make_clip: MakeClip) -> None:
    facts = intake(make_clip(clips.variable_frame_rate_jittered))
    assert facts.variable_frame_rate


def test_hlg_source_is_10_bit_hdr(make_clip: MakeClip) -> None:
    facts = intake(make_clip(clips.hlg_10bit))
    assert facts.is_hdr
    assert facts.bit_depth == 10
    assert facts.pix_fmt == "yuv420p10le"
    assert (facts.color_primaries, facts.color_space) == ("bt2020", "bt2020nc")


@pytest.mark.parametrize("colour", ["bt709", "smpte170m"])
def test_colour_tags_are_reported(make_clip: MakeClip, colour: str) -> None:
    facts = intake(make_clip(clips.tagged, colour))
    assert (facts.color_space, facts.color_transfer, facts.color_primaries) == (colour,) * 3
    assert not facts.is_hdr


def test_untagged_colour_is_empty(make_clip: MakeClip) -> None:
    facts = intake(make_clip(clips.one_second))
    assert (facts.color_space, facts.color_transfer, facts.color_primaries) == ("", "", "")


def test_clip_without_audio_has_no_audio(make_clip: MakeClip) -> None:
    facts = intake(make_clip(clips.no_audio))
    assert not facts.has_audio
    assert (facts.audio_streams, facts.audio_codec, facts.audio_channels) == (0, "", 0)
    assert "audio_index" not in facts.extra


@pytest.mark.parametrize(
    ("generator", "channels", "layout"), [(clips.mono, 1, "mono"), (clips.surround_51, 6, "5.1")]
)
def test_audio_layout_is_reported(
    make_clip: MakeClip, generator: Callable[..., Path], channels: int, layout: str
) -> None:
    facts = intake(make_clip(generator))
    assert (facts.audio_channels, facts.audio_layout) == (channels, layout)
    assert (facts.audio_codec, facts.audio_rate) == ("aac", 48000)


# --- Rejections -------------------------------------------------------------------------


@pytest.mark.parametrize("generator", [clips.truncated, clips.truncated_faststart])
def test_truncated_files_are_unreadable(
    make_clip: MakeClip, generator: Callable[..., Path]
) -> None:
    rejected = rejection(make_clip(generator))
    assert rejected.code == "unreadable"
    assert rejected.detail  # diagnostics kept for the logs


def test_whole_file_from_the_truncated_faststart_clip_is_accepted(make_clip: MakeClip) -> None:
    truncated = make_clip(clips.truncated_faststart)
    facts = intake(truncated.parent / "faststart.mp4")
    assert facts.duration == pytest.approx(4.0, abs=0.1)


def test_file_without_video_is_rejected(make_clip: MakeClip) -> None:
    assert rejection(make_clip(clips.audio_only)).code == "no_video"


def test_duration_limit(make_clip: MakeClip) -> None:
    path = make_clip(clips.four_by_three)  # 5 s
    assert rejection(path, ProbeLimits(max_duration_s=4.5)).code == "too_long"
    assert intake(path, ProbeLimits(max_duration_s=5.5)).duration == pytest.approx(5.0)


def test_frame_size_limit_applies_to_the_displayed_picture(make_clip: MakeClip) -> None:
    path = make_clip(clips.portrait_rotated)  # shown 1080x1920
    assert intake(path, ProbeLimits(max_width=1080, max_height=1920)).rotation == 270
    assert rejection(path, ProbeLimits(max_width=1079)).code == "too_big_frame"
    assert rejection(path, ProbeLimits(max_height=1919)).code == "too_big_frame"


def test_stream_count_limit(make_clip: MakeClip) -> None:
    path = make_clip(clips.one_second)  # video + audio
    assert rejection(path, ProbeLimits(max_streams=1)).code == "too_many_streams"
    assert intake(path, ProbeLimits(max_streams=2)).audio_streams == 1


# --- Hostile files ------------------------------------------------------------------------

ATTACKS = [clips.hls_playlist_disguised_as_avi, clips.avi_header_with_playlist_body]


def test_the_attack_would_read_the_secret_without_our_options(
    make_clip: MakeClip, secret: tuple[Path, str]
) -> None:
    """Control: a bare ffprobe on the disguised playlist opens it as HLS and reads the secret."""
    path = make_clip(clips.hls_playlist_disguised_as_avi, secret[0])
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    data = json.loads(subprocess.run(command, capture_output=True, timeout=60).stdout)
    assert data["format"]["format_name"] == "hls"
    assert [s["codec_type"] for s in data["streams"]] == ["video"]  # the secret's stream


@pytest.mark.parametrize("generator", ATTACKS)
def test_playlist_attacks_are_rejected_without_reading_the_secret(
    make_clip: MakeClip,
    secret: tuple[Path, str],
    generator: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level("DEBUG")
    rejected = rejection(make_clip(generator, secret[0]))
    assert rejected.code == "playlist"
    out, err = capfd.readouterr()
    for text in (str(rejected), rejected.detail, caplog.text, out, err):
        assert secret[1] not in text


@pytest.mark.parametrize("generator", ATTACKS)
@pytest.mark.parametrize("demuxer", ["avi", "mov", "matroska", "mpegts", "mpeg"])
def test_forced_demuxer_never_follows_a_playlist(
    make_clip: MakeClip,
    secret: tuple[Path, str],
    generator: Callable[..., Path],
    demuxer: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Even handed straight to ffprobe, past the intake checks, the attack reads no file."""
    path = make_clip(generator, secret[0])
    try:
        result = ffmpeg.run(probe_command(path, demuxer=demuxer), limits=probe.PROBE_RUN_LIMITS)
    except ffmpeg.FFmpegError as err:
        output = err.stderr_tail
    else:
        output = result.stdout + result.stderr
        assert json.loads(result.stdout).get("streams", []) == []
    assert secret[1] not in output
    with pytest.raises(UploadRejected) as rejected:
        probe.probe(path, demuxer=demuxer, limits=ProbeLimits())
    assert rejected.value.code in {"no_video", "unreadable"}
    assert secret[1] not in str(rejected.value) + caplog.text


def test_concat_script_is_rejected(make_clip: MakeClip, secret: tuple[Path, str]) -> None:
    assert rejection(make_clip(clips.ffconcat_disguised_as_mp4, secret[0])).code == "playlist"


# --- Command builders (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "demuxer",
    ["hls", "applehttp", "concat", "image2", "png_pipe", "lavfi", "tty", "data", "", "mov,hls"],
)
def test_builders_refuse_demuxers_outside_the_allow_list(demuxer: str) -> None:
    with pytest.raises(ValueError, match="allow-list"):
        probe_command(Path("x.mp4"), demuxer=demuxer)
    with pytest.raises(ValueError, match="allow-list"):
        tail_command(Path("x.mp4"), demuxer=demuxer, start=0.0)


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


@pytest.mark.parametrize("demuxer", ["mov", "matroska", "avi", "mpegts", "mpeg"])
def test_builders_whitelist_local_files_and_force_the_demuxer(demuxer: str) -> None:
    for command in (
        probe_command(Path("up/clip.mp4"), demuxer=demuxer),
        tail_command(Path("up/clip.mp4"), demuxer=demuxer, start=3.0),
    ):
        assert command[0] == "ffprobe"
        assert _option(command, "-protocol_whitelist") == "file"
        assert _option(command, "-f") == demuxer
        assert _option(command, "-i") == f"file:{Path('up/clip.mp4').resolve()}"
        assert command.index("-f") < command.index("-i")
        assert command.index("-protocol_whitelist") < command.index("-i")


def test_mov_input_never_follows_external_data_references() -> None:
    args = source_input_args(Path("/up/clip.mov"), demuxer="mov")
    assert _option(args, "-enable_drefs") == "0"
    assert args[-2:] == ["-i", "file:/up/clip.mov"]


def test_file_name_cannot_become_an_option_or_a_url() -> None:
    args = source_input_args(Path("/up/-i http:/evil"), demuxer="avi")
    assert args[-1] == "file:/up/-i http:/evil"


# --- Running: failure kinds -------------------------------------------------------------------


def _failing_run(kind: ffmpeg.FailureKind) -> Callable[..., ffmpeg.RunResult]:
    def run(args: list[str], **kwargs: object) -> ffmpeg.RunResult:
        raise ffmpeg.FFmpegError("ffprobe failed", kind=kind, returncode=1, stderr_tail="boom")

    return run


@pytest.mark.parametrize("kind", [ffmpeg.FailureKind.CONTENT, ffmpeg.FailureKind.TIMEOUT])
def test_content_failures_and_timeouts_make_the_upload_unreadable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: ffmpeg.FailureKind
) -> None:
    monkeypatch.setattr(ffmpeg, "run", _failing_run(kind))
    (path := tmp_path / "clip.mp4").write_bytes(b"x")
    with pytest.raises(UploadRejected) as rejected:
        probe.probe(path, demuxer="mov", limits=ProbeLimits())
    assert (rejected.value.code, rejected.value.detail) == ("unreadable", "boom")


def test_infrastructure_failures_propagate_for_a_retry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ffmpeg, "run", _failing_run(ffmpeg.FailureKind.INFRASTRUCTURE))
    (path := tmp_path / "clip.mp4").write_bytes(b"x")
    with pytest.raises(ffmpeg.FFmpegError):
        probe.probe(path, demuxer="mov", limits=ProbeLimits())


def test_output_that_is_not_json_is_unreadable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: ffmpeg.RunResult("[1, 2", "", 0.1))
    (path := tmp_path / "clip.mp4").write_bytes(b"x")
    with pytest.raises(UploadRejected) as rejected:
        probe.probe(path, demuxer="mov", limits=ProbeLimits())
    assert rejected.value.code == "unreadable"


# --- parse_probe on hand-written data (pure) --------------------------------------------------


def video_stream(**fields: Any) -> dict[str, Any]:
    stream = {
        "index": 0, "codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
        "pix_fmt": "yuv420p", "avg_frame_rate": "25/1", "r_frame_rate": "25/1",
    }  # fmt: skip
    stream.update(fields)
    return stream


def audio_stream(index: int = 1, **fields: Any) -> dict[str, Any]:
    stream = {
        "index": index, "codec_type": "audio", "codec_name": "aac", "channels": 2,
        "channel_layout": "stereo", "sample_rate": "48000",
    }  # fmt: skip
    stream.update(fields)
    return stream


def parsed(*streams: dict[str, Any], **data: Any) -> ProbeFacts:
    data.setdefault("format", {"format_name": "mov,mp4", "duration": "12.5"})
    return parse_probe({"streams": list(streams), **data}, demuxer="mov", size=1234)


def _matrix(rotation: float) -> dict[str, Any]:
    return {"side_data_list": [{"side_data_type": "Display Matrix", "rotation": rotation}]}


@pytest.mark.parametrize(
    ("side_data", "clockwise"),
    [(-90, 90), (90, 270), (180, 180), (-180, 180), (270, 90), (0, 0), (-89.6, 90)],
)
def test_display_matrix_rotation_is_turned_clockwise(side_data: float, clockwise: int) -> None:
    assert parsed(video_stream(**_matrix(side_data))).rotation == clockwise


@pytest.mark.parametrize(("tag", "clockwise"), [("90", 90), ("270", 270), ("-90", 270)])
def test_legacy_rotate_tag_is_already_clockwise(tag: str, clockwise: int) -> None:
    assert parsed(video_stream(tags={"rotate": tag})).rotation == clockwise


def test_display_matrix_wins_over_a_legacy_tag() -> None:
    assert parsed(video_stream(tags={"rotate": "180"}, **_matrix(-90))).rotation == 90


def test_parse_probe_reads_the_main_facts() -> None:
    facts = parsed(video_stream(bits_per_raw_sample="8"), audio_stream())
    assert (facts.container, facts.format_name, facts.size) == ("mov", "mov,mp4", 1234)
    assert (facts.duration, facts.video_codec, facts.width, facts.height) == (
        12.5,
        "h264",
        1920,
        1080,
    )
    assert (facts.frame_rate, facts.bit_depth, facts.rotation) == (25.0, 8, 0)
    assert (facts.audio_codec, facts.audio_channels, facts.audio_rate) == ("aac", 2, 48000)
    assert facts.extra["video_index"] == "0" and facts.extra["audio_index"] == "1"


def test_first_audio_stream_is_the_one_described() -> None:
    facts = parsed(
        video_stream(), audio_stream(1), audio_stream(2, channels=6, channel_layout="5.1")
    )
    assert (facts.audio_channels, facts.audio_layout, facts.audio_streams) == (2, "stereo", 2)


def test_cover_pictures_are_not_the_video() -> None:
    cover = video_stream(index=0, codec_name="mjpeg", disposition={"attached_pic": 1})
    facts = parsed(
        cover, video_stream(index=1, codec_name="hevc"), {"index": 2, "codec_type": "data"}
    )
    assert facts.video_codec == "hevc" and facts.extra["video_index"] == "1"
    assert (facts.video_streams, facts.other_streams) == (1, 2)


@pytest.mark.parametrize(
    "streams",
    [[], [audio_stream(0)], [video_stream(disposition={"attached_pic": 1}), audio_stream()]],
)
def test_no_video_stream_is_no_video(streams: list[dict[str, Any]]) -> None:
    with pytest.raises(UploadRejected) as rejected:
        parsed(*streams)
    assert rejected.value.code == "no_video"


def test_duration_falls_back_to_the_streams() -> None:
    facts = parsed(video_stream(duration="7.25"), audio_stream(duration="7.5"), format={})
    assert facts.duration == 7.25
    facts = parsed(video_stream(), audio_stream(duration="7.5"), format={"duration": "N/A"})
    assert facts.duration == 7.5


@pytest.mark.parametrize(
    "data",
    [
        {"streams": [video_stream()], "format": {}},
        {"streams": [video_stream()], "format": {"duration": "0.000"}},
        {"streams": [video_stream()], "format": {"duration": "-3"}},
        {"streams": [video_stream()], "format": {"duration": "nan"}},
        {"streams": [video_stream(width=0)], "format": {"duration": "3"}},
        {"streams": [video_stream(height="N/A")], "format": {"duration": "3"}},
        {"streams": [video_stream(index=None)], "format": {"duration": "3"}},
        {"streams": "garbage", "format": {"duration": "3"}},
        {"streams": [video_stream()], "format": ["garbage"]},
    ],
)
def test_data_missing_essentials_is_unreadable(data: dict[str, Any]) -> None:
    with pytest.raises(UploadRejected) as rejected:
        parse_probe(data, demuxer="mov", size=1)
    assert rejected.value.code == "unreadable"


@pytest.mark.parametrize(
    ("fields", "depth"),
    [
        ({"pix_fmt": "yuv420p10le"}, 10),
        ({"pix_fmt": "p010le"}, 10),
        ({"pix_fmt": "yuv444p12be"}, 12),
        ({"pix_fmt": "yuv420p"}, 8),
        ({"pix_fmt": "nv12"}, 8),
        ({"pix_fmt": "yuv420p", "bits_per_raw_sample": "10"}, 10),
        ({"pix_fmt": "yuv420p10le", "bits_per_raw_sample": "N/A"}, 10),
    ],
)
def test_bit_depth(fields: dict[str, str], depth: int) -> None:
    assert parsed(video_stream(**fields)).bit_depth == depth


def test_unknown_colour_tags_are_empty_and_hdr_transfers_are_hdr() -> None:
    facts = parsed(video_stream(color_space="unknown", color_transfer="smpte2084"))
    assert facts.color_space == "" and facts.is_hdr


@pytest.mark.parametrize(
    ("avg", "real", "expected"),
    [("0/0", "25/1", 25.0), ("30000/1001", "30000/1001", 30000 / 1001), ("0/0", "0/0", 0.0)],
)
def test_frame_rate_prefers_the_average(avg: str, real: str, expected: float) -> None:
    facts = parsed(video_stream(avg_frame_rate=avg, r_frame_rate=real))
    assert facts.frame_rate == pytest.approx(expected)


@pytest.mark.parametrize(
    ("avg", "real", "variable"),
    [
        ("25/1", "25/1", False),
        ("30000/1001", "30000/1001", False),
        ("2997/100", "30/1", False),  # 0.1 %: rounding, not variable
        ("2850/100", "30/1", True),  # 5 %
        ("25/1", "50/1", False),  # interlaced: field rate
    ],
)
def test_variable_frame_rate_from_disagreeing_rates(avg: str, real: str, variable: bool) -> None:
    assert (
        parsed(video_stream(avg_frame_rate=avg, r_frame_rate=real)).variable_frame_rate is variable
    )


def _packets(times: list[float], index: int = 0) -> list[dict[str, Any]]:
    return [{"stream_index": index, "pts_time": f"{t:.6f}"} for t in times]


def test_variable_frame_rate_from_the_packet_sample() -> None:
    even = [n / 30 for n in range(60)]
    jittered = [n / 30 + (0.012 if n % 3 == 0 else 0.0) for n in range(60)]
    millisecond = [round(n / 30, 3) for n in range(60)]  # 33/34 ms: a coarse time base
    one_drop = even[:30] + even[31:]
    assert parsed(video_stream(), packets=_packets(jittered)).variable_frame_rate
    assert not parsed(video_stream(), packets=_packets(even)).variable_frame_rate
    assert not parsed(video_stream(), packets=_packets(millisecond)).variable_frame_rate
    assert not parsed(video_stream(), packets=_packets(one_drop)).variable_frame_rate
    # Audio packets and B-frame order do not count.
    shuffled = _packets(even[::-1]) + _packets(jittered, index=1)
    assert not parsed(video_stream(), audio_stream(), packets=shuffled).variable_frame_rate


def test_check_limits_uses_displayed_dimensions() -> None:
    facts = parsed(video_stream(width=4000, height=2000, **_matrix(-90)))
    check_limits(facts, limits=ProbeLimits(max_width=2000, max_height=4000))
    with pytest.raises(UploadRejected) as rejected:
        check_limits(facts, limits=ProbeLimits(max_width=4000, max_height=2000))
    assert rejected.value.code == "too_big_frame"


def test_check_limits_counts_every_stream() -> None:
    streams = [video_stream(), *(audio_stream(i) for i in range(1, 17))]
    with pytest.raises(UploadRejected) as rejected:
        check_limits(parsed(*streams), limits=ProbeLimits())
    assert rejected.value.code == "too_many_streams"
    check_limits(parsed(*streams[:16]), limits=ProbeLimits())


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.0,0.9\n4.96,4.92\n2.0,N/A\n", 4.96), ("N/A,3.5\n", 3.5), ("", None), ("N/A,N/A\n", None)],
)
def test_last_timestamp(text: str, expected: float | None) -> None:
    assert last_timestamp(text) == expected
