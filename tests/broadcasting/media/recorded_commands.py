"""Representative sources and the ffmpeg commands built for them, recorded once.

``recorded_commands.json`` holds the argument lists the hand-written builders produced (before
the ladder and the loudness analysis were compiled with ffmpeg-python) for every case below: a
branch of ``ladder_command`` or of the analysis commands each. The tests compare what the
builders produce now with these recordings; ``python -m tests.broadcasting.media.recorded_commands``
rewrites the file from the current builders, which is only right when a command is meant to
change. Its ladder part was rewritten once, on purpose, for the picture fixes of issue 10 §7:
every ladder gained the fade-out (``fade``, ``afade``), the backdrop of non-16:9 pictures its
size from the displayed shape, BT.601 sources the ``colorspace`` conversion, and four cases were
added; nothing else in any graph or output changed (compared filter by filter). The analysis
commands are still the hand-written recording.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from broadcasting.media.formats import DEFAULT_FORMAT, FormatSpec, Rung
from broadcasting.media.ladder import ladder_command
from broadcasting.media.loudness import Loudness, analysis_command, output_analysis_command
from broadcasting.media.probe import ProbeFacts

RECORDING = Path(__file__).with_name("recorded_commands.json")
SOURCE = Path("/uploads/clip.mp4")  # absolute: the command holds it resolved

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
OUT_OF_RANGE = Loudness(
    input_i=0.4, input_tp=101.0, input_lra=0, input_thresh=-120, target_offset=0
)

MONO_CHANNEL = replace(DEFAULT_FORMAT, audio_channels=1)
ONE_RUNG = replace(DEFAULT_FORMAT, rungs=(DEFAULT_FORMAT.rungs[-1],))
OWN_PRESETS = replace(
    DEFAULT_FORMAT,
    rungs=(
        replace(DEFAULT_FORMAT.rungs[0], preset="faster"),
        Rung("540p", 960, 540, 2_000_000, 2_200_000, 4_000_000, "main", "3.1"),
    ),
)

# name: (facts, measured loudness, format, demuxer)
LADDER_CASES: dict[str, tuple[ProbeFacts, Loudness | None, FormatSpec, str]] = {
    "landscape_stereo": (LANDSCAPE, LOUDNESS, DEFAULT_FORMAT, "mov"),
    "landscape_silent_audio": (LANDSCAPE, None, DEFAULT_FORMAT, "mov"),
    "landscape_out_of_range_loudness": (LANDSCAPE, OUT_OF_RANGE, DEFAULT_FORMAT, "mov"),
    "portrait_rotated_phone": (replace(PORTRAIT, frame_rate=30.0, duration=5.0), LOUDNESS,
                               DEFAULT_FORMAT, "mov"),
    "portrait_coded_upright": (replace(LANDSCAPE, width=1080, height=1920), LOUDNESS,
                               DEFAULT_FORMAT, "mov"),
    "four_by_three_untagged_sd": (FOUR_BY_THREE, LOUDNESS, DEFAULT_FORMAT, "mov"),
    "pal_bt470bg_4_3": (replace(LANDSCAPE, width=720, height=576, color_space="bt470bg"),
                        LOUDNESS, DEFAULT_FORMAT, "avi"),
    "scope_letterbox": (replace(LANDSCAPE, width=2048, height=858), LOUDNESS, DEFAULT_FORMAT,
                        "matroska"),
    "widescreen_sd_smpte170m": (replace(LANDSCAPE, width=854, height=480,
                                        color_space="smpte170m"), LOUDNESS, DEFAULT_FORMAT, "mov"),
    "no_audio": (replace(SILENT, duration=4.0, width=1280, height=720), None, DEFAULT_FORMAT,
                 "mov"),
    "no_audio_one_second_portrait": (replace(SILENT, duration=1.0, rotation=270), None,
                                     DEFAULT_FORMAT, "mov"),
    "mono": (replace(LANDSCAPE, audio_channels=1, audio_layout="mono"), LOUDNESS,
             DEFAULT_FORMAT, "mov"),
    "surround_5_1": (replace(LANDSCAPE, audio_channels=6, audio_layout="5.1"), LOUDNESS,
                     DEFAULT_FORMAT, "matroska"),
    "hlg_10bit": (HLG, LOUDNESS, DEFAULT_FORMAT, "mov"),
    "pq_10bit_portrait": (replace(HLG, color_transfer="smpte2084", rotation=90), LOUDNESS,
                          DEFAULT_FORMAT, "mov"),
    "cover_art_before_the_video": (replace(LANDSCAPE, extra={"video_index": "1"}), LOUDNESS,
                                   DEFAULT_FORMAT, "mov"),
    "vfr_one_hour_mpegts": (replace(LANDSCAPE, variable_frame_rate=True, duration=3600.0),
                            LOUDNESS, DEFAULT_FORMAT, "mpegts"),
    "mono_channel_format": (LANDSCAPE, LOUDNESS, MONO_CHANNEL, "mov"),
    "mono_channel_format_no_audio": (SILENT, None, MONO_CHANNEL, "mov"),
    "one_rung": (LANDSCAPE, LOUDNESS, ONE_RUNG, "mpeg"),
    "own_presets_two_rungs_portrait": (PORTRAIT, LOUDNESS, OWN_PRESETS, "mov"),
    # Added with the picture fixes (issue 10 §7): BT.601 colours, anamorphic pixels.
    "ntsc_bt601_all_tags": (replace(LANDSCAPE, width=640, height=360, color_space="smpte170m",
                                    color_primaries="smpte170m", color_transfer="smpte170m"),
                            LOUDNESS, DEFAULT_FORMAT, "mov"),
    "pal_bt601_untagged_primaries": (replace(LANDSCAPE, width=720, height=576,
                                             color_space="bt470bg", color_primaries=""),
                                     LOUDNESS, DEFAULT_FORMAT, "avi"),
    "hdv_anamorphic_16_9": (replace(LANDSCAPE, width=1440, height=1080,
                                    sample_aspect_ratio="4:3", color_space=""),
                            LOUDNESS, DEFAULT_FORMAT, "mpegts"),
    "dv_pal_anamorphic_4_3": (replace(LANDSCAPE, width=720, height=576,
                                      sample_aspect_ratio="16:15", color_space=""),
                              LOUDNESS, DEFAULT_FORMAT, "avi"),
}  # fmt: skip


def ladder_case(name: str) -> list[str]:
    facts, loudness, spec, demuxer = LADDER_CASES[name]
    return ladder_command(
        source=SOURCE, demuxer=demuxer, facts=facts, loudness=loudness, spec=spec,
        out_dir=Path("/work/out"), poster=Path("/work/out/poster.jpg"),
    )  # fmt: skip


LOUDNESS_CASES: dict[str, Callable[[], list[str]]] = {
    "analysis_mov": lambda: analysis_command(source=SOURCE, demuxer="mov", spec=DEFAULT_FORMAT),
    "analysis_matroska": lambda: analysis_command(
        source=SOURCE, demuxer="matroska", spec=DEFAULT_FORMAT
    ),
    "analysis_mono_channel_format": lambda: analysis_command(
        source=SOURCE, demuxer="mov", spec=MONO_CHANNEL
    ),
    "output_analysis": lambda: output_analysis_command(
        segments=["seg_00000.ts", "seg_00001.ts", "seg_00002.ts"], spec=DEFAULT_FORMAT
    ),
}


def current() -> dict[str, dict[str, list[str]]]:
    return {
        "ladder": {name: ladder_case(name) for name in LADDER_CASES},
        "loudness": {name: build() for name, build in LOUDNESS_CASES.items()},
    }


def recorded() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = json.loads(RECORDING.read_text())
    return data


if __name__ == "__main__":
    RECORDING.write_text(json.dumps(current(), indent=1) + "\n")
