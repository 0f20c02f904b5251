"""The picture right for every source (issue 10 §7), measured on real encodes.

Anamorphic pixels, BT.601 colours, mirrored display matrices and the fade to black and silence
before an item's padding. Each case (marked slow) is a clip of one to five seconds from
``tests.broadcasting.clips``, taken through the real intake (``check_upload`` and ``probe``)
and the real encode into one rung of the channel format, then read back with ffmpeg. The first
frame of every case is saved as a PNG under ``var/test-artefacts/picture/`` (its path is
printed) for whoever wants to look. The facts and commands behind them are checked at the end,
without an encode.
"""

import math
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from broadcasting.media.encoding import EncodeResult, encode_asset
from broadcasting.media.ffmpeg import Limits
from broadcasting.media.formats import DEFAULT_FORMAT, Rung
from broadcasting.media.intake import check_upload
from broadcasting.media.ladder import ladder_command
from broadcasting.media.probe import ProbeFacts, ProbeLimits, parse_probe, probe
from tests.broadcasting import clips
from tests.broadcasting.conftest import MakeClip
from tests.broadcasting.media.command_graph import read
from tests.broadcasting.media.recorded_commands import LANDSCAPE, LOUDNESS, ladder_case
from tests.broadcasting.media_facts import ffprobe_json, segment_facts
from tests.support import ROOT

TOP, SMALL = DEFAULT_FORMAT.rungs[0], DEFAULT_FORMAT.rungs[-1]  # 1080p, 360p
ARTEFACTS = ROOT / "var" / "test-artefacts" / "picture"
GiB = 1024**3


# --- Running the pipeline and reading pictures back -----------------------------------------


def intake(path: Path) -> ProbeFacts:
    demuxer = check_upload(path, original_name=path.name, max_bytes=GiB)
    return probe(path, demuxer=demuxer, limits=ProbeLimits())


def encode(source: Path, rung: Rung, folder: Path) -> tuple[ProbeFacts, EncodeResult]:
    """The real encode of ``source`` into a channel format of this one rung."""
    facts = intake(source)
    result = encode_asset(
        source=source, demuxer=facts.container, facts=facts,
        spec=replace(DEFAULT_FORMAT, rungs=(rung,)), work_dir=folder / "work",
        limits=Limits(wall_seconds=300),
    )  # fmt: skip
    return facts, result


def segments(result: EncodeResult, rung: Rung) -> list[Path]:
    return sorted((result.out_dir / rung.name).glob("seg_*.ts"))


def save_picture(video: Path, name: str) -> Path:
    """The first frame of ``video`` as ``var/test-artefacts/picture/<name>.png``."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    picture = ARTEFACTS / f"{name}.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-frames:v", "1", str(picture)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    print(f"first frame of {name}: {picture}")  # noqa: T201 - where to look at it
    return picture


def save_picture_at(video: Path, index: int, name: str) -> Path:
    """Frame ``index`` of ``video``, saved like ``save_picture``."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    picture = ARTEFACTS / f"{name}.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", f"select=eq(n\\,{index})",
         "-frames:v", "1", str(picture)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    print(f"frame {index} of {name}: {picture}")  # noqa: T201 - where to look at it
    return picture


