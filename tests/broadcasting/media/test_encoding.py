"""Real encodes of every kind of clip residents send, checked with ffprobe.

Each clip is generated once and encoded once per run (with the channel's real format), then
every output is inspected: segments of exactly 4.8 s, each opening on a keyframe and carrying
48 kHz stereo audio, 25 fps, the rung's size, square pixels, the same SPS/PPS for a rung
whatever the source, loudness at -23 LUFS, no metadata from the source.
"""

import functools
import pickle
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from broadcasting.media.encoding import EncodeResult, encode_asset
from broadcasting.media.ffmpeg import FFmpegError, Limits
from broadcasting.media.formats import DEFAULT_FORMAT, Rung
from broadcasting.media.probe import ProbeFacts
from tests.artefact_cache import artefact_key, cached_artefact, code_digest, packages_digest
from tests.broadcasting import clips
from tests.broadcasting.cached_media import CLIPS_CODE, MEDIA_CODE, rebased
from tests.broadcasting.media_facts import (
    facts_for,
    ffprobe_json,
    integrated_loudness,
    parameter_sets,
    segment_facts,
)

pytestmark = pytest.mark.slow

SPEC = DEFAULT_FORMAT
TICKS_PER_SEGMENT = 90_000 * SPEC.segment_ms // 1000
AAC_FRAMES_PER_SEGMENT = SPEC.samples_per_segment // 1024
# AAC is lossy: the decoded waveform can overshoot the normalised true peak. Half a dB covers
# the overshoot of AAC-LC at 128 kb/s (EBU Tech 3343 advises headroom of that order for codecs).
TRUE_PEAK_TOLERANCE_DB = 0.5

SOURCES: dict[str, Callable[[Path], Path]] = {
    "landscape": lambda folder: clips.geotagged(folder, clips.landscape_1080p(folder)),
    "portrait": clips.portrait_rotated,
    "four_by_three": clips.four_by_three,
    "ntsc": clips.ntsc_2997,
    "vfr": clips.variable_frame_rate,
    "hlg": clips.hlg_10bit,
    "bt709": lambda folder: clips.tagged(folder, "bt709"),
    "smpte170m": lambda folder: clips.tagged(folder, "smpte170m"),
    "no_audio": clips.no_audio,
    "mono": clips.mono,
    "surround": clips.surround_51,
    "loud": clips.loud,
    "quiet": clips.quiet,
    "one_second": clips.one_second,
}
WITH_AUDIO = [name for name in SOURCES if name != "no_audio"]


@dataclass
class Encoded:
    source: Path
    facts: ProbeFacts
    result: EncodeResult
    progress: list[tuple[float, float | None]] = field(default_factory=list)

    def segments(self, rung: Rung) -> list[Path]:
        return sorted((self.result.out_dir / rung.name).glob("seg_*.ts"))


class EncodedAssets:
    """Clips generated and encoded on first use, once for every run of the same code: the
    first xdist worker that needs one encodes it, the others wait for it and read the same
    files."""

    def __init__(self) -> None:
        self.done: dict[str, Encoded] = {}

    def __getitem__(self, name: str) -> Encoded:
        if name not in self.done:
            self.done[name] = self._encode(name)
        return self.done[name]

    def _encode(self, name: str) -> Encoded:
        build = functools.partial(_encode_into, name=name)
        # Keyed by everything that makes the encode (this file's sources and format, the clip
        # generators, the media pipeline, the packages, ffmpeg's build): an encode kept from an
        # earlier run is the one this code makes; any change to them encodes again.
        code = code_digest(Path(__file__), CLIPS_CODE, MEDIA_CODE)
        folder = cached_artefact(artefact_key(f"encoding-{name}", code, packages_digest()), build)
        staged: Encoded = pickle.loads((folder / "encoded.pickle").read_bytes())  # noqa: S301 - ours
        return rebased(staged, STAGED, folder)  # type: ignore[no-any-return]


STAGED = Path("staged")  # where paths point in a stored ``Encoded``


def _encode_into(folder: Path, *, name: str) -> None:
    clip_folder = folder / name
    clip_folder.mkdir()
    source = SOURCES[name](clip_folder)
    facts = facts_for(source)
    progress: list[tuple[float, float | None]] = []
    result = encode_asset(
        source=source, demuxer=facts.container, facts=facts, spec=SPEC,
        work_dir=clip_folder / "work", limits=Limits(wall_seconds=300),
        on_progress=lambda percent, eta: progress.append((percent, eta)),
    )  # fmt: skip
    encoded = Encoded(source, facts, result, progress)
    (folder / "encoded.pickle").write_bytes(pickle.dumps(rebased(encoded, folder, STAGED)))


