"""Probing an upload with ffprobe, restricted to local files and an allow-listed demuxer.

(The parsing and limit checks are written by the media-intake work; the ``ProbeFacts`` shape
below is the contract the encoder and the models rely on.)
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProbeFacts:
    """What we know of a source file after probing it."""

    container: str  # the demuxer used, from the allow-list (e.g. "mov", "matroska")
    format_name: str  # ffprobe's format_name
    duration: float  # seconds
    size: int  # bytes
    video_codec: str
    width: int  # coded width, before rotation
    height: int  # coded height, before rotation
    rotation: int  # degrees, clockwise display rotation: 0, 90, 180 or 270
    frame_rate: float  # average frame rate
    variable_frame_rate: bool
    pix_fmt: str
    bit_depth: int
    color_space: str  # "" when unknown
    color_transfer: str
    color_primaries: str
    audio_codec: str  # "" when there is no audio
    audio_channels: int  # 0 when there is no audio
    audio_layout: str
    audio_rate: int
    video_streams: int = 1
    audio_streams: int = 0
    subtitle_streams: int = 0
    other_streams: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def has_audio(self) -> bool:
        return self.audio_channels > 0

    @property
    def is_hdr(self) -> bool:
        return self.color_transfer in {"arib-std-b67", "smpte2084"}

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height
