"""The loudness analysis pass: its command, the parsing of loudnorm's report, the filter."""

from pathlib import Path

from broadcasting.media.formats import DEFAULT_FORMAT
from broadcasting.media.loudness import (
    Loudness,
    analysis_command,
    loudnorm_filter,
    output_analysis_command,
    parse_analysis,
)

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


def test_analysis_is_audio_only_on_a_hardened_input() -> None:
    command = analysis_command(source=Path("clip.mp4"), demuxer="mov", spec=DEFAULT_FORMAT)
    assert command[command.index("-protocol_whitelist") + 1] == "file"
    assert command[command.index("-f") + 1] == "mov"
    assert command[command.index("-i") + 1] == f"file:{Path('clip.mp4').resolve()}"
    assert {"-vn", "-sn", "-dn"} <= set(command)
    assert command[-3:] == ["-f", "null", "-"]
    audio_filter = command[command.index("-af") + 1]
    assert "channel_layouts=stereo" in audio_filter
    assert "loudnorm=I=-23:TP=-1:LRA=18:print_format=json" in audio_filter


def test_output_analysis_reads_our_segments_back_to_back() -> None:
    command = output_analysis_command(segments=["a.ts", "b.ts"], spec=DEFAULT_FORMAT)
    assert command[command.index("-i") + 1] == "concat:a.ts|b.ts"
    assert command[command.index("-f") + 1] == "mpegts"


def test_parse_analysis_reads_the_last_report() -> None:
    assert parse_analysis("noise\n" + SILENT + RECORDED) == MEASURED


def test_silence_and_missing_report_mean_nothing_to_normalise() -> None:
    assert parse_analysis(SILENT) is None
    assert parse_analysis("Output file #0 does not contain any stream") is None


def test_second_pass_uses_measured_values_linearly_then_resamples() -> None:
    chain = loudnorm_filter(MEASURED, DEFAULT_FORMAT)
    assert chain == (
        "loudnorm=I=-23:TP=-1:LRA=18:measured_I=-41.82:measured_TP=-40.28:measured_LRA=0.10"
        ":measured_thresh=-51.82:offset=-0.05:linear=true:print_format=none,aresample=48000"
    )


def test_silence_gets_no_loudnorm_but_still_48_khz() -> None:
    assert loudnorm_filter(None, DEFAULT_FORMAT) == "aresample=48000"


def test_out_of_range_measurements_are_clamped_to_what_loudnorm_accepts() -> None:
    clipped = Loudness(input_i=0.4, input_tp=101.0, input_lra=0, input_thresh=-120, target_offset=0)
    chain = loudnorm_filter(clipped, DEFAULT_FORMAT)
    assert "measured_I=0.00" in chain and "measured_TP=99.00" in chain
    assert "measured_thresh=-99.00" in chain