@pytest.fixture(scope="session")
def encoded() -> EncodedAssets:
    return EncodedAssets()


def streams_of(segment: Path) -> dict[str, dict[str, object]]:
    streams = ffprobe_json(segment, "-show_streams")["streams"]
    return {stream["codec_type"]: stream for stream in streams}


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_segment_lasts_exactly_4_8_s_and_opens_on_a_keyframe(
    encoded: EncodedAssets, name: str
) -> None:
    asset = encoded[name]
    expected = SPEC.segments_for(asset.facts.duration)
    assert asset.result.segment_count == expected
    for rung in SPEC.rungs:
        assert asset.result.renditions[rung.name].segment_durations == (4.8,) * expected
        segments = asset.segments(rung)
        assert len(segments) == expected
        for segment in segments:  # the last included
            facts = segment_facts(segment)
            assert facts.video_frames == SPEC.frames_per_segment, (rung.name, segment.name)
            assert facts.starts_with_keyframe
            assert facts.video_span == TICKS_PER_SEGMENT
            assert facts.audio_frames == AAC_FRAMES_PER_SEGMENT, (rung.name, segment.name)
            assert facts.audio_span == TICKS_PER_SEGMENT
            assert facts.audio_start == facts.video_start


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_rung_is_25_fps_square_pixels_bt709_with_48_khz_stereo(
    encoded: EncodedAssets, name: str
) -> None:
    asset = encoded[name]
    for rung in SPEC.rungs:
        for segment in asset.segments(rung)[:: len(asset.segments(rung)) - 1 or 1]:
            streams = streams_of(segment)
            video, audio = streams["video"], streams["audio"]
            assert (video["width"], video["height"]) == (rung.width, rung.height)
            assert video["r_frame_rate"] == "25/1"
            assert video.get("sample_aspect_ratio", "1:1") == "1:1"
            assert video["pix_fmt"] == "yuv420p"
            assert (video["color_space"], video["color_transfer"]) == ("bt709", "bt709")
            assert (video["color_primaries"], video["color_range"]) == ("bt709", "tv")
            assert (audio["codec_name"], audio["profile"]) == ("aac", "LC")
            assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)


def test_sps_and_pps_of_a_rung_are_identical_across_all_assets(
    encoded: EncodedAssets,
) -> None:
    for rung in SPEC.rungs:
        headers = {name: parameter_sets(encoded[name].segments(rung)[0]) for name in SOURCES}
        assert len(set(headers.values())) == 1, (rung.name, headers)
        sps, _ = next(iter(headers.values()))
        assert (
            encoded["landscape"]
            .result.renditions[rung.name]
            .codecs.startswith(f"avc1.{sps[1:4].hex()},")
        )


@pytest.mark.parametrize("name", WITH_AUDIO)
def test_loudness_is_normalised_to_minus_23_lufs_under_minus_1_dbtp(
    encoded: EncodedAssets, name: str
) -> None:
    result = encoded[name].result
    assert result.loudness_before is not None and result.loudness_after is not None
    assert abs(result.loudness_after - SPEC.loudness_lufs) <= 1.0
    assert result.true_peak_after is not None
    assert result.true_peak_after <= SPEC.true_peak_dbtp + TRUE_PEAK_TOLERANCE_DB


def test_loud_and_quiet_sources_really_were_far_from_the_target(encoded: EncodedAssets) -> None:
    loud, quiet = encoded["loud"].result, encoded["quiet"].result
    assert loud.loudness_before is not None and loud.loudness_before > -18
    assert quiet.loudness_before is not None and quiet.loudness_before < -40


def test_loudness_read_back_by_an_hls_client_agrees(encoded: EncodedAssets) -> None:
    playlist = encoded["loud"].result.out_dir / "1080p" / "index.m3u8"
    lufs, _ = integrated_loudness(playlist)
    assert abs(lufs - SPEC.loudness_lufs) <= 1.0


def test_no_audio_becomes_silent_stereo(encoded: EncodedAssets) -> None:
    result = encoded["no_audio"].result
    assert result.loudness_before is None and result.loudness_after is None
    audio = streams_of(encoded["no_audio"].segments(SPEC.rungs[-1])[-1])["audio"]
    assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)


