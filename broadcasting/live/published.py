"""What the playout has already published, and the first boundary it can still change (issue 12).

The loop publishes boundary ``B`` about ``lead`` before it airs: it writes the rungs' playlists
listing ``B`` (made ahead in the round before), then makes ``B+1``..``B+ahead`` from the plan it
holds. A segment listed, or about to be (``B+1`` is kept as it was made when its turn comes),
is on the record: the as-run log is written from it. A later one is made again when the plan
changed, and the planner reads each round's plan ``PLAN_LEAD`` before the round (``LEAD +
PLAN_LEAD`` before its boundary, whenever the round itself ran: a playout just started or late
publishes ``B`` late, not its plans). So a change made now (an override an emergency alert
starts) reaches the air from ``B+2`` when the plan of round ``B+1`` is read after now, else from
``B+3``: ``first_unpublished_boundary``. Starting an
override there, rather than merely at the next boundary, keeps the override's start, the clip's
first segment and the as-run log true.

``B`` is read from the live output itself (the rungs' playlists in public storage), so it holds
whichever process publishes; without any playlist, the next boundary.
"""

import datetime as dt

from broadcasting.live.planner import PLAN_LEAD
from broadcasting.live.store import playlist_name, read_file
from broadcasting.management.commands.playout import LEAD
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


MARGIN = dt.timedelta(milliseconds=250)  # for the change to be committed before the plan is read


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


def plan_read_for(*, channel: Channel, sequence: int) -> dt.datetime:
    """When the planner reads the plan of the round that publishes ``sequence``."""
    segment_ms = channel.channel_format.segment_ms
    return segment_start(sequence, epoch=channel.epoch, segment_ms=segment_ms) - LEAD - PLAN_LEAD


def first_unpublished_boundary(*, channel: Channel, now: dt.datetime) -> dt.datetime:
    """The first boundary whose segment the playout will still make from a plan read after
    ``now`` (see the module's docstring); never one already past."""
    segment_ms = channel.channel_format.segment_ms
    upcoming = next_boundary(now, epoch=channel.epoch, segment_ms=segment_ms)
    last = last_published_sequence(channel=channel)
    if last is None:
        return upcoming
    later = now + MARGIN >= plan_read_for(channel=channel, sequence=last + 1)
    first = last + 3 if later else last + 2
    return max(upcoming, segment_start(first, epoch=channel.epoch, segment_ms=segment_ms))
