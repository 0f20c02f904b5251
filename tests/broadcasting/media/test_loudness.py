"""The loudness analysis pass: its command, the parsing of loudnorm's report, the filter."""

from pathlib import Path

import ffmpeg as ffmpeg_python
import pytest

from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.loudness import (
    Loudness,
    analysis_command,
    input_stream,
    normalise,
    output_analysis_command,
    parse_analysis,
)
from tests.broadcasting.media.command_graph import Filter, canonical, read
from tests.broadcasting.media.recorded_commands import LOUDNESS_CASES, recorded

RECORDED = """\
size=N/A time=00:00:05.00 bitrate=N/A speed= 120x
[Parsed_loudnorm_2 @ 0x558de39136c0] 
{
	"input_i" : "-41.82",
	"input_tp" : "-40.28",
	"input_lra" : "0.10",
	"input_thresh" : "-51.82",
	"output_i" : "-22.95",
	"output_tp" : "-21.40",
	"output_lra" : "0.00",
	"output_thresh" : "-32.95",
	"normalization_type" : "dynamic",
	"target_offset" : "-0.05"
}
"""

SILENT = """\
[Parsed_loudnorm_0 @ 0x56118e5ccb40] 
{
	"input_i" : "-inf",
	"input_tp" : "-inf",
	"input_lra" : "0.00",
	"input_thresh" : "-70.00",
	"output_i" : "-inf",
	"output_tp" : "-inf",
	"output_lra" : "0.00",
	"output_thresh" : "-70.00",
	"normalization_type" : "linear",
	"target_offset" : "inf"
}
"""

MEASURED = Loudness(
    input_i=-41.82, input_tp=-40.28, input_lra=0.1, input_thresh=-51.82, target_offset=-0.05
)


def normalised(measured: Loudness | None) -> list[Filter]:
    """The filters ``normalise`` adds after an input's audio stream, in order."""
    audio = input_stream(["-i", "in.wav"])["a:0"]
    output = ffmpeg_python.output(normalise(audio, measured, DEFAULT_FORMAT), "-", f="null")
    return read(["ffmpeg", *output.get_args()]).filters


@pytest.mark.parametrize("name", list(LOUDNESS_CASES))
def test_compiled_analysis_is_the_recorded_hand_written_command(name: str) -> None:
    """ffmpeg-python's analysis command builds what the hand-written one built.

    The differences ffmpeg does not see (``command_graph`` forgets exactly these): the input's
    options in another order (``-f`` first, then sorted), the output's options sorted after its
    ``-map``, and the chain given as a complex graph, ``-filter_complex [0:a:0]...[s2] -map
    [s2]``, instead of ``-map 0:a:0 -af ...``: the same filters between the same stream and the
    same output. Both commands measured the same loudness, to the hundredth, on 7 test clips.
    """
    compiled, before = LOUDNESS_CASES[name](), recorded()["loudness"][name]
    assert compiled[:6] == before[:6]  # the global options: identical, in place
    assert canonical(compiled) == canonical(before)


def test_analysis_is_audio_only_on_a_hardened_input() -> None:
    command = read(analysis_command(source=Path("clip.mp4"), demuxer="mov", spec=DEFAULT_FORMAT))
    (upload,) = command.inputs
    assert upload.options["-protocol_whitelist"] == "file" and upload.options["-f"] == "mov"
    assert upload.url == f"file:{Path('clip.mp4').resolve()}"
    (output,) = command.outputs
    assert {"-vn", "-sn", "-dn"} <= set(output.options)
    assert (output.options["-f"], output.filename) == ("null", "-")
    measure, fold, resample = command.upstream(output.maps[0][1:-1])
    assert resample.inputs == ("0:a:0",) and fold.named == {"channel_layouts": "stereo"}
    assert measure.name == "loudnorm"
    assert measure.named == {"I": "-23", "TP": "-1", "LRA": "18", "print_format": "json"}


def test_output_analysis_reads_our_segments_back_to_back() -> None:
    command = read(output_analysis_command(segments=["a.ts", "b.ts"], spec=DEFAULT_FORMAT))
    (joined,) = command.inputs
    assert joined.url == "concat:a.ts|b.ts"
    assert joined.options == {"-protocol_whitelist": "file,concat", "-f": "mpegts"}


def test_parse_analysis_reads_the_last_report() -> None:
    assert parse_analysis("noise\n" + SILENT + RECORDED) == MEASURED


def test_silence_and_missing_report_mean_nothing_to_normalise() -> None:
    assert parse_analysis(SILENT) is None
    assert parse_analysis("Output file #0 does not contain any stream") is None


def test_second_pass_uses_measured_values_linearly_then_resamples() -> None:
    loudnorm, resample = normalised(MEASURED)
    assert loudnorm.name == "loudnorm" and loudnorm.named == {
        "I": "-23", "TP": "-1", "LRA": "18", "measured_I": "-41.82", "measured_TP": "-40.28",
        "measured_LRA": "0.10", "measured_thresh": "-51.82", "offset": "-0.05",
        "linear": "true", "print_format": "none",
    }  # fmt: skip
    assert (resample.name, resample.positional, resample.named) == ("aresample", ("48000",), {})


def test_silence_gets_no_loudnorm_but_still_48_khz() -> None:
    (resample,) = normalised(None)
    assert (resample.name, resample.positional) == ("aresample", ("48000",))


def test_out_of_range_measurements_are_clamped_to_what_loudnorm_accepts() -> None:
    clipped = Loudness(input_i=0.4, input_tp=101.0, input_lra=0, input_thresh=-120, target_offset=0)
    loudnorm, _ = normalised(clipped)
    assert loudnorm.named["measured_I"] == "0.00" and loudnorm.named["measured_TP"] == "99.00"
    assert loudnorm.named["measured_thresh"] == "-99.00"
