"""The channel format as a pure value: what every asset is encoded into.

Every asset of a channel is encoded with the same parameters per rung so that any two assets
play back to back (same SPS/PPS per rung), and every segment lasts exactly ``segment_ms``:
two closed GOPs of 2.4 s, i.e. 120 video frames at 25 fps and 225 AAC frames at 48 kHz.
The ``ChannelFormat`` model stores these values; ``ChannelFormat.to_spec()`` returns this.
"""

from dataclasses import dataclass, field
from fractions import Fraction

AAC_FRAME_SAMPLES = 1024
# "ultrafast" turns CABAC off: x264 would then write a Constrained Baseline SPS under a "main"
# or "high" rung, and the CODECS string of the master playlist would lie.
FORBIDDEN_PRESETS = frozenset({"ultrafast"})


@dataclass(frozen=True)
class Rung:
    """One rendition of the ladder, encoded with fixed x264 settings.

    ``preset`` is this rung's x264 preset; empty means the format's ``x264_preset``. Rungs are
    stored as JSON (``dataclasses.asdict``), so rows written before the field existed still load.
    """

    name: str
    width: int
    height: int
    video_bitrate: int  # bits per second
    maxrate: int
    bufsize: int
    profile: str
    level: str
    preset: str = ""

    def __post_init__(self) -> None:
        if self.preset in FORBIDDEN_PRESETS:
            raise ValueError(f"x264 preset {self.preset!r} is not allowed for rung {self.name}")


DEFAULT_RUNGS: tuple[Rung, ...] = (
    Rung("1080p", 1920, 1080, 5_000_000, 5_500_000, 10_000_000, "high", "4.0", "superfast"),
    Rung("720p", 1280, 720, 2_800_000, 3_080_000, 5_600_000, "high", "3.1", "superfast"),
    Rung("480p", 854, 480, 1_400_000, 1_540_000, 2_800_000, "main", "3.0", "superfast"),
    Rung("360p", 640, 360, 800_000, 880_000, 1_600_000, "main", "3.0", "superfast"),
)


@dataclass(frozen=True)
class FormatSpec:
    """Everything the encoder needs to produce the channel's format."""

    fps: int = 25
    segment_ms: int = 4800
    gop_ms: int = 2400
    audio_rate: int = 48_000
    audio_channels: int = 2
    audio_bitrate: int = 128_000
    loudness_lufs: float = -23.0
    true_peak_dbtp: float = -1.0
    loudness_range_lu: float = 18.0
    x264_preset: str = "veryfast"  # for rungs that name no preset of their own
    rungs: tuple[Rung, ...] = field(default=DEFAULT_RUNGS)

    def preset_for(self, rung: Rung) -> str:
        """The x264 preset ``rung`` is encoded with: its own, else the format's."""
        return rung.preset or self.x264_preset

    @property
    def segment_seconds(self) -> Fraction:
        return Fraction(self.segment_ms, 1000)

    @property
    def frames_per_segment(self) -> int:
        frames = Fraction(self.segment_ms * self.fps, 1000)
        if frames.denominator != 1:
            raise ValueError("a segment must hold a whole number of video frames")
        return int(frames)

    @property
    def frames_per_gop(self) -> int:
        frames = Fraction(self.gop_ms * self.fps, 1000)
        if frames.denominator != 1 or self.segment_ms % self.gop_ms:
            raise ValueError("a segment must hold a whole number of whole GOPs")
        return int(frames)

    @property
    def samples_per_segment(self) -> int:
        samples = Fraction(self.segment_ms * self.audio_rate, 1000)
        if samples.denominator != 1 or samples % AAC_FRAME_SAMPLES:
            raise ValueError("a segment must hold a whole number of AAC frames")
        return int(samples)

    def segments_for(self, duration_seconds: float) -> int:
        """How many whole segments an item of this duration takes once padded (at least one)."""
        segment = self.segment_seconds
        count = -(-Fraction(duration_seconds).limit_denominator(1_000_000) // segment)
        return max(1, int(count))

    def padded_seconds(self, duration_seconds: float) -> Fraction:
        return self.segments_for(duration_seconds) * self.segment_seconds


DEFAULT_FORMAT = FormatSpec()