def picture_psnr(output: Path, source: Path, crop: str, size: str, matrix: str = "bt709") -> float:
    """PSNR of a crop of the output's first frame against the source's first frame resized.

    ``matrix`` is the source's YCbCr matrix: the reference is converted to BT.709 like the output.
    """
    reference = f"scale={size}:in_color_matrix={matrix}:out_color_matrix=bt709"
    graph = (
        f"[0:v]crop={crop},trim=end_frame=1,format=yuv420p[out];"
        f"[1:v]{reference},trim=end_frame=1,format=yuv420p[ref];[out][ref]psnr"
    )
    stderr = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(output), "-i", str(source),
         "-filter_complex", graph, "-f", "null", "-"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stderr  # fmt: skip
    return float(re.search(r"average:([\d.]+|inf)", stderr).group(1))  # type: ignore[union-attr]


def test_portrait_is_upright_and_pillarboxed_not_stretched(encoded: EncodedAssets) -> None:
    asset = encoded["portrait"]
    first = asset.segments(SPEC.rungs[0])[0]
    # The picture is the rotated source, 608 px wide, centred (autorotate honours the tag).
    assert picture_psnr(first, asset.source, "608:1080:656:0", "608:1080") > 30
    # Stretched to the full width, it would not match.
    assert picture_psnr(first, asset.source, "1920:1080:0:0", "1920:1080") < 20


def test_four_by_three_is_pillarboxed_at_1440_px(encoded: EncodedAssets) -> None:
    asset = encoded["four_by_three"]
    first = asset.segments(SPEC.rungs[0])[0]
    # An untagged SD source is taken as BT.601 (what players assume) and converted.
    psnr = picture_psnr(first, asset.source, "1440:1080:240:0", "1440:1080", "smpte170m")
    assert psnr > 30


def test_source_metadata_never_reaches_outputs(encoded: EncodedAssets) -> None:
    result = encoded["landscape"].result
    outputs = [*result.out_dir.rglob("*.ts"), result.poster]
    for output in outputs:
        data = output.read_bytes()
        assert clips.GPS_LOCATION.encode() not in data
        assert clips.SECRET_TITLE.encode() not in data
        assert b"PhoneCam" not in data
    probed = ffprobe_json(outputs[0], "-show_format", "-show_streams")
    tags = [probed["format"].get("tags", {})] + [s.get("tags", {}) for s in probed["streams"]]
    assert not any({"location", "title", "creation_time"} & set(t) for t in tags)


def test_poster_is_a_720p_jpeg(encoded: EncodedAssets) -> None:
    poster = encoded["portrait"].result.poster
    stream = ffprobe_json(poster, "-show_streams")["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", 1280, 720)


def test_one_second_clip_fills_one_whole_segment(encoded: EncodedAssets) -> None:
    result = encoded["one_second"].result
    assert result.segment_count == 1 and result.padded_duration == 4.8
    assert all(r.segment_durations == (4.8,) for r in result.renditions.values())


def test_master_playlist_is_played_by_ffmpeg_as_a_client(encoded: EncodedAssets) -> None:
    master = encoded["one_second"].result.master
    played = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(master), "-map", "0:p:0", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert played.returncode == 0 and played.stderr == ""


def test_progress_is_reported_up_to_100_percent_with_an_eta(encoded: EncodedAssets) -> None:
    progress = encoded["landscape"].progress
    percents = [percent for percent, _ in progress]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert any(eta is not None for _, eta in progress)


def test_a_broken_source_raises_ffmpeg_error(tmp_path: Path) -> None:
    source = tmp_path / "broken.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    facts = facts_for_broken(source)
    with pytest.raises(FFmpegError):
        encode_asset(
            source=source, demuxer="mov", facts=facts, spec=SPEC, work_dir=tmp_path / "work",
            limits=Limits(wall_seconds=60), on_progress=None,
        )  # fmt: skip


def facts_for_broken(source: Path) -> ProbeFacts:
    return ProbeFacts(
        container="mov", format_name="mov", duration=4.0, size=source.stat().st_size,
        video_codec="h264", width=1280, height=720, rotation=0, frame_rate=25.0,
        variable_frame_rate=False, pix_fmt="yuv420p", bit_depth=8, color_space="",
        color_transfer="", color_primaries="", audio_codec="aac", audio_channels=2,
        audio_layout="stereo", audio_rate=48_000,
    )  # fmt: skip
