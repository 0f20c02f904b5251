"""Demo programming for ``seed_demo``: the default channel gets its slate, an ident between
programmes, card slots (parking, weather, the map, traffic), a daytime rotation and a Saturday-evening event."""

import datetime as dt

from django.db import transaction

from broadcasting.models import Asset, AssetKind
from playlists.models import (
    Block,
    CardCategory,
    CardSlot,
    Channel,
    Event,
    EventItem,
    FillerSet,
    Rotation,
)

CHANNEL_SLUG = "carillon-chartres"


@transaction.atomic
def demo_programming_ensure(*, assets: list[Asset]) -> Channel:
    """Programme the default channel with the demo library (once)."""
    channel = Channel.objects.get(slug=CHANNEL_SLUG)
    by_kind = {asset.kind: asset for asset in assets}
    if channel.slate_id is None and AssetKind.SLATE in by_kind:
        channel.slate = by_kind[AssetKind.SLATE]
    if channel.default_fillers_id is None:
        channel.default_fillers = _fillers(by_kind.get(AssetKind.IDENT))
    channel.save()
    if not channel.blocks.exists():
        _blocks(channel)
    if not channel.events.exists():
        _event(channel, [a for a in assets if a.kind == AssetKind.PROGRAMME][:1])
    return channel


def _fillers(ident: Asset | None) -> FillerSet:
    fillers = FillerSet.objects.create(name="Habillage Carillon", ident_every_n_items=1)
    if ident is not None:
        fillers.idents.add(ident)
        fillers.save()  # a cluster's many-to-many relations are written when it is saved
    for category, every in (
        (CardCategory.PARKING, 2),
        (CardCategory.WEATHER, 3),
        (CardCategory.MAP, 4),
        (CardCategory.TRAFFIC, 5),
    ):
        CardSlot.objects.create(
            filler_set=fillers, category=category, length_seconds=9.6, every_n_items=every
        )
    return fillers


def _blocks(channel: Channel) -> None:
    everything = Rotation.objects.create(
        name="Tous les programmes", no_repeat_hours=0.5, fresh_boost_days=7, fresh_boost=3
    )
    culture = Rotation.objects.create(
        name="Soirée culture",
        categories=["culture", "heritage"],  # Category slugs (rows from the migration)
        no_repeat_hours=0.25,
    )
    Block.objects.create(
        channel=channel, name="Journée", start=dt.time(0, 0), end=dt.time(0, 0), rotation=everything
    )
    Block.objects.create(
        channel=channel, name="Soirée", start=dt.time(19, 0), end=dt.time(23, 0),
        priority=10, rotation=culture, on_holiday=True,
    )  # fmt: skip


def _event(channel: Channel, programmes: list[Asset]) -> None:
    if not programmes:
        return
    event = Event.objects.create(
        channel=channel, title="Le rendez-vous du samedi", start_date=dt.date(2026, 1, 3),
        start_time=dt.time(20, 0), rrule="FREQ=WEEKLY;BYDAY=SA", hard=True,
    )  # fmt: skip
    for asset in programmes:
        EventItem.objects.create(event=event, asset=asset)