def frames(video: Path, pix_fmt: str, video_filter: str = "null", count: int = 1) -> bytes:
    """The first ``count`` decoded frames as raw ``pix_fmt`` bytes."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video), "-vf", video_filter,
         "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip


def video_stream(video: Path) -> dict[str, object]:
    streams = ffprobe_json(video, "-show_streams", "-select_streams", "v:0")["streams"]
    return dict(streams[0])


class Plane:
    """One 8-bit plane (or packed picture) of ``width`` pixels of ``channels`` bytes per line."""

    def __init__(self, data: bytes, width: int, channels: int = 1) -> None:
        self.data, self.width, self.channels = data, width, channels

    def mean(self, x: int, y: int, w: int, h: int, channel: int = 0) -> float:
        """The mean of ``channel`` over the ``w`` x ``h`` rectangle at (``x``, ``y``)."""
        total = 0
        for row in range(y, y + h):
            start = (row * self.width + x) * self.channels + channel
            total += sum(self.data[start : start + w * self.channels : self.channels])
        return total / (w * h)


def psnr(one: bytes, other: bytes, width: int, columns: range | None = None) -> float:
    """PSNR (dB) of two grey pictures, or of the ``columns`` of them only."""
    columns = columns or range(width)
    height = len(one) // width
    squared = 0
    for row in range(height):
        start = row * width
        a = one[start + columns.start : start + columns.stop]
        b = other[start + columns.start : start + columns.stop]
        squared += sum((p - q) ** 2 for p, q in zip(a, b, strict=True))
    mse = squared / (height * len(columns))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


# --- Anamorphic sources ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "matrix"), [("hdv", "bt709"), ("dv_pal", "bt601")])
def test_anamorphic_source_fills_the_16_9_picture_with_square_pixels(
    make_clip: MakeClip, tmp_path: Path, kind: str, matrix: str
) -> None:
    """HDV (1440x1080, SAR 4:3) and DV PAL 16:9 (720x576, SAR 64:45) are 16:9 pictures: they
    fill 1920x1080 edge to edge, neither pillarboxed nor squeezed."""
    source = make_clip(clips.anamorphic, kind)
    facts, result = encode(source, TOP, tmp_path)
    assert (facts.display_width * 9) == (facts.display_height * 16)
    first = segments(result, TOP)[0]
    save_picture(first, f"anamorphic-{kind}")
    stream = video_stream(first)
    assert (stream["width"], stream["height"]) == (1920, 1080)
    assert stream.get("sample_aspect_ratio", "1:1") == "1:1"
    # The reference: the source's first frame stretched to the full picture (BT.709 luma).
    to_709 = f"scale=1920:1080:in_color_matrix={matrix}:out_color_matrix=bt709"
    reference = frames(source, "gray", to_709)
    shown = frames(first, "gray")
    assert psnr(shown, reference, 1920) > 30
    # The picture reaches both edges: no bars, no blurred backdrop there.
    for edge in (range(0, 120), range(1800, 1920)):
        assert psnr(shown, reference, 1920, edge) > 30, edge


# --- BT.601 colours -------------------------------------------------------------------------

# CIE xy of the primaries (red, green, blue); every white point here is D65.
PRIMARIES = {
    "smpte170m": ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070)),
    "bt470bg": ((0.640, 0.330), (0.290, 0.600), (0.150, 0.060)),
    "bt709": ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060)),
}
D65 = (0.3127, 0.3290)
LUMA = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}  # (Kr, Kb)
Matrix = tuple[tuple[float, float, float], ...]


def _solve(m: Matrix, v: tuple[float, ...]) -> tuple[float, ...]:
    """``m⁻¹ v`` by Cramer's rule (3x3)."""

    def det(a: Matrix) -> float:
        return (
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        )

    whole = det(m)
    columns = [
        tuple(tuple(v[r] if c == k else m[r][c] for c in range(3)) for r in range(3))
        for k in range(3)
    ]
    return tuple(det(column) / whole for column in columns)


def rgb_to_xyz(primaries: str) -> Matrix:
    xyz = [(x / y, 1.0, (1 - x - y) / y) for x, y in PRIMARIES[primaries]]
    columns = tuple(tuple(xyz[c][r] for c in range(3)) for r in range(3))
    white = (D65[0] / D65[1], 1.0, (1 - D65[0] - D65[1]) / D65[1])
    scale = _solve(columns, white)
    return tuple(tuple(columns[r][c] * scale[c] for c in range(3)) for r in range(3))


def _apply(m: Matrix, v: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sum(m[r][c] * v[c] for c in range(3)) for r in range(3))


def _linear(value: float) -> float:
    """The inverse of the BT.601/BT.709 camera curve, odd-symmetric (out-of-gamut stays)."""
    size = abs(value)
    linear = size / 4.5 if size < 0.081 else ((size + 0.099) / 1.099) ** (1 / 0.45)
    return math.copysign(linear, value)


def _curve(value: float) -> float:
    size = abs(value)
    curved = 4.5 * size if size < 0.018 else 1.099 * size**0.45 - 0.099
    return math.copysign(curved, value)


def yuv_to_rgb(yuv: tuple[float, ...], matrix: str) -> tuple[float, ...]:
    kr, kb = LUMA[matrix]
    y, u, v = (yuv[0] - 16) / 219, (yuv[1] - 128) / 224, (yuv[2] - 128) / 224
    r, b = y + 2 * (1 - kr) * v, y + 2 * (1 - kb) * u
    return r, (y - kr * r - kb * b) / (1 - kr - kb), b


