"""Measured renditions and our own master playlist."""

from dataclasses import replace
from pathlib import Path

import pytest

from broadcasting.media.encoding import encode_asset
from broadcasting.media.ffmpeg import Limits
from broadcasting.media.formats import DEFAULT_FORMAT, FormatSpec, Rung
from broadcasting.media.hls import (
    RenditionFacts,
    Segment,
    avc_codec,
    master_playlist,
    measure_rendition,
    parse_media_playlist,
)
from tests.broadcasting import clips
from tests.broadcasting.media_facts import facts_for, parameter_sets

TINY = Rung("180p", 320, 180, 300_000, 330_000, 600_000, "main", "3.0")
# The real preset: x264 writes the lowest profile the tools in use need, so with "ultrafast"
# (no CABAC) a "main" rung's SPS says Constrained Baseline and CODECS would lie.
TINY_SPEC = replace(DEFAULT_FORMAT, rungs=(TINY,))


def rendition(rung: Rung, sizes: list[int]) -> RenditionFacts:
    segments = tuple(Segment(f"seg_{i:05d}.ts", 4.8, size) for i, size in enumerate(sizes))
    return RenditionFacts(
        rung=rung.name, width=rung.width, height=rung.height, playlist=Path("index.m3u8"),
        segments=segments, peak_bandwidth=max(sizes) * 8 * 10 // 48,
        average_bandwidth=sum(sizes) * 8 * 10 // (48 * len(sizes)),
        codecs=f"{avc_codec(rung.profile, rung.level)},mp4a.40.2",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("profile", "level", "codec"),
    [("high", "4.0", "avc1.640028"), ("high", "3.1", "avc1.64001f"),
     ("main", "3.0", "avc1.4d401e"), ("baseline", "3.0", "avc1.42c01e")],
)  # fmt: skip
def test_avc_codec_names_profile_constraints_and_level(
    profile: str, level: str, codec: str
) -> None:
    assert avc_codec(profile, level) == codec


def test_master_playlist_lists_every_rung_highest_first_with_measured_figures() -> None:
    rungs = DEFAULT_FORMAT.rungs
    entries = [
        (rung, rendition(rung, [size, size // 2]), f"{rung.name}/index.m3u8")
        for rung, size in reversed(
            list(zip(rungs, [3_000_000, 1_700_000, 850_000, 500_000], strict=True))
        )
    ]
    text = master_playlist(entries, spec=DEFAULT_FORMAT)
    lines = text.splitlines()
    assert lines[:3] == ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    assert lines[3] == (
        "#EXT-X-STREAM-INF:BANDWIDTH=5000000,AVERAGE-BANDWIDTH=3750000,"
        'RESOLUTION=1920x1080,CODECS="avc1.640028,mp4a.40.2",FRAME-RATE=25.000'
    )
    assert lines[4] == "1080p/index.m3u8"
    assert [line for line in lines if not line.startswith("#")] == [
        "1080p/index.m3u8", "720p/index.m3u8", "480p/index.m3u8", "360p/index.m3u8",
    ]  # fmt: skip
    assert 'CODECS="avc1.4d401e,mp4a.40.2"' in lines[9]
    assert text.endswith("\n")


def test_parse_media_playlist_pairs_durations_and_uris() -> None:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:4.800000,\nseg_00000.ts\n#EXTINF:4.8,\nb.ts\n"
    assert parse_media_playlist(text) == [("seg_00000.ts", 4.8), ("b.ts", 4.8)]


@pytest.fixture(scope="module")
def tiny_encode(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormatSpec]:
    folder = tmp_path_factory.mktemp("tiny")
    source = clips.tagged(folder, "bt709", seconds=5.0)
    facts = facts_for(source)
    result = encode_asset(
        source=source, demuxer="mov", facts=facts, spec=TINY_SPEC,
        work_dir=folder / "work", limits=Limits(wall_seconds=120), on_progress=None,
    )  # fmt: skip
    return result.out_dir, TINY_SPEC


@pytest.mark.slow
def test_measure_rendition_of_a_real_encode(tiny_encode: tuple[Path, FormatSpec]) -> None:
    out_dir, _ = tiny_encode
    facts = measure_rendition(out_dir / "180p", rung=TINY)
    sizes = [(out_dir / "180p" / segment.uri).stat().st_size for segment in facts.segments]
    assert facts.segment_count == 2 and facts.segment_durations == (4.8, 4.8)
    assert facts.peak_bandwidth == round(max(sizes) * 8 / 4.8)
    assert facts.average_bandwidth == round(sum(sizes) * 8 / 9.6)
    sps, _ = parameter_sets(out_dir / "180p" / "seg_00000.ts")
    assert facts.codecs == f"avc1.{sps[1:4].hex()},mp4a.40.2"  # as the SPS says


@pytest.mark.slow
def test_master_playlist_of_a_real_encode_is_read_by_ffprobe(
    tiny_encode: tuple[Path, FormatSpec],
) -> None:
    out_dir, _ = tiny_encode
    master = (out_dir / "master.m3u8").read_text()
    assert "RESOLUTION=320x180" in master and "180p/index.m3u8" in master
    probed = facts_for_playlist(out_dir / "master.m3u8")
    assert probed == {"video": (320, 180), "audio": (48000, 2)}


def facts_for_playlist(master: Path) -> dict[str, tuple[int, int]]:
    from tests.broadcasting.media_facts import ffprobe_json

    streams = ffprobe_json(master, "-show_streams")["streams"]
    video = next(s for s in streams if s["codec_type"] == "video")
    audio = next(s for s in streams if s["codec_type"] == "audio")
    return {
        "video": (video["width"], video["height"]),
        "audio": (int(audio["sample_rate"]), audio["channels"]),
    }
