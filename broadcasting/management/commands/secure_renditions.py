"""``manage.py secure_renditions``: bring stored renditions to the layout where nothing unapproved
is public (``broadcasting/media/storage.py``). Idempotent: a second run changes nothing, so it
may also be run as a check.

1. Renditions still at their old public place (``assets/<id>/``) are copied into private
   ``renditions/<id>/``, the rows that name them are renamed, then the public files deleted.
2. A ready, approved video is published under its public key (a fresh random one the first
   time); any other video has no public copy and no key.
3. Public copies that no video's key names, and private renditions of deleted videos, are
   removed.
4. The live outputs' indexes (``live/<slug>/<rung>/index.json``) move from public to private
   storage, their sources renamed: run the command with the playout stopped, before the new
   playout starts, so that it finds them and keeps the segments already on air.
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from django.core.files.storage import Storage
from django.core.management.base import BaseCommand
from django.db import transaction

from broadcasting.live.store import (
    INDEX_NAME,
    LIVE_ROOT,
    index_storage,
    parse_index,
    read_file,
    write_index,
)
from broadcasting.media import services
from broadcasting.media.storage import (
    LEGACY_ROOT,
    PUBLISHED_ROOT,
    RENDITIONS_ROOT,
    asset_prefix,
    copy_prefix,
    delete_prefix,
    is_published,
    legacy_prefix,
    list_files,
    private_storage,
    public_storage,
)
from broadcasting.models import Asset, Rendition

LEGACY_NAME = re.compile(rf"^{LEGACY_ROOT}/(\d+)/")


class Command(BaseCommand):
    help = "Move renditions out of public storage and publish approved videos under random keys."

    def handle(self, *args: object, **options: object) -> None:
        report: Counter[str] = Counter()
        for asset in Asset.objects.order_by("pk").iterator():
            report["old public files moved"] += _move_legacy(asset)
            report[_publication(Asset.objects.get(pk=asset.pk))] += 1
        report["orphan public copies removed"] = _remove_orphans(
            public_storage(), PUBLISHED_ROOT, known=_keys
        )
        report["orphan renditions removed"] = _remove_orphans(
            private_storage(), RENDITIONS_ROOT, known=_ids
        )
        report["live indexes moved"] = _move_live_indexes()
        for what, count in sorted(report.items()):
            self.stdout.write(f"{what}: {count}")


def _keys() -> set[str]:
    keys = Asset.objects.exclude(public_key=None).values_list("public_key", flat=True)
    return {key for key in keys if key}


def _ids() -> set[str]:
    return {str(pk) for pk in Asset.objects.values_list("pk", flat=True)}


def _move_legacy(asset: Asset) -> int:
    """Copy ``assets/<id>/`` into private storage (when the rows still name it), rename the
    rows, delete the public files; how many public files there were."""
    public, old = public_storage(), legacy_prefix(asset.pk)
    names = list_files(storage=public, prefix=old)
    if not names:
        return 0
    if asset.master_playlist.startswith(f"{old}/"):  # else newer renditions are private already
        new = asset_prefix(asset.pk)
        copy_prefix(source=public, source_prefix=old, target=private_storage(), target_prefix=new)
        _rename_rows(asset, old=f"{old}/", new=f"{new}/")
    delete_prefix(storage=public, prefix=old)
    return len(names)


def _rename_rows(asset: Asset, *, old: str, new: str) -> None:
    def renamed(name: str) -> str:
        return new + name.removeprefix(old) if name.startswith(old) else name

    with transaction.atomic():
        Asset.objects.filter(pk=asset.pk).update(
            master_playlist=renamed(asset.master_playlist), poster=renamed(asset.poster)
        )
        for rendition in Rendition.objects.filter(asset=asset):
            rendition.playlist = renamed(rendition.playlist)
            rendition.segment_prefix = renamed(rendition.segment_prefix)
            rendition.save(update_fields=["playlist", "segment_prefix"])


def _publication(asset: Asset) -> str:
    """Publish a ready, approved video (unless its copy is there); take any other down."""
    if not asset.is_schedulable:
        if asset.public_key is None:
            return "not public"
        services.asset_take_down(asset=asset)
        return "taken down"
    if asset.public_key and is_published(public_key=asset.public_key):
        return "public already"
    if not services.asset_publish_files(asset_id=asset.pk):
        return "not published (no renditions?)"
    return "published"


def _remove_orphans(storage: Storage, root: str, *, known: Callable[[], set[str]]) -> int:
    """Delete the folders under ``root`` that no row names. The rows are read after the
    listing: a folder being written while the command runs belongs to a row already there."""
    try:
        folders, _ = storage.listdir(root)
    except FileNotFoundError:
        return 0
    named = known()
    orphans = [folder for folder in folders if folder not in named]
    for folder in orphans:
        delete_prefix(storage=storage, prefix=f"{root}/{folder}")
    return len(orphans)


def _move_live_indexes() -> int:
    """``live/<slug>/<rung>/index.json`` from public to private storage, sources renamed (an
    index the new playout already wrote in private storage wins)."""
    public, moved = public_storage(), 0
    for name in list_files(storage=public, prefix=LIVE_ROOT):
        prefix, _, file_name = name.rpartition("/")
        if file_name != INDEX_NAME:
            continue
        raw = read_file(public, name)
        if raw and not index_storage().exists(name):
            index = {
                n: replace(entry, source=LEGACY_NAME.sub(rf"{RENDITIONS_ROOT}/\1/", entry.source))
                for n, entry in parse_index(raw).items()
            }
            write_index(index_storage(), prefix, index)
        public.delete(name)
        moved += 1
    return moved
