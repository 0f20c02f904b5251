"""The ladder command builder: one hardened ffmpeg process for every rung (no ffmpeg run).

The command is compiled with ffmpeg-python; its graph is read back (``command_graph.read``) to
check what ffmpeg will build, whatever the link labels are called.
"""

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
from tests.broadcasting.media.command_graph import Command, Filter, canonical, read
from tests.broadcasting.media.recorded_commands import (
    FOUR_BY_THREE,
    HLG,
    LADDER_CASES,
    LANDSCAPE,
    LOUDNESS,
    PORTRAIT,
    SILENT,
    ladder_case,
    recorded,
)


def command_for(facts: ProbeFacts, loudness: Loudness | None = LOUDNESS) -> list[str]:
    return ladder_command(
        source=Path("in/clip.mp4"), demuxer="mov", facts=facts, loudness=loudness,
        spec=DEFAULT_FORMAT, out_dir=Path("/work/out"), poster=Path("/work/out/poster.jpg"),
    )  # fmt: skip


def values_after(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == option]


def graph_of(facts: ProbeFacts, loudness: Loudness | None = LOUDNESS) -> Command:
    return read(command_for(facts, loudness))


def named(graph: Command, name: str) -> list[Filter]:
    return [f for f in graph.filters if f.name == name]


def chain_to(graph: Command, output: int, stream: int) -> list[Filter]:
    """The filters above one mapped stream of one output, nearest first."""
    return graph.upstream(graph.outputs[output].maps[stream][1:-1])


@pytest.mark.parametrize("name", list(LADDER_CASES))
def test_compiled_ladder_is_the_recorded_hand_written_command(name: str) -> None:
    """ffmpeg-python's command builds what the hand-written one built, for every branch.

    The lists differ only in ways ffmpeg does not see (``command_graph`` forgets exactly
    these): the input's options are in another order (``-f`` first, then sorted; they all
    apply to that input); the graph has one filter per chain, links named ``[s<n>]``, named
    filter options sorted (ffmpeg sets them by name); each output's options come sorted after
    its ``-map``s (no option appears twice in one output, and the maps keep their order); and
    a source without audio reads its silence from a ``-f lavfi`` input (``anullsrc``), since
    ffmpeg-python cannot place a source filter in the graph. Encoding 8 test clips (landscape,
    portrait, 4:3, HLG, no audio, mono, 5.1, VFR) with both commands, x264 on one thread to be
    reproducible, gave byte-identical segments, playlists and posters.
    """
    compiled, before = ladder_case(name), recorded()["ladder"][name]
    assert compiled[:9] == before[:9]  # the global options: identical, in place
    assert canonical(compiled) == canonical(before)


def test_input_is_hardened_local_file_with_the_forced_demuxer() -> None:
    graph = graph_of(LANDSCAPE)
    (upload,) = graph.inputs
    (hardened,) = read(["ffmpeg", *source_input_args(Path("in/clip.mp4"), demuxer="mov")]).inputs
    assert upload == hardened
    assert upload.url == f"file:{Path('in/clip.mp4').resolve()}"
    assert upload.options["-protocol_whitelist"] == "file" and upload.options["-f"] == "mov"


def test_one_process_decodes_once_and_splits_into_every_rung_and_the_poster() -> None:
    command = command_for(LANDSCAPE)
    assert command[0] == "ffmpeg" and command.count("-i") == 1
    graph = read(command)
    inputs = [label for f in graph.filters for label in f.inputs]
    assert inputs.count("0:v:0") == 1 and inputs.count("0:a:0") == 1
    assert [len(f.outputs) for f in named(graph, "split")] == [5]
    assert [len(f.outputs) for f in named(graph, "asplit")] == [4]
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
    graph = graph_of(LANDSCAPE)
    (fps,) = named(graph, "fps")
    assert fps.positional == ("25",) and fps.named == {"start_time": "0"}
    for output, rung in enumerate(DEFAULT_FORMAT.rungs):
        tags, pixels, sar, scale = chain_to(graph, output, 0)[:4]
        assert (pixels.name, pixels.positional) == ("format", ("yuv420p",))
        assert (sar.name, sar.positional) == ("setsar", ("1",))
        assert scale.positional == (str(rung.width), str(rung.height))
        assert scale.named["out_color_matrix"] == "bt709" and tags.name == "setparams"