def rgb_to_yuv(rgb: tuple[float, ...], matrix: str) -> tuple[float, ...]:
    kr, kb = LUMA[matrix]
    y = kr * rgb[0] + (1 - kr - kb) * rgb[1] + kb * rgb[2]
    u, v = (rgb[2] - y) / (2 * (1 - kb)), (rgb[0] - y) / (2 * (1 - kr))
    return 16 + 219 * y, 128 + 224 * u, 128 + 224 * v


def bt601_to_bt709(yuv: tuple[float, ...], primaries: str) -> tuple[float, ...]:
    """What a BT.601 YCbCr colour of these primaries is in BT.709 (limited range, 8 bits)."""
    linear = tuple(_linear(c) for c in yuv_to_rgb(yuv, "bt601"))
    xyz = _apply(rgb_to_xyz(primaries), linear)
    linear_709 = _solve(rgb_to_xyz("bt709"), xyz)
    return rgb_to_yuv(tuple(_curve(c) for c in linear_709), "bt709")


def test_the_colour_model_of_this_test_knows_its_textbook_values() -> None:
    """BT.709 red is (63, 102, 240); the same red in BT.601 is (81, 90, 240)."""
    red_601 = rgb_to_yuv((1.0, 0.0, 0.0), "bt601")
    assert [round(c) for c in red_601] == [81, 90, 240]
    assert [round(c) for c in bt601_to_bt709(red_601, "bt709")] == [63, 102, 240]
    white = rgb_to_yuv((1.0, 1.0, 1.0), "bt601")
    assert [round(c) for c in bt601_to_bt709(white, "bt470bg")] == [235, 128, 128]


PATCHES = {"red": (0, 0), "green": (1, 0), "blue": (0, 1), "white": (1, 1)}  # (column, row)


