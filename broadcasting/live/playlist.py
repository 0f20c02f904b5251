"""The live channel's HLS playlists as pure functions of the clock (DESIGN.md, decision 2).

Sequences and instants come from the channel's grid (``broadcasting.media.grid``): the media
sequence at instant ``t`` is ``floor((t - epoch) / segment)`` and never resets; segment ``n``
starts at ``epoch + n * segment``, which is its ``EXT-X-PROGRAM-DATE-TIME``. No Django, no I/O.
"""

import datetime as dt
from collections.abc import Sequence

from broadcasting.media.formats import FormatSpec
from broadcasting.media.grid import segment_start
from broadcasting.media.hls import codecs_for

DEFAULT_TARGET_DURATION = 5  # seconds: ceil(4.8)


def program_date_time(instant: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as ``EXT-X-PROGRAM-DATE-TIME`` wants it."""
    return instant.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def media_playlist(
    *,
    first_sequence: int,
    segment_uris: Sequence[str],
    epoch: dt.datetime,
    segment_ms: int,
    target_duration: int = DEFAULT_TARGET_DURATION,
) -> str:
    """A live media playlist (no ENDLIST, no DISCONTINUITY): the window from ``first_sequence``."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{first_sequence}",
    ]
    duration = segment_ms / 1000
    for index, uri in enumerate(segment_uris):
        start = segment_start(first_sequence + index, epoch=epoch, segment_ms=segment_ms)
        lines += [
            f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(start)}",
            f"#EXTINF:{duration:.3f},",
            uri,
        ]
    return "\n".join(lines) + "\n"


def master_playlist(*, spec: FormatSpec, uri_for: dict[str, str] | None = None) -> str:
    """The live master playlist: one variant per rung of the format, highest first.

    ``BANDWIDTH`` is the rung's video ``maxrate`` plus the audio bitrate (the encoder's caps, since
    live segments are not measured); ``uri_for`` maps a rung name to its media playlist URI
    (default ``<rung>/index.m3u8``, relative to the master).
    """
    uri_for = uri_for or {}
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung in sorted(spec.rungs, key=lambda r: (r.width * r.height, r.maxrate), reverse=True):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rung.maxrate + spec.audio_bitrate},"
            f"RESOLUTION={rung.width}x{rung.height},"
            f'CODECS="{codecs_for(rung)}",FRAME-RATE={spec.fps:.3f}'
        )
        lines.append(uri_for.get(rung.name, f"{rung.name}/index.m3u8"))
    return "\n".join(lines) + "\n"
