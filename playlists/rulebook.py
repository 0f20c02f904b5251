"""From the editors' rows to the timeline builder's values (``playlists.rules``).

Only approved, transcoded assets enter the library; everything else is invisible to the
builder, so nothing airs that nobody approved.
"""

import datetime as dt
from collections.abc import Iterable

from broadcasting.media.selectors import assets_schedulable
from broadcasting.models import Asset
from playlists import rules
from playlists.models import Block, CardSlot, Channel, Event, FillerSet, Rotation


def library_for(*, channel: Channel) -> list[rules.LibraryAsset]:
    """The schedulable assets of the channel's format, with their padded durations."""
    segment_ms = channel.channel_format.segment_ms
    assets = assets_schedulable().filter(channel_format=channel.channel_format)
    fields = ("id", "title", "kind", "category", "origin", "created_at", "segment_count")
    return [
        rules.LibraryAsset(
            id=row["id"],
            title=row["title"],
            duration_ms=row["segment_count"] * segment_ms,
            kind=row["kind"],
            category=row["category"],
            origin=row["origin"],
            created_at=row["created_at"],
        )
        for row in assets.filter(segment_count__gt=0).values(*fields)
    ]


def channel_rules(*, channel: Channel) -> rules.ChannelRules:
    """Everything that programmes the channel, as frozen values."""
    blocks = (
        Block.objects.filter(channel=channel)
        .select_related("rotation", "playlist", "fillers")
        .prefetch_related("playlist__items", *_filler_prefetches("fillers__"))
    )
    events = Event.objects.filter(channel=channel).prefetch_related("items")
    return rules.ChannelRules(
        channel_id=channel.pk,
        tz=channel.time_zone,
        epoch=channel.epoch,
        slate_id=channel.slate_id,
        blocks=tuple(block_rule(block) for block in blocks),
        events=tuple(event_rule(event) for event in events),
        default_fillers=filler_policy(channel.default_fillers),
        segment_ms=channel.channel_format.segment_ms,
    )


def _filler_prefetches(prefix: str) -> list[str]:
    names = ("idents", "prerolls", "postrolls", "interstitials", "card_slots")
    return [f"{prefix}{name}" for name in names]


def block_rule(block: Block) -> rules.Block:
    content: rules.RotationRule | rules.PlaylistRule
    if block.rotation is not None:
        content = rotation_rule(block.rotation)
    else:
        items = block.playlist.items.all() if block.playlist is not None else []
        content = rules.PlaylistRule(asset_ids=tuple(item.asset_id for item in items))
    return rules.Block(
        id=block.pk,
        name=block.name,
        day_types=block.day_types,
        start=block.start,
        end=block.end,
        priority=block.priority,
        content=content,
        fillers=filler_policy(block.fillers) if block.fillers is not None else None,
    )


def rotation_rule(rotation: Rotation) -> rules.RotationRule:
    return rules.RotationRule(
        categories=frozenset(rotation.categories or ()),
        kinds=frozenset(rotation.kinds or ("programme",)),
        origins=frozenset(rotation.origins or ()),
        weights=tuple((str(k), float(v)) for k, v in (rotation.weights or {}).items()),
        no_repeat_hours=rotation.no_repeat_hours,
        max_plays_per_day=rotation.max_plays_per_day,
        fresh_boost_days=rotation.fresh_boost_days,
        fresh_boost=max(1.0, rotation.fresh_boost),
    )


def filler_policy(filler_set: FillerSet | None) -> rules.FillerPolicy:
    if filler_set is None:
        return rules.FillerPolicy()
    return rules.FillerPolicy(
        ident_ids=_ids(filler_set.idents.all()),
        preroll_ids=_ids(filler_set.prerolls.all()),
        postroll_ids=_ids(filler_set.postrolls.all()),
        interstitial_ids=_ids(filler_set.interstitials.all()),
        card_slots=tuple(card_slot_rule(slot) for slot in filler_set.card_slots.all()),
        ident_every_n_items=filler_set.ident_every_n_items,
    )


def card_slot_rule(slot: CardSlot) -> rules.CardSlotRule:
    return rules.CardSlotRule(
        category=slot.category,
        length_ms=round(slot.length_seconds * 1000),
        every_n_items=slot.every_n_items,
    )


def event_rule(event: Event) -> rules.Event:
    return rules.Event(
        id=event.pk,
        title=event.title,
        dtstart_local=dt.datetime.combine(event.start_date, event.start_time),
        rrule=event.rrule or None,
        asset_ids=tuple(item.asset_id for item in event.items.all()),
        hard=event.hard,
    )


def _ids(assets: Iterable[Asset]) -> tuple[int, ...]:
    return tuple(sorted(asset.pk for asset in assets))
