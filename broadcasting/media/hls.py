"""HLS renditions of an asset: measuring what was written, and the master playlist.

ffmpeg 5.1's own master playlist lacks ``AVERAGE-BANDWIDTH`` and ``FRAME-RATE``, and its
``BANDWIDTH`` is the nominal bitrate. We measure each rendition's segments instead: the peak
(``BANDWIDTH``) is the largest segment's bits over its duration, the average is all bits over
all the duration, container overhead included, as the HLS specification asks.
"""

from dataclasses import dataclass
from pathlib import Path

from broadcasting.media.formats import FormatSpec, Rung

PLAYLIST_NAME = "index.m3u8"
AAC_LC_CODEC = "mp4a.40.2"

# profile_idc and the constraint flags byte x264 writes for each profile.
_AVC_PROFILES = {
    "baseline": (66, 0xC0),
    "main": (77, 0x40),
    "high": (100, 0x00),
}


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float  # seconds, from #EXTINF
    size: int  # bytes


@dataclass(frozen=True)
class RenditionFacts:
    """One rung as written: its segments and the bandwidth figures of the master playlist."""

    rung: str
    width: int
    height: int
    playlist: Path
    segments: tuple[Segment, ...]
    peak_bandwidth: int  # bits per second
    average_bandwidth: int
    codecs: str

    @property
    def segment_count(self) -> int:
        return len(self.segments)

    @property
    def segment_durations(self) -> tuple[float, ...]:
        return tuple(segment.duration for segment in self.segments)

    @property
    def duration(self) -> float:
        return sum(self.segment_durations)


def avc_codec(profile: str, level: str) -> str:
    """RFC 6381 name of an H.264 stream: ``avc1.PPCCLL`` (profile, constraints, level)."""
    profile_idc, constraints = _AVC_PROFILES[profile]
    level_idc = round(float(level) * 10)
    return f"avc1.{profile_idc:02x}{constraints:02x}{level_idc:02x}"


def codecs_for(rung: Rung) -> str:
    return f"{avc_codec(rung.profile, rung.level)},{AAC_LC_CODEC}"


def parse_media_playlist(text: str) -> list[tuple[str, float]]:
    """``(uri, duration)`` of every segment of a media playlist, in order."""
    entries: list[tuple[str, float]] = []
    duration: float | None = None
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            entries.append((line, duration))
            duration = None
    return entries


def measure_rendition(directory: Path, *, rung: Rung) -> RenditionFacts:
    """Measure the rendition written in ``directory`` (``index.m3u8`` and its segments)."""
    playlist = directory / PLAYLIST_NAME
    segments = tuple(
        Segment(uri=uri, duration=duration, size=(directory / uri).stat().st_size)
        for uri, duration in parse_media_playlist(playlist.read_text())
    )
    if not segments:
        raise ValueError(f"no segment in {playlist}")
    total_bits = 8 * sum(segment.size for segment in segments)
    total_seconds = sum(segment.duration for segment in segments)
    return RenditionFacts(
        rung=rung.name,
        width=rung.width,
        height=rung.height,
        playlist=playlist,
        segments=segments,
        peak_bandwidth=max(round(8 * s.size / s.duration) for s in segments),
        average_bandwidth=round(total_bits / total_seconds),
        codecs=codecs_for(rung),
    )


def master_playlist(entries: list[tuple[Rung, RenditionFacts, str]], *, spec: FormatSpec) -> str:
    """The master playlist: one variant per rung, highest bandwidth first, relative URIs."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    ordered = sorted(
        entries,
        key=lambda entry: (entry[0].width * entry[0].height, entry[1].peak_bandwidth),
        reverse=True,
    )
    for rung, facts, uri in ordered:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={facts.peak_bandwidth},"
            f"AVERAGE-BANDWIDTH={facts.average_bandwidth},"
            f'RESOLUTION={rung.width}x{rung.height},CODECS="{facts.codecs}",'
            f"FRAME-RATE={spec.fps:.3f}"
        )
        lines.append(uri)
    return "\n".join(lines) + "\n"
