"""The ladder command builder: one hardened ffmpeg process for every rung (no ffmpeg run)."""

from dataclasses import replace
from pathlib import Path

import pytest

from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.ladder import (
    fitted_size,
    ladder_command,
    padding_for,
    poster_frame,
    progress_fraction,
    source_matrix,
)
from broadcasting.media.loudness import Loudness
from broadcasting.media.probe import ProbeFacts, source_input_args

LANDSCAPE = ProbeFacts(
    container="mov", format_name="mov,mp4,m4a,3gp,3g2,mj2", duration=6.0, size=1_000_000,
    video_codec="h264", width=1920, height=1080, rotation=0, frame_rate=25.0,
    variable_frame_rate=False, pix_fmt="yuv420p", bit_depth=8, color_space="bt709",
    color_transfer="bt709", color_primaries="bt709", audio_codec="aac", audio_channels=2,
    audio_layout="stereo", audio_rate=48_000, audio_streams=1,
)  # fmt: skip
PORTRAIT = replace(LANDSCAPE, rotation=90)
FOUR_BY_THREE = replace(LANDSCAPE, width=640, height=480, color_space="")
HLG = replace(
    LANDSCAPE, bit_depth=10, pix_fmt="yuv420p10le", color_transfer="arib-std-b67",
    color_space="bt2020nc", color_primaries="bt2020",
)  # fmt: skip
SILENT = replace(LANDSCAPE, audio_codec="", audio_channels=0, audio_layout="", audio_rate=0)
LOUDNESS = Loudness(-30.0, -10.0, 5.0, -40.0, 0.1)


def command_for(facts: ProbeFacts, loudness: Loudness | None = LOUDNESS) -> list[str]:
    return ladder_command(
        source=Path("in/clip.mp4"), demuxer="mov", facts=facts, loudness=loudness,
        spec=DEFAULT_FORMAT, out_dir=Path("/work/out"), poster=Path("/work/out/poster.jpg"),
    )  # fmt: skip


def graph_of(command: list[str]) -> str:
    return command[command.index("-filter_complex") + 1]


def values_after(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == option]


def test_input_is_hardened_local_file_with_the_forced_demuxer() -> None:
    command = command_for(LANDSCAPE)
    index = command.index("-i")
    start = command.index("-protocol_whitelist")
    assert command[start : start + 4] == ["-protocol_whitelist", "file", "-f", "mov"]
    assert start < index and command[index + 1] == f"file:{Path('in/clip.mp4').resolve()}"
    assert command[start : index + 2] == source_input_args(Path("in/clip.mp4"), demuxer="mov")
    assert command.count("-i") == 1


def test_one_process_decodes_once_and_splits_into_every_rung_and_the_poster() -> None:
    command = command_for(LANDSCAPE)
    assert command[0] == "ffmpeg"
    graph = graph_of(command)
    assert graph.count("[0:v:0]") == 1 and graph.count("[0:a:0]") == 1
    assert "split=5[picture_1080p][picture_720p][picture_480p][picture_360p]" in graph
    assert "asplit=4[a_1080p][a_720p][a_480p][a_360p]" in graph
    assert values_after(command, "-f").count("hls") == 4


def test_every_output_strips_metadata_and_chapters() -> None:
    command = command_for(LANDSCAPE)
    assert values_after(command, "-map_metadata") == ["-1"] * 5
    assert values_after(command, "-map_chapters") == ["-1"] * 5


def test_progress_goes_to_stdout_without_stats() -> None:
    command = command_for(LANDSCAPE)
    assert command[command.index("-progress") + 1] == "pipe:1"
    assert "-nostats" in command


def test_rungs_have_fixed_x264_settings_closed_gops_and_forced_bt709_tags() -> None:
    command = command_for(LANDSCAPE)
    assert (
        values_after(command, "-x264-params")
        == ["stitchable=1:keyint=60:min-keyint=60:scenecut=0:open-gop=0:bframes=0"] * 4
    )
    assert values_after(command, "-profile:v") == ["high", "high", "main", "main"]
    assert values_after(command, "-level:v") == ["4.0", "3.1", "3.0", "3.0"]
    assert values_after(command, "-b:v") == ["5000000", "2800000", "1400000", "800000"]
    assert values_after(command, "-maxrate:v") == ["5500000", "3080000", "1540000", "880000"]
    assert values_after(command, "-bufsize:v") == ["10000000", "5600000", "2800000", "1600000"]
    for option in ("-color_primaries", "-color_trc", "-colorspace"):
        assert values_after(command, option) == ["bt709"] * 4
    assert values_after(command, "-color_range") == ["tv"] * 4


def test_rungs_are_hls_on_the_segment_grid_with_named_segments() -> None:
    command = command_for(LANDSCAPE)
    assert values_after(command, "-hls_time") == ["4.8"] * 4
    assert values_after(command, "-hls_playlist_type") == ["vod"] * 4
    assert values_after(command, "-hls_segment_type") == ["mpegts"] * 4
    assert values_after(command, "-hls_segment_filename")[1] == "/work/out/720p/seg_%05d.ts"
    assert "/work/out/720p/index.m3u8" in command


