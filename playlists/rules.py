"""A channel's programming as plain, frozen values: the input and output of the timeline builder.

Pure Python, no Django: the services map models onto these dataclasses, call
``playlists.scheduling.build_timeline`` and map the resulting ``TimelineEntry`` list back.

Vocabulary (string values, as stored in the models' ``TextChoices``):

- asset kinds and origins: those of ``broadcasting.models.AssetKind`` and ``AssetOrigin``;
- day types: ``DAY_TYPES`` ("mon".."sun" and "holiday" for French public holidays);
- timeline entry kinds: ``ENTRY_KINDS``; entry roles: those of ``playlists.models.ItemRole``.

Times: ``datetime`` values are timezone-aware UTC unless a field says *local* (naive, in the
channel's time zone). Durations are integer milliseconds. Every airable asset lasts a whole number
of segments (``duration_ms % segment_ms == 0``); assets that do not are ignored by the builder.
All dataclasses are frozen, slotted and keyword-only: build them with keyword arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from broadcasting.media.formats import DEFAULT_FORMAT

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TYPES = frozenset({*WEEKDAYS, "holiday"})
ENTRY_KINDS = frozenset({"asset", "card_slot", "slate"})
DEFAULT_SEGMENT_MS = DEFAULT_FORMAT.segment_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryAsset:
    """An approved, transcoded asset that may air.

    ``kind`` is an ``AssetKind`` value, ``origin`` an ``AssetOrigin`` value; ``category`` is free text
    matched exactly by rotation rules; ``created_at`` (aware) drives the fresh-content boost.
    """

    id: int
    title: str
    duration_ms: int
    kind: str
    category: str
    origin: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RotationRule:
    """Weighted random picks from a pool of library assets.

    The pool: assets whose kind is in ``kinds``, whose category is in ``categories`` (empty: any)
    and whose origin is in ``origins`` (empty: any). An asset's weight is its category's weight
    from ``weights`` (missing: 1.0; 0 excludes the category), multiplied by ``fresh_boost`` for
    resident assets created less than ``fresh_boost_days`` before the slot they would air in
    (``fresh_boost`` >= 1; 1.0 or ``fresh_boost_days`` 0: no boost).

    ``no_repeat_hours``: an asset does not start again within that many hours of its previous
    start, whatever role it had. It is soft: when no asset of the pool that fits qualifies, the
    least recently played one that fits is taken and its entry is flagged ``repeat_fallback``.
    ``max_plays_per_day`` (per local day, counting every role) is hard: an asset that reached it
    is not picked again that day.
    """

    categories: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset({"programme"})
    origins: frozenset[str] = frozenset()
    weights: tuple[tuple[str, float], ...] = ()
    no_repeat_hours: float = 0.0
    max_plays_per_day: int | None = None
    fresh_boost_days: float = 0.0
    fresh_boost: float = 1.0

    def __post_init__(self) -> None:
        if self.no_repeat_hours < 0 or self.fresh_boost_days < 0:
            raise ValueError("no_repeat_hours and fresh_boost_days must be >= 0")
        if self.fresh_boost < 1:
            raise ValueError("fresh_boost must be >= 1 (1.0: no boost)")
        if self.max_plays_per_day is not None and self.max_plays_per_day < 1:
            raise ValueError("max_plays_per_day must be >= 1 or None")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaylistRule:
    """A fixed, ordered list of assets, played from the top at each block start, looping.

    Ids missing from the library are skipped; when the next item does not fit before the block's
    end, the playlist stops there and the remainder is filled (see ``FillerPolicy``).
    """

    asset_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CardSlotRule:
    """A reserved slot of ``length_ms`` for a card of ``category`` (e.g. "parking", 9600 ms).

    ``length_ms`` is rounded up to whole segments by the builder.

    Inserted in the break after every ``every_n_items`` programme items of a block, and used to
    fill remainders; the playout resolves the slot to a card clip (or an ident) shortly before air.
    """

    category: str
    length_ms: int
    every_n_items: int

    def __post_init__(self) -> None:
        if self.length_ms <= 0 or self.every_n_items < 1:
            raise ValueError("card slot length must be > 0 and every_n_items >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class FillerPolicy:
    """What surrounds and pads a block's programme items.

    Around programme item number n (0-based, counted per block instance), in this order:
    the break (only when it fits together with the item) — an interstitial (n > 0), the card slots
    whose ``every_n_items`` divides n (n > 0), an ident when ``ident_every_n_items`` divides n
    (so also at the block's start) —, then a pre-roll, the item, a post-roll. Each list is used
    round-robin. The remainder before a block's end that no item fits is filled greedily with
    interstitials and idents (longest first, each at most once; when the policy has none, with
    library assets of kind "filler"), then the card slots (each at most once), then the slate.
    """

    ident_ids: tuple[int, ...] = ()
    preroll_ids: tuple[int, ...] = ()
    postroll_ids: tuple[int, ...] = ()
    interstitial_ids: tuple[int, ...] = ()
    card_slots: tuple[CardSlotRule, ...] = ()
    ident_every_n_items: int | None = None

    def __post_init__(self) -> None:
        if self.ident_every_n_items is not None and self.ident_every_n_items < 1:
            raise ValueError("ident_every_n_items must be >= 1 or None")


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A daypart: local ``start``..``end`` on the days of ``day_types``, filled by ``content``.

    ``end <= start`` crosses midnight (the instance belongs to the day it starts on);
    00:00–00:00 is the whole day. Day types are ``WEEKDAYS`` and "holiday": on a French public
    holiday only blocks listing "holiday" apply, unless no block of the channel lists it, in which
    case the weekday's blocks apply. Where block instances overlap, the higher ``priority`` wins,
    then the instance that started later, then the lower ``id``; a block that is overridden
    resumes (same item counter, same random stream) when the higher one ends.
    ``fillers`` None means the channel's ``default_fillers``.
    """

    id: int
    name: str
    day_types: frozenset[str]
    start: time
    end: time
    priority: int
    content: RotationRule | PlaylistRule
    fillers: FillerPolicy | None = None

    def __post_init__(self) -> None:
        unknown = self.day_types - DAY_TYPES
        if unknown:
            raise ValueError(f"unknown day types: {sorted(unknown)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A fixed-time programme: ``asset_ids`` played in order from ``dtstart_local``.

    ``dtstart_local`` is naive local time; ``rrule`` an RFC 5545 RRULE value expanded in local
    time (e.g. "FREQ=WEEKLY;BYDAY=SA"; an UNTIL must be naive local too), None for a one-off.
    ``hard``: starts exactly at the first segment boundary at/after its local start, cutting the
    item in progress (entry flagged ``cut``). Soft: starts when the item in progress ends.
    An event overrides blocks; a hard event also cuts a running event, a soft one waits for it.
    """

    id: int
    title: str
    dtstart_local: datetime
    rrule: str | None
    asset_ids: tuple[int, ...]
    hard: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelRules:
    """Everything that programmes one channel.

    ``epoch`` (aware) anchors the segment grid: instants ``epoch + k * segment_ms``.
    ``tz`` is an IANA zone name ("Europe/Paris"). ``slate_id`` is the channel's slate asset
    (None: the playout's built-in slate).
    """

    channel_id: int
    tz: str
    epoch: datetime
    slate_id: int | None
    blocks: tuple[Block, ...] = ()
    events: tuple[Event, ...] = ()
    default_fillers: FillerPolicy = field(default_factory=FillerPolicy)
    segment_ms: int = DEFAULT_SEGMENT_MS

    def __post_init__(self) -> None:
        if self.epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        if self.segment_ms <= 0:
            raise ValueError("segment_ms must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayRecord:
    """An asset that aired (or was planned) at ``start`` (aware), before the window being built."""

    asset_id: int
    start: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    """One entry of the built timeline, ``start``..``end`` aware UTC, both on the segment grid.

    ``kind``: "asset" (``asset_id`` set), "card_slot" (``card_category`` set, ``asset_id`` None)
    or "slate" (``asset_id`` = the channel's ``slate_id``, possibly None). ``role`` is one of
    ``ROLES``. ``block_id``/``event_id`` tell where the entry comes from (both None for the
    channel's default filling outside blocks). ``cut``: the asset's media lasts longer than the
    entry (cut by a hard event or by the end of the window); it plays from its beginning.
    ``repeat_fallback``: a rotation pick that broke ``no_repeat_hours`` because nothing else
    qualified.
    """

    start: datetime
    end: datetime
    kind: str
    asset_id: int | None
    role: str
    block_id: int | None
    event_id: int | None
    card_category: str = ""
    cut: bool = False
    repeat_fallback: bool = False

    @property
    def duration_ms(self) -> int:
        """Length of the entry in milliseconds."""
        return (self.end - self.start) // timedelta(milliseconds=1)
