"""The plan the playout holds: what a channel airs over the next minutes, read from the database
ahead of time so that publishing needs no database (issue 10).

A ``ChannelPlan`` is a snapshot: the channel (with its format), the timeline items overlapping its
span with their assets and renditions, the overrides active in it with their clips, the slate to
air (``slate_for_air``), the freshest information card of each card slot's category
(``broadcasting.media.selectors.card_freshest``: cards are videos the city feeds make; the
playout never imports them) and the ident that card slots air when no card is fresh
(``card_stand_in``). ``plan_resolve`` reads it in a handful of queries; nothing in it touches the
database afterwards. The playout loop refreshes each channel's plan shortly before each of its
boundaries (``broadcasting.live.planner``) and, when the database does not answer, publishes
from the plan it holds: a database outage shorter than the plan's horizon costs nothing on air.
Past the plan's end nothing is known: the slate airs (never dead air) until a new plan comes.
"""

import bisect
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects

from broadcasting.live.overrides import (
    OverrideWindow,
    override_choice,
    overrides_between,
    window_of,
)
from broadcasting.live.slate import slate_for_air
from broadcasting.media.grid import segment_index, segment_start
from broadcasting.media.selectors import card_freshest
from broadcasting.models import Asset, Override
from playlists.models import Channel, ScheduledItem
from playlists.selectors import scheduled_items


@dataclass(frozen=True)
class ChannelPlan:
    """What ``channel`` airs during ``[start, end)``, as known when it was resolved."""

    channel: Channel
    start: dt.datetime
    end: dt.datetime
    items: tuple[ScheduledItem, ...]  # overlapping [start, end), in order
    overrides: tuple[Override, ...]  # active at some instant of [start, end)
    slate: Asset | None  # what airs when nothing else can
    ident: Asset | None  # what card slots air when no card of their category is fresh
    cards: dict[str, Asset] = field(default_factory=dict)  # the freshest card per category
    windows: tuple[OverrideWindow, ...] = field(init=False, compare=False)
    _starts: tuple[dt.datetime, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        spec = self.channel.channel_format
        windows = tuple(
            window_of(o, segment_ms=spec.segment_ms, epoch=self.channel.epoch)
            for o in self.overrides
        )
        object.__setattr__(self, "windows", windows)
        object.__setattr__(self, "_starts", tuple(item.start for item in self.items))

    @property
    def segment_ms(self) -> int:
        return int(self.channel.channel_format.segment_ms)

    def covers(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end

    def item_at(self, at: dt.datetime) -> ScheduledItem | None:
        """The item airing at ``at``; ``None`` when nothing is planned or ``at`` is outside the
        plan (unknown: the slate airs)."""
        if not self.covers(at):
            return None
        position = bisect.bisect_right(self._starts, at) - 1
        if position < 0:
            return None
        item = self.items[position]
        return item if item.end > at else None

    def card_for(self, item: ScheduledItem, *, at: dt.datetime) -> Asset | None:
        """What card slot ``item`` airs at ``at``: the freshest card of its category while its
        data are true, else the channel's ident."""
        card = self.cards.get(item.card_category)
        if card is not None and (card.card_expires_at is None or card.card_expires_at > at):
            return card
        return self.ident

    def override(self, key: int) -> Override:
        """The override of a window (``OverrideWindow.key``)."""
        return next(o for o in self.overrides if o.pk == key)


def card_stand_in(channel: Channel) -> Asset | None:
    """What a card slot airs until city-feed cards exist: the channel's first ready ident."""
    fillers = channel.default_fillers
    if fillers is None:
        return None
    idents = fillers.idents.order_by("pk").prefetch_related("renditions")
    return next((a for a in idents if a.is_schedulable), None)


def cards_for(
    *, channel: Channel, items: tuple[ScheduledItem, ...], now: dt.datetime
) -> dict[str, Asset]:
    """The freshest ready card of each category that the card slots among ``items`` ask for,
    in the channel's format (one query per category)."""
    categories = {item.card_category for item in items if item.kind == "card_slot"}
    found = {
        category: card_freshest(
            category=category, now=now, channel_format_id=channel.channel_format_id
        )
        for category in sorted(categories)
    }
    cards = {category: card for category, card in found.items() if card is not None}
    prefetch_related_objects(list(cards.values()), "renditions")
    return cards


def plan_resolve(
    *,
    channel: Channel,
    start: dt.datetime,
    end: dt.datetime,
    held: ChannelPlan | None = None,
    items_until: dt.datetime | None = None,
) -> ChannelPlan:
    """Read what ``channel`` airs during ``[start, end)`` (a few queries). Given a ``held``
    plan that reaches ``end``, the timeline's items are read again only until ``items_until``
    and kept from ``held`` after it (the long part of the horizon, re-read less often);
    overrides, slate and ident are always read again."""
    channel.channel_format.to_spec()  # loaded now, not while publishing
    partial = held is not None and items_until is not None and held.end >= end > items_until
    until = items_until if partial and items_until is not None else end
    items = tuple(
        scheduled_items(channel=channel, start=start, end=until).prefetch_related(
            "asset__renditions"
        )
    )
    if partial and held is not None:
        items += tuple(item for item in held.items if item.start >= until)
    slate = slate_for_air(channel=channel)
    if slate is not None:
        prefetch_related_objects([slate], "renditions")
    return ChannelPlan(
        channel=channel,
        start=start,
        end=end,
        items=items,
        overrides=tuple(overrides_between(channel=channel, start=start, end=end)),
        slate=slate,
        ident=card_stand_in(channel),
        cards=cards_for(channel=channel, items=items, now=start),
    )


@dataclass(frozen=True)
class Slot:
    """What the plan airs during channel segment ``sequence``, resolved once for every rung."""

    sequence: int
    item: ScheduledItem | None
    index: int  # the segment inside the item's asset (wall clock)
    override: Override | None = None  # airing instead of the plan, at segment ``override_index``
    override_index: int = 0


@dataclass(frozen=True)
class Source:
    """Where the bytes of one published channel segment came from: what actually aired."""

    name: str  # the storage name of the asset's segment
    asset_id: int
    slate: bool  # substituted for what was planned
    override: Override | None = None  # the override whose clip this is


def resolve_slot(*, plan: ChannelPlan, sequence: int) -> Slot:
    """What airs at the start of segment ``sequence``: the highest override airing then
    (``override_choice``), else the item on the timeline, each at its wall clock. Pure."""
    at = segment_start(sequence, epoch=plan.channel.epoch, segment_ms=plan.segment_ms)
    item = plan.item_at(at)
    index = segment_index(at, start=item.start, segment_ms=plan.segment_ms) if item else 0
    chosen = override_choice(sequence, plan.windows)
    if chosen is None:
        return Slot(sequence=sequence, item=item, index=index)
    window, clip_index = chosen
    return Slot(
        sequence, item, index, override=plan.override(window.key), override_index=clip_index
    )
