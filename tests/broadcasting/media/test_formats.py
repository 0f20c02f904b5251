"""The channel format value: per-rung x264 presets and their fallback (no ffmpeg run)."""

from dataclasses import asdict, replace
from pathlib import Path

import pytest

from broadcasting.media.formats import DEFAULT_FORMAT, Rung
from broadcasting.media.ladder import ladder_command
from tests.broadcasting.media.test_ladder import LANDSCAPE, LOUDNESS, values_after

SMALL = Rung("360p", 640, 360, 800_000, 880_000, 1_600_000, "main", "3.0")


def test_a_rung_without_preset_falls_back_on_the_format_preset() -> None:
    assert SMALL.preset == ""
    assert DEFAULT_FORMAT.preset_for(SMALL) == DEFAULT_FORMAT.x264_preset
    assert DEFAULT_FORMAT.preset_for(replace(SMALL, preset="faster")) == "faster"


def test_rungs_stored_before_presets_existed_still_load() -> None:
    stored = {key: value for key, value in asdict(SMALL).items() if key != "preset"}
    assert Rung(**stored) == SMALL


def test_ultrafast_is_refused_because_it_turns_cabac_off() -> None:
    with pytest.raises(ValueError, match="ultrafast"):
        replace(SMALL, preset="ultrafast")


def test_every_default_rung_names_its_preset() -> None:
    assert all(rung.preset for rung in DEFAULT_FORMAT.rungs)


def test_the_ladder_encodes_each_rung_with_its_own_preset() -> None:
    presets = ("superfast", "veryfast", "faster", "")
    spec = replace(
        DEFAULT_FORMAT,
        rungs=tuple(
            replace(r, preset=p) for r, p in zip(DEFAULT_FORMAT.rungs, presets, strict=True)
        ),
    )
    command = ladder_command(
        source=Path("in/clip.mp4"), demuxer="mov", facts=LANDSCAPE, loudness=LOUDNESS,
        spec=spec, out_dir=Path("/work/out"), poster=Path("/work/out/poster.jpg"),
    )  # fmt: skip
    assert values_after(command, "-preset") == [
        "superfast",
        "veryfast",
        "faster",
        spec.x264_preset,
    ]
