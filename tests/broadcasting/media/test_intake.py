"""Intake: size, extension and magic-byte checks before anything parses an upload."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.functional import Promise
from hypothesis import given
from hypothesis import strategies as st

from broadcasting.media import intake
from broadcasting.media.intake import (
    ALLOWED_DEMUXERS,
    MESSAGES,
    RejectionCode,
    UploadRejected,
    check_upload,
    sniff_demuxer,
)
from tests.broadcasting import clips
from tests.broadcasting.conftest import MakeClip

MiB = 1024**2
GiB = 1024**3


def _ts_packets(count: int, *, size: int = 188, offset: int = 0) -> bytes:
    packet = bytearray(size)
    packet[offset] = 0x47
    return bytes(packet) * count


# --- sniff_demuxer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "demuxer"),
    [
        (b"\0\0\0\x20ftypisom\0\0\x02\0" + b"\0" * 100, "mov"),
        (b"\0\0\0\x14ftypqt  \0\0\0\0" + b"\0" * 100, "mov"),
        (b"\0\0\0\x18ftyp3gp4\0\0\0\0" + b"\0" * 100, "mov"),
        (b"\0\0\0\x08wide\0\0\0\0mdat" + b"\0" * 100, "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"webm" + b"\0" * 100, "matroska"),
        (b"RIFF\x10\0\0\0AVI LIST" + b"\0" * 100, "avi"),
        (_ts_packets(6), "mpegts"),
        (_ts_packets(6, size=192, offset=4), "mpegts"),
        (_ts_packets(6, size=204), "mpegts"),
        (b"\x00\x00\x01\xba\x44" + b"\0" * 100, "mpeg"),
    ],
)
def test_sniff_demuxer_recognises_container_signatures(head: bytes, demuxer: str) -> None:
    assert sniff_demuxer(head) == demuxer


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        b"PK\x03\x04" + b"\0" * 100,
        b"RIFF\x10\0\0\0WAVEfmt " + b"\0" * 100,
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 100,
        b"\0\0\0\x1cftypavif\0\0\0\0avifmif1" + b"\0" * 100,
        b"\x47" + b"\0" * 1000,  # one sync byte is not a transport stream
        _ts_packets(3),  # too short to be sure
        b"\x00\x00\x01\xb3" + b"\0" * 100,  # an MPEG video elementary stream, no container
        b"%PDF-1.7\n",
        b"<html><body>hello</body></html>",
    ],
)
def test_sniff_demuxer_rejects_what_is_not_an_allowed_container(head: bytes) -> None:
    with pytest.raises(UploadRejected) as rejected:
        sniff_demuxer(head)
    assert rejected.value.code == "not_a_video"


@pytest.mark.parametrize(
    "head",
    [
        b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",
        b"\xef\xbb\xbf#EXTM3U\n",  # behind a byte-order mark
        b"RIFF\x10\0\0\0AVI LIST#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n",
        b"\0\0\0\x20ftypisom" + b"\0" * 500 + b"#EXT-X-TARGETDURATION:4\n",
        b"ffconcat version 1.0\nfile '/etc/passwd'\n",
        _ts_packets(6) + b"#EXTM3U",
    ],
)
def test_sniff_demuxer_rejects_playlists_even_behind_a_video_signature(head: bytes) -> None:
    with pytest.raises(UploadRejected) as rejected:
        sniff_demuxer(head)
    assert rejected.value.code == "playlist"


@given(st.binary(max_size=2048))
def test_sniff_demuxer_only_ever_returns_an_allowed_demuxer(head: bytes) -> None:
    try:
        demuxer = sniff_demuxer(head)
    except UploadRejected as rejected:
        assert rejected.code in {"not_a_video", "playlist"}
    else:
        assert demuxer in ALLOWED_DEMUXERS


def test_allowed_demuxers_exclude_every_playlist_and_device_format() -> None:
    forbidden = {"hls", "applehttp", "concat", "image2", "png_pipe", "lavfi", "tty", "data"}
    assert not forbidden & ALLOWED_DEMUXERS


# --- check_upload on real files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("generator", "args", "demuxer"),
    [
        (clips.landscape_1080p, (), "mov"),
        (clips.portrait_rotated, (), "mov"),
        (clips.hlg_10bit, (), "mov"),
        (clips.surround_51, (), "matroska"),
        (clips.small_in_container, ("webm",), "matroska"),
        (clips.small_in_container, ("avi",), "avi"),
        (clips.small_in_container, ("mpegts",), "mpegts"),
        (clips.small_in_container, ("m2ts",), "mpegts"),
        (clips.small_in_container, ("mpeg",), "mpeg"),
    ],
)
def test_check_upload_accepts_real_videos_with_the_demuxer_of_their_bytes(
    make_clip: MakeClip, generator: Callable[..., Path], args: tuple[str, ...], demuxer: str
) -> None:
    path = make_clip(generator, *args)
    assert check_upload(path, original_name=path.name, max_bytes=GiB) == demuxer


@pytest.mark.parametrize("name", ["cassette.m2t", "CASSETTE.M2T"])
def test_an_hdv_transport_stream_named_m2t_is_read_with_the_ts_demuxer(
    make_clip: MakeClip, name: str
) -> None:
    """HDV cameras and capture tools name their MPEG-2 transport streams ``.m2t``."""
    path = make_clip(clips.anamorphic, "hdv")  # MPEG-2 1440x1080 in MPEG-TS, as HDV records
    assert check_upload(path, original_name=name, max_bytes=GiB) == "mpegts"


def test_an_m2t_name_does_not_choose_the_demuxer(make_clip: MakeClip) -> None:
    path = make_clip(clips.small_in_container, "mpeg")  # a program stream, not a TS
    assert check_upload(path, original_name="cassette.m2t", max_bytes=GiB) == "mpeg"


def test_check_upload_trusts_bytes_not_the_name(make_clip: MakeClip) -> None:
    path = make_clip(clips.surround_51)  # Matroska
    assert check_upload(path, original_name="holiday.MP4", max_bytes=GiB) == "matroska"


@pytest.mark.parametrize(
    ("generator", "code"),
    [
        (clips.zero_bytes, "empty"),
        (clips.png_renamed, "not_a_video"),
        (clips.zip_archive, "not_a_video"),
    ],
)
def test_check_upload_rejects_files_that_are_not_videos(
    make_clip: MakeClip, generator: Callable[..., Path], code: str
) -> None:
    path = make_clip(generator)
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name=path.name, max_bytes=GiB)
    assert rejected.value.code == code


@pytest.mark.parametrize(
    "generator",
    [
        clips.hls_playlist_disguised_as_avi,
        clips.avi_header_with_playlist_body,
        clips.avi_with_playlist_beyond_head,
        clips.ffconcat_disguised_as_mp4,
    ],
)
def test_check_upload_rejects_playlists_disguised_as_videos(
    make_clip: MakeClip, secret: tuple[Path, str], generator: Callable[..., Path]
) -> None:
    path = make_clip(generator, secret[0])
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name=path.name, max_bytes=GiB)
    assert rejected.value.code == "playlist"
    assert secret[1] not in str(rejected.value)


def test_playlist_past_the_head_of_an_avi_is_found(
    make_clip: MakeClip, secret: tuple[Path, str]
) -> None:
    path = make_clip(clips.avi_with_playlist_beyond_head, secret[0])
    head = path.read_bytes()[: intake.HEAD_BYTES]
    assert sniff_demuxer(head) == "avi"  # the head alone looks innocent
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name=path.name, max_bytes=GiB)
    assert rejected.value.code == "playlist"


def test_playlist_marker_across_two_scan_chunks_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake, "SCAN_CHUNK_BYTES", 4096)
    header = b"RIFF\0\0\0\0AVI LIST"
    path = tmp_path / "split.avi"
    # "#EXTM3U" starts 3 bytes before the end of the second chunk.
    path.write_bytes(header + b"\0" * (2 * 4096 - 3 - len(header)) + b"#EXTM3U\n" + b"\0" * 99)
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name="split.avi", max_bytes=MiB)
    assert rejected.value.code == "playlist"


def test_deep_scan_leaves_a_clean_avi_alone(make_clip: MakeClip) -> None:
    path = make_clip(clips.small_in_container, "avi")
    assert check_upload(path, original_name="clip.avi", max_bytes=GiB) == "avi"


def test_check_upload_enforces_the_size_limit_at_its_boundary(make_clip: MakeClip) -> None:
    path = make_clip(clips.one_second)
    size = path.stat().st_size
    assert check_upload(path, original_name=path.name, max_bytes=size) == "mov"
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name=path.name, max_bytes=size - 1)
    assert rejected.value.code == "too_large"


@pytest.mark.parametrize(
    "name", ["clip.exe", "clip", "clip.mp4.exe", "clip.m3u8", "clip.png", ".mp4x", "clip.mp4 "]
)
def test_check_upload_rejects_names_without_an_allowed_extension(
    make_clip: MakeClip, name: str
) -> None:
    path = make_clip(clips.one_second)
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name=name, max_bytes=GiB)
    assert rejected.value.code == "extension"


@pytest.mark.parametrize("name", ["CLIP.MP4", "a.b.mov", "C:\\Users\\me\\clip.mkv", "x.MTS"])
def test_check_upload_accepts_allowed_extensions_in_any_case(
    make_clip: MakeClip, name: str
) -> None:
    path = make_clip(clips.one_second)
    assert check_upload(path, original_name=name, max_bytes=GiB) == "mov"


def test_size_is_checked_before_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"")
    with pytest.raises(UploadRejected) as rejected:
        check_upload(path, original_name="x.exe", max_bytes=GiB)
    assert rejected.value.code == "empty"


# --- UploadRejected -----------------------------------------------------------------------


def test_every_rejection_code_has_a_lazy_message() -> None:
    assert set(MESSAGES) == set(RejectionCode)
    for code in RejectionCode:
        message = UploadRejected(code).message
        assert isinstance(message, Promise)
        with translation.override("en"):
            assert str(message).strip()


def test_rejection_keeps_diagnostics_out_of_the_message() -> None:
    rejected = UploadRejected("unreadable", detail="moov atom not found")
    assert rejected.code == RejectionCode.UNREADABLE == "unreadable"
    assert rejected.detail == "moov atom not found"
    assert "moov" in str(rejected)
    with translation.override("en"):
        assert "moov" not in str(rejected.message)


def test_unknown_rejection_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        UploadRejected("nonsense")