def patch_means(frame: bytes, width: int, height: int) -> dict[str, tuple[float, ...]]:
    """Mean Y, Cb, Cr of the middle of each quarter of a yuv444p frame."""
    planes = [Plane(frame[i * width * height : (i + 1) * width * height], width) for i in range(3)]
    w, h = width // 2, height // 2
    return {
        name: tuple(p.mean(col * w + w // 4, row * h + h // 4, w // 2, h // 2) for p in planes)
        for name, (col, row) in PATCHES.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("colour", ["smpte170m", "bt470bg"])
def test_bt601_colours_are_converted_to_bt709_matrix_and_primaries(
    make_clip: MakeClip, tmp_path: Path, colour: str
) -> None:
    """Saturated patches of an SD source tagged BT.601 (525 or 625 lines) come out as the same
    colours in BT.709: matrix and primaries converted, within 2 code values."""
    source = make_clip(clips.bt601_patches, colour)
    _, result = encode(source, SMALL, tmp_path)
    first = segments(result, SMALL)[0]
    save_picture(first, f"bt601-{colour}")
    before = patch_means(frames(source, "yuv444p"), 640, 360)
    after = patch_means(frames(first, "yuv444p"), 640, 360)
    for name, yuv in before.items():
        expected = bt601_to_bt709(yuv, colour)
        assert after[name] == pytest.approx(expected, abs=2.0), (name, yuv)


# --- Orientation ----------------------------------------------------------------------------

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")


def corner_colours(frame: bytes, rung: Rung, picture: tuple[int, int]) -> dict[str, str]:
    """The marker colour near each corner of the picture, centred in the rung (rgb24)."""
    width, height = picture
    left, top = (rung.width - width) // 2, (rung.height - height) // 2
    rgb = Plane(frame, rung.width, channels=3)
    found = {}
    for corner in CORNERS:
        x = left + (width * 9 // 10 if corner.endswith("right") else width // 10)
        y = top + (height * 9 // 10 if corner.startswith("bottom") else height // 10)
        red, green = (rgb.mean(x - 2, y - 2, 4, 4, channel) for channel in (0, 1))
        if red > 150 and green < 80:
            found[corner] = "red"
        else:
            found[corner] = "green" if green > 150 and red < 80 else "grey"
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("orientation", "rotation", "mirrored", "markers"),
    [
        ("hflip", 0, True, {"top_left": "green", "top_right": "red"}),
        ("vflip", 180, True, {"bottom_left": "red", "bottom_right": "green"}),
        ("rotate_90_hflip", 90, True, {"top_right": "green", "bottom_right": "red"}),
        ("rotate_90", 90, False, {"top_right": "red", "bottom_right": "green"}),
    ],
)
def test_mirrored_and_turned_pictures_are_shown_as_their_display_matrix_says(
    make_clip: MakeClip,
    tmp_path: Path,
    orientation: str,
    rotation: int,
    mirrored: bool,
    markers: dict[str, str],
) -> None:
    """A front camera's mirrored matrix (alone or with a turn) is applied, and the probe's facts
    say what it is: mirrored left to right, then turned ``rotation`` degrees clockwise."""
    source = make_clip(clips.oriented, orientation)
    facts, result = encode(source, SMALL, tmp_path)
    first = segments(result, SMALL)[0]
    save_picture(first, f"oriented-{orientation}")
    picture = (202, 360) if rotation in (90, 270) else (640, 360)
    found = corner_colours(frames(first, "rgb24"), SMALL, picture)
    assert found == {corner: markers.get(corner, "grey") for corner in CORNERS}
    assert (facts.rotation, facts.mirrored) == (rotation, mirrored)


# --- The fade before the padding ------------------------------------------------------------

FADE_SECONDS = 0.25  # of a 5-s item (half a second from 10 s on)


def audio_rms(video: Path, start: float, seconds: float) -> float:
    """RMS (full scale = 1) of the first channel of ``video`` over [start, start + seconds)."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:a:0", "-ac", "1",
         "-f", "s16le", "-acodec", "pcm_s16le", "-ar", "48000", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    first, count = round(start * 48000), round(seconds * 48000)
    samples = struct.unpack(f"<{count}h", pcm[2 * first : 2 * (first + count)])
    return math.sqrt(sum(s * s for s in samples) / count) / 32768


@pytest.mark.slow
def test_the_end_fades_to_black_and_silence_then_pads_to_whole_segments(
    make_clip: MakeClip, tmp_path: Path
) -> None:
    """A 5-s clip, white with a steady tone to its last frame: its last quarter second (a
    twentieth of it) fades to black and silence, then black and silence fill the second
    segment; every segment stays exactly 4.8 s."""
    source = make_clip(clips.bright_with_tone, 5.0)
    _, result = encode(source, SMALL, tmp_path)
    first, last = segments(result, SMALL)
    save_picture(first, "fade-first-frame")
    for segment in (first, last):
        facts = segment_facts(segment)
        assert facts.video_frames == 120 and facts.video_span == 432_000
        assert facts.audio_span == 432_000 and facts.audio_start == facts.video_start
    assert result.renditions[SMALL.name].segment_durations == (4.8, 4.8)
    whole = result.out_dir / SMALL.name / "index.m3u8"  # read as a client would, continuously
    pixels = SMALL.width * SMALL.height
    video = frames(whole, "yuv420p", count=240)  # luma as coded: black 16, white 235
    luma = [sum(video[i * pixels * 3 // 2 :][:pixels]) / pixels for i in range(240)]
    end, fade = 125, round(FADE_SECONDS * 25)  # frames: the content ends at 5 s, fades 6
    save_picture_at(whole, end - 1, "fade-last-real-frame")
    assert min(luma[: end - fade]) > 230  # white (235) up to the fade
    fading = luma[end - fade - 1 : end]
    assert all(a > b + 5 for a, b in zip(fading, fading[1:], strict=False)), fading
    assert luma[end - 1] < 16 + 0.15 * (235 - 16)  # nearly black on the last real frame
    assert max(luma[end:]) < 17  # black padding
    steady = audio_rms(whole, 4.0, 0.4)
    tail = [audio_rms(whole, 4.75 + 0.05 * i, 0.05) for i in range(5)]
    assert steady > 0.02
    assert all(a > b for a, b in zip(tail, tail[1:], strict=False)), (steady, tail)
    assert tail[-1] < steady / 4
    assert audio_rms(whole, 5.05, 4.5) < 1e-4  # silence


# --- The facts and commands behind the pictures (no encode) ---------------------------------


def parsed(**video: object) -> ProbeFacts:
    stream = {
        "index": 0, "codec_type": "video", "codec_name": "h264", "width": 1440, "height": 1080,
        "pix_fmt": "yuv420p", "avg_frame_rate": "25/1", "r_frame_rate": "25/1", **video,
    }  # fmt: skip
    data = {"streams": [stream], "format": {"format_name": "mpegts", "duration": "4.0"}}
    return parse_probe(data, demuxer="mpegts", size=1)


def display_matrix(a: int, b: int, c: int, d: int, rotation: float) -> dict[str, object]:
    """Side data as ffprobe 5.1 writes it in JSON (16.16 fixed point, no translation)."""
    one = 65536
    rows = [(a * one, b * one, 0), (c * one, d * one, 0), (0, 0, 1 << 30)]
    text = "".join(f"\n{i:08d}: {x:12d}{y:12d}{z:12d}" for i, (x, y, z) in enumerate(rows))
    side = {"side_data_type": "Display Matrix", "displaymatrix": text + "\n"}
    return {"side_data_list": [{**side, "rotation": rotation}]}


@pytest.mark.parametrize(
    ("matrix", "rotation", "mirrored"),
    [
        ((1, 0, 0, 1, 0), 0, False),
        ((0, 1, -1, 0, -90), 90, False),
        ((-1, 0, 0, -1, 180), 180, False),
        ((-1, 0, 0, 1, -180), 0, True),  # ffprobe calls a left-right mirror "rotation -180"
        ((1, 0, 0, -1, 0), 180, True),  # upside-down mirror: mirrored, then turned 180°
        ((0, -1, -1, 0, 90), 90, True),
        ((0, 1, 1, 0, -90), 270, True),
    ],
)
def test_display_matrix_is_read_as_a_mirror_then_a_clockwise_turn(
    matrix: tuple[int, int, int, int, float], rotation: int, mirrored: bool
) -> None:
    facts = parsed(**display_matrix(*matrix))
    assert (facts.rotation, facts.mirrored) == (rotation, mirrored)


def test_sample_aspect_ratio_stretches_the_displayed_width() -> None:
    hdv = parsed(sample_aspect_ratio="4:3")
    assert (hdv.display_width, hdv.display_height) == (1920, 1080)
    dv = parsed(width=720, height=576, sample_aspect_ratio="64:45")
    assert (dv.display_width, dv.display_height) == (1024, 576)
    turned = parsed(sample_aspect_ratio="4:3", **display_matrix(0, 1, -1, 0, -90))
    assert (turned.display_width, turned.display_height) == (1080, 1920)
    for unknown in ("0:1", "N/A", "1:0", "1000:1"):
        assert parsed(sample_aspect_ratio=unknown).display_width == 1440, unknown


def test_only_bt601_primaries_are_converted_once_at_the_source() -> None:
    def conversions(**colour: str) -> list[dict[str, str]]:
        facts = replace(LANDSCAPE, width=720, height=576, **colour)
        command = ladder_command(
            source=Path("/in.mp4"), demuxer="mov", facts=facts, loudness=LOUDNESS,
            spec=DEFAULT_FORMAT, out_dir=Path("/out"), poster=Path("/out/poster.jpg"),
        )  # fmt: skip
        return [f.named for f in read(command).filters if f.name == "colorspace"]

    expected = {
        "ispace": "bt470bg", "iprimaries": "bt470bg", "itrc": "bt709", "space": "bt709",
        "primaries": "bt709", "trc": "bt709", "range": "tv", "format": "yuv420p",
    }  # fmt: skip
    assert conversions(color_space="bt470bg", color_primaries="bt470bg") == [expected]
    ntsc = conversions(color_space="smpte170m", color_primaries="smpte170m")
    assert ntsc == [{**expected, "ispace": "smpte170m", "iprimaries": "smpte170m"}]
    # A BT.601 matrix without a primaries tag: the primaries that go with it.
    assert conversions(color_space="smpte170m", color_primaries="")[0]["iprimaries"] == "smpte170m"
    assert conversions(color_space="bt709", color_primaries="bt709") == []
    assert conversions(color_space="", color_primaries="") == []  # untagged: what players do


@pytest.mark.parametrize(
    ("case", "fade", "afade"),
    [
        ("vfr_one_hour_mpegts", ("89987", "12"), ("3599.5", "0.5")),  # to frame 89999
        ("landscape_stereo", ("141", "8"), ("5.7", "0.3")),  # 6 s: a twentieth, to frame 149
    ],
)
def test_fade_out_ends_with_the_content_and_lasts_half_a_second_at_most(
    case: str, fade: tuple[str, str], afade: tuple[str, str]
) -> None:
    graph = read(ladder_case(case))
    (picture,) = [f for f in graph.filters if f.name == "fade"]
    assert picture.named == {"type": "out", "start_frame": fade[0], "nb_frames": fade[1]}
    (tpad,) = [f for f in graph.filters if f.name == "tpad"]
    assert tpad.inputs == picture.outputs
    (sound,) = [f for f in graph.filters if f.name == "afade"]
    assert sound.named == {"type": "out", "start_time": afade[0], "duration": afade[1]}
    (apad,) = [f for f in graph.filters if f.name == "apad"]
    assert apad.inputs == sound.outputs