def test_tone_mapping_only_for_hdr() -> None:
    assert not named(graph_of(LANDSCAPE), "tonemap")
    graph = graph_of(HLG)
    zscales = [f.named for f in named(graph, "zscale")]
    assert zscales[0] == {"t": "linear", "npl": "100"}
    assert zscales[-1] == {"t": "bt709", "m": "bt709", "r": "tv"}
    assert named(graph, "tonemap")[0].named == {"tonemap": "hable", "desat": "0"}


def test_pillarbox_over_a_blurred_backdrop_only_for_non_widescreen() -> None:
    assert not named(graph_of(LANDSCAPE), "overlay")
    graph = graph_of(PORTRAIT)
    assert named(graph, "boxblur")
    (overlay,) = named(graph, "overlay")
    assert overlay.named == {"x": "(W-w)/2", "y": "(H-h)/2", "format": "yuv420"}
    backdrop, front = (graph.upstream(label) for label in overlay.inputs)
    assert [f.name for f in backdrop[:6]] == [
        "scale",
        "lutyuv",
        "boxblur",
        "crop",
        "scale",
        "split",
    ]
    assert backdrop[4].positional == ("192", "342")  # covers 192x108 with the picture's shape
    assert front[0].positional == ("608", "1080") and front[1].name == "split"
    four_by_three = graph_of(FOUR_BY_THREE)
    (overlay,) = named(four_by_three, "overlay")
    assert four_by_three.upstream(overlay.inputs[1])[0].positional == ("1440", "1080")


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
    assert len(graph_of(LANDSCAPE).inputs) == 1
    graph = graph_of(SILENT, loudness=None)
    upload, silence = graph.inputs
    assert (silence.options, silence.url) == ({"-f": "lavfi"}, "anullsrc=r=48000:cl=stereo")
    assert not [f for f in graph.filters if "0:a:0" in f.inputs]


def test_audio_is_folded_to_stereo_normalised_then_resampled() -> None:
    chain = chain_to(graph_of(LANDSCAPE), 0, 1)
    assert [f.name for f in chain] == [
        "asplit", "atrim", "apad", "afade", "aresample", "loudnorm", "aformat", "aresample",
    ]  # fmt: skip
    assert chain[6].named == {"channel_layouts": "stereo"}
    assert chain[4].positional == ("48000",) and chain[-1].inputs == ("0:a:0",)
    assert not named(graph_of(LANDSCAPE, loudness=None), "loudnorm")


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
    graph = graph_of(LANDSCAPE)  # 6 s: two segments
    (tpad,) = named(graph, "tpad")
    assert tpad.named == {"stop": "-1", "color": "black"}
    assert [f.named for f in graph.filters if f.inputs == tpad.outputs] == [{"end_frame": "240"}]
    atrim, apad = chain_to(graph, 0, 1)[1:3]
    assert apad.named == {"whole_len": "460800"}
    assert atrim.named == {"start_sample": "1024", "end_sample": "460800"}
    silent = graph_of(replace(SILENT, duration=1.0), loudness=None)
    (atrim,) = named(silent, "atrim")
    assert atrim.inputs == ("1:a:0",)
    assert atrim.named == {"start_sample": "1024", "end_sample": "230400"}


def test_poster_is_a_frame_a_third_in_at_most_3_s_as_720p_jpeg() -> None:
    assert poster_frame(LANDSCAPE, DEFAULT_FORMAT) == 50
    assert poster_frame(replace(LANDSCAPE, duration=3.0), DEFAULT_FORMAT) == 25
    assert poster_frame(replace(LANDSCAPE, duration=600), DEFAULT_FORMAT) == 75
    command = command_for(LANDSCAPE)
    format_, sar, scale, trim = chain_to(read(command), -1, 0)[:4]
    assert trim.named == {"start_frame": "50", "end_frame": "51"}
    assert scale.positional == ("1280", "720") and format_.positional == ("yuvj420p",)
    assert command[-1] == "/work/out/poster.jpg"


def test_progress_fraction_from_out_time() -> None:
    assert progress_fraction({"out_time_us": "2400000"}, total_seconds=9.6) == 0.25
    assert progress_fraction({"out_time_us": "N/A"}, total_seconds=9.6) == 0.0
    assert progress_fraction({"out_time_us": "99000000"}, total_seconds=9.6) == 1.0
    assert progress_fraction({"out_time_us": "-5000"}, total_seconds=9.6) == 0.0
    assert progress_fraction({"progress": "end"}, total_seconds=9.6) == 1.0
