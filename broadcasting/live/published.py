"""What the playout has already published, and the first boundary it can still change (issue 12).

The loop publishes boundary ``B`` ``PUBLISH_LEAD`` before it airs: it writes the rungs'
playlists listing ``B`` and then makes ``B+1``..``B+ahead`` from the plan it holds. A segment
listed is on the record (the as-run log is written from it) and never made again; ``B`` itself,
made ahead in the round before, is made again in its round when its plan changed meanwhile. An
override started or ended announces itself (``broadcasting.live.notices``) and the planner reads
that channel's plan at once, so a change committed ``MARGIN`` before the round of ``B`` airs
at ``B``: ``first_unpublished_boundary``. Starting an override there, rather than merely at the
next boundary, keeps the override's start, the clip's first segment and the as-run log true.
(Without the notice, when Redis is away, the change airs from the planner's next reading: a
round later; the as-run log still says what aired.)

``B`` is read from the live output itself (the rungs' playlists in public storage), so it holds
whichever process publishes; without any playlist, the next boundary.
"""

import datetime as dt

from broadcasting.live.planner import PUBLISH_LEAD
from broadcasting.live.store import playlist_name, read_file
from broadcasting.media.grid import next_boundary, segment_start
from broadcasting.media.storage import public_storage
from playlists.models import Channel


def last_listed_sequence(text: str) -> int | None:
    """The sequence of the last segment a media playlist lists (pure); ``None`` for none."""
    first: int | None = None
    count = 0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            first = int(line.split(":", 1)[1])
        elif line and not line.startswith("#"):
            count += 1
    if first is None or count == 0:
        return None
    return first + count - 1


# For the notice to reach the planner and the plan to be read before the round.
MARGIN = dt.timedelta(milliseconds=300)


def last_published_sequence(*, channel: Channel) -> int | None:
    """The last segment any of the channel's rung playlists lists (``None``: none published)."""
    storage = public_storage()
    found = []
    for rung in channel.channel_format.to_spec().rungs:
        raw = read_file(storage, playlist_name(channel.slug, rung.name))
        sequence = last_listed_sequence(raw.decode(errors="replace")) if raw else None
        if sequence is not None:
            found.append(sequence)
    return max(found, default=None)


def round_of(*, channel: Channel, sequence: int) -> dt.datetime:
    """When the loop's round lists ``sequence`` (``PUBLISH_LEAD`` before it airs)."""
    segment_ms = channel.channel_format.segment_ms
    return segment_start(sequence, epoch=channel.epoch, segment_ms=segment_ms) - PUBLISH_LEAD


def first_unpublished_boundary(*, channel: Channel, now: dt.datetime) -> dt.datetime:
    """The first boundary whose segment the playout will still make from a plan read after
    ``now`` (see the module's docstring); never one already past."""
    segment_ms = channel.channel_format.segment_ms
    upcoming = next_boundary(now, epoch=channel.epoch, segment_ms=segment_ms)
    last = last_published_sequence(channel=channel)
    if last is None:
        return upcoming
    sooner = now + MARGIN < round_of(channel=channel, sequence=last + 1)
    first = last + 1 if sooner else last + 2
    return max(upcoming, segment_start(first, epoch=channel.epoch, segment_ms=segment_ms))