def test_audio_is_aac_lc_48khz_stereo() -> None:
    command = command_for(LANDSCAPE)
    assert values_after(command, "-c:a") == ["aac"] * 4
    assert values_after(command, "-ar") == ["48000"] * 4
    assert values_after(command, "-ac") == ["2"] * 4
    assert values_after(command, "-b:a") == ["128000"] * 4


def test_picture_is_cfr_25_square_pixels_8_bit() -> None:
    graph = graph_of(command_for(LANDSCAPE))
    assert "fps=25:start_time=0" in graph
    assert graph.count("setsar=1,format=yuv420p") == 4
    assert graph.count("out_color_matrix=bt709") == 4


def test_tone_mapping_only_for_hdr() -> None:
    assert "tonemap" not in graph_of(command_for(LANDSCAPE))
    graph = graph_of(command_for(HLG))
    assert "zscale=t=linear" in graph and "tonemap=tonemap=hable" in graph
    assert "zscale=t=bt709:m=bt709:r=tv" in graph


def test_pillarbox_over_a_blurred_backdrop_only_for_non_widescreen() -> None:
    assert "overlay" not in graph_of(command_for(LANDSCAPE))
    graph = graph_of(command_for(PORTRAIT))
    assert "scale=192:108:force_original_aspect_ratio=increase" in graph
    assert "boxblur" in graph and "overlay=x=(W-w)/2:y=(H-h)/2" in graph
    assert "[fg]scale=608:1080" in graph
    assert "[fg]scale=1440:1080" in graph_of(command_for(FOUR_BY_THREE))


def test_fitted_size_never_stretches() -> None:
    assert fitted_size(PORTRAIT, (1920, 1080)) == (608, 1080)
    assert fitted_size(FOUR_BY_THREE, (1920, 1080)) == (1440, 1080)
    scope = replace(LANDSCAPE, width=2048, height=858)
    assert fitted_size(scope, (1920, 1080)) == (1920, 804)


def test_source_matrix_falls_back_on_what_players_assume() -> None:
    assert source_matrix(replace(LANDSCAPE, color_space="smpte170m")) == "smpte170m"
    assert source_matrix(replace(LANDSCAPE, color_space="")) == "bt709"
    assert source_matrix(FOUR_BY_THREE) == "smpte170m"


def test_silent_stereo_is_generated_only_without_audio() -> None:
    assert "anullsrc" not in graph_of(command_for(LANDSCAPE))
    graph = graph_of(command_for(SILENT, loudness=None))
    assert "anullsrc=r=48000:cl=stereo" in graph and "[0:a:0]" not in graph


def test_audio_is_folded_to_stereo_normalised_then_resampled() -> None:
    graph = graph_of(command_for(LANDSCAPE))
    chain = graph[graph.index("[0:a:0]") :]
    assert (
        chain.index("channel_layouts=stereo")
        < chain.index("loudnorm=")
        < chain.index("aresample=48000,apad")
    )
    assert "loudnorm" not in graph_of(command_for(LANDSCAPE, loudness=None))


@pytest.mark.parametrize(
    ("duration", "segments"), [(1.0, 1), (4.8, 1), (4.81, 2), (6.0, 2), (9.6, 2), (3600, 750)]
)
def test_padding_fills_whole_segments(duration: float, segments: int) -> None:
    padding = padding_for(duration, DEFAULT_FORMAT)
    assert padding.segments == segments
    assert padding.frames == segments * 120
    assert padding.samples == segments * 230_400
    assert padding.encoded_samples == segments * 230_400 - 1024


def test_padding_numbers_in_the_graph() -> None:
    graph = graph_of(command_for(LANDSCAPE))  # 6 s: two segments
    assert "tpad=stop=-1:color=black,trim=end_frame=240" in graph
    assert "apad=whole_len=460800,atrim=start_sample=1024:end_sample=460800" in graph
    silent = graph_of(command_for(replace(SILENT, duration=1.0), loudness=None))
    assert "anullsrc=r=48000:cl=stereo,atrim=start_sample=1024:end_sample=230400" in silent


def test_poster_is_a_frame_a_third_in_at_most_3_s_as_720p_jpeg() -> None:
    assert poster_frame(LANDSCAPE, DEFAULT_FORMAT) == 50
    assert poster_frame(replace(LANDSCAPE, duration=3.0), DEFAULT_FORMAT) == 25
    assert poster_frame(replace(LANDSCAPE, duration=600), DEFAULT_FORMAT) == 75
    command = command_for(LANDSCAPE)
    assert "trim=start_frame=50:end_frame=51,scale=1280:720" in graph_of(command)
    assert command[-1] == "/work/out/poster.jpg"


def test_progress_fraction_from_out_time() -> None:
    assert progress_fraction({"out_time_us": "2400000"}, total_seconds=9.6) == 0.25
    assert progress_fraction({"out_time_us": "N/A"}, total_seconds=9.6) == 0.0
    assert progress_fraction({"out_time_us": "99000000"}, total_seconds=9.6) == 1.0
    assert progress_fraction({"out_time_us": "-5000"}, total_seconds=9.6) == 0.0
    assert progress_fraction({"progress": "end"}, total_seconds=9.6) == 1.0
