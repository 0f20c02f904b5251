"""First checks on an uploaded file, before any parser touches it.

Uploads are hostile (DESIGN.md, decision 7). An upload is accepted for probing only when its
size is within bounds, its original name has an allowed extension and its first bytes are the
signature of a container we allow. The container found here is the demuxer that ffprobe and
ffmpeg are then forced to use: nothing is left to ffmpeg's own format detection, which would
happily open an HLS playlist or a concat script named ``.avi`` and read local files.
"""

import enum
import logging
from collections.abc import Iterator
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
SCAN_CHUNK_BYTES = 1024 * 1024

# The names a video comes under (the demuxer is chosen from the bytes, never from the name):
# "m2t" is HDV's MPEG-2 transport stream, "mts"/"m2ts" AVCHD's.
ALLOWED_EXTENSIONS = frozenset(
    {"mp4", "m4v", "mov", "qt", "3gp", "3g2", "mkv", "webm", "avi", "ts", "m2t", "mts", "m2ts",
     "mpg", "mpeg", "vob"}
)  # fmt: skip
# The only demuxers ever passed to ``-f``; "matroska" also reads WebM.
ALLOWED_DEMUXERS = frozenset({"mov", "matroska", "avi", "mpegts", "mpeg"})
# Containers that can embed other files ffmpeg would parse (AVI's GAB2 subtitles): the whole
# file is scanned for playlist markers, not just its head.
DEEP_SCANNED_DEMUXERS = frozenset({"avi"})

PLAYLIST_MARKERS = (b"#EXTM3U", b"#EXT-X-", b"ffconcat")
QUICKTIME_ATOMS = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"})
# ISO-BMFF brands of still images (HEIF, AVIF): ``ftyp`` but not a video.
IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif"})
TS_PACKETS_CHECKED = 5
TS_LAYOUTS = ((188, 0), (192, 4), (204, 0))  # (packet size, offset of the sync byte)


class RejectionCode(enum.StrEnum):
    """Why an upload was refused; compares equal to its plain string value."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    EXTENSION = "extension"
    NOT_A_VIDEO = "not_a_video"
    PLAYLIST = "playlist"
    UNREADABLE = "unreadable"
    TOO_LONG = "too_long"
    TOO_BIG_FRAME = "too_big_frame"
    TOO_MANY_STREAMS = "too_many_streams"
    NO_VIDEO = "no_video"


MESSAGES: dict[RejectionCode, Promise] = {
    RejectionCode.EMPTY: _("The file is empty."),
    RejectionCode.TOO_LARGE: _("The file is larger than the maximum size allowed."),
    RejectionCode.EXTENSION: _(
        "This type of file is not accepted. Send a video file (MP4, MOV, MKV, WebM, AVI, "
        "MPEG-TS or MPEG)."
    ),
    RejectionCode.NOT_A_VIDEO: _("This file is not a video in a format we accept."),
    RejectionCode.PLAYLIST: _("This file is a playlist, not a video. Send the video itself."),
    RejectionCode.UNREADABLE: _("This video cannot be read: it may be damaged or incomplete."),
    RejectionCode.TOO_LONG: _("This video is longer than the maximum duration allowed."),
    RejectionCode.TOO_BIG_FRAME: _("The picture of this video is larger than the size allowed."),
    RejectionCode.TOO_MANY_STREAMS: _("This video has too many tracks."),
    RejectionCode.NO_VIDEO: _("This file has no video track."),
}


class UploadRejected(Exception):
    """An upload that will not be processed: bad content, final, never retried.

    ``code`` is a short machine code, ``message`` a lazy translated text for residents and
    editors, ``detail`` technical diagnostics (an ffprobe stderr tail) for the logs only.
    """

    def __init__(self, code: str, *, detail: str = "") -> None:
        self.code = RejectionCode(code)
        self.detail = detail
        super().__init__(f"{self.code}: {detail}" if detail else str(self.code))

    @property
    def message(self) -> Promise:
        return MESSAGES[self.code]


def check_upload(path: Path, *, original_name: str, max_bytes: int) -> str:
    """Check an upload before any parsing; return the demuxer to force, or raise."""
    size = path.stat().st_size
    if size == 0:
        raise UploadRejected(RejectionCode.EMPTY)
    if size > max_bytes:
        raise UploadRejected(RejectionCode.TOO_LARGE, detail=f"{size} > {max_bytes} bytes")
    if extension_of(original_name) not in ALLOWED_EXTENSIONS:
        raise UploadRejected(RejectionCode.EXTENSION, detail=repr(original_name[-64:]))
    with path.open("rb") as source:
        demuxer = sniff_demuxer(source.read(HEAD_BYTES))
    if demuxer in DEEP_SCANNED_DEMUXERS and _contains_playlist(path, limit=max_bytes):
        raise UploadRejected(RejectionCode.PLAYLIST, detail="playlist marker past the head")
    logger.info("upload accepted for probing demuxer=%s size=%s", demuxer, size)
    return demuxer


def extension_of(name: str) -> str:
    """The lower-case extension of a file name, without the dot ("" when there is none)."""
    suffix = Path(name.replace("\\", "/")).suffix
    return suffix[1:].lower()


def sniff_demuxer(head: bytes) -> str:
    """Choose the ffmpeg demuxer from the magic bytes of a file's first bytes, or raise."""
    if _has_playlist_marker(head):
        raise UploadRejected(RejectionCode.PLAYLIST, detail="playlist marker in the head")
    for demuxer, matches in _SIGNATURES:
        if matches(head):
            return demuxer
    raise UploadRejected(RejectionCode.NOT_A_VIDEO, detail=f"head {head[:16].hex()}")


def _has_playlist_marker(data: bytes) -> bool:
    return any(marker in data for marker in PLAYLIST_MARKERS)


def _is_iso_bmff(head: bytes) -> bool:
    if head[4:8] == b"ftyp":
        return head[8:12] not in IMAGE_BRANDS
    return head[4:8] in QUICKTIME_ATOMS


def _is_matroska(head: bytes) -> bool:
    return head.startswith(b"\x1a\x45\xdf\xa3")


def _is_avi(head: bytes) -> bool:
    return head.startswith(b"RIFF") and head[8:12] == b"AVI "


def _is_mpeg_ts(head: bytes) -> bool:
    return any(
        len(head) >= size * TS_PACKETS_CHECKED
        and all(head[offset + i * size] == 0x47 for i in range(TS_PACKETS_CHECKED))
        for size, offset in TS_LAYOUTS
    )


def _is_mpeg_ps(head: bytes) -> bool:
    return head.startswith(b"\x00\x00\x01\xba")


_SIGNATURES = (
    ("mov", _is_iso_bmff),
    ("matroska", _is_matroska),
    ("avi", _is_avi),
    ("mpeg", _is_mpeg_ps),
    ("mpegts", _is_mpeg_ts),
)


def _contains_playlist(path: Path, *, limit: int) -> bool:
    """Stream through at most ``limit`` bytes of the file looking for playlist markers."""
    return any(_has_playlist_marker(window) for window in _windows(path, limit=limit))


def _windows(path: Path, *, limit: int) -> Iterator[bytes]:
    """Successive chunks overlapping by enough bytes that no marker falls between two."""
    overlap = max(map(len, PLAYLIST_MARKERS)) - 1
    tail = b""
    read = 0
    with path.open("rb") as source:
        while read < limit and (chunk := source.read(min(SCAN_CHUNK_BYTES, limit - read))):
            read += len(chunk)
            yield tail + chunk
            tail = chunk[-overlap:]
