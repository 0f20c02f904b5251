"""The live output: its layout, its index and its atomic writes.

The playout publishes here; the web process (``broadcasting.delivery``) reads from here. For a
channel ``slug``, in public storage::

    live/<slug>/master.m3u8             the master playlist: one variant per rung
    live/<slug>/<rung>/index.m3u8       the rung's media playlist (the live window)
    live/<slug>/<rung>/<n>-<hash>.ts    the published segments, content-addressed

and in private storage (``index_storage()``: it names the assets' private renditions, which
nothing public may name)::

    live/<slug>/<rung>/index.json       the rung's index (below)

The URL path ``/live/...`` mirrors the public names: nginx serves them as files, and the web
process answers the same paths when nothing is in front of storage.

The index is the playout's only state: for each published sequence, the segment's file name (in
the rung's folder) and the storage name of the asset segment it was made from. In memory it is
an ``Index`` (``int`` sequence → ``IndexEntry``); on disk a JSON object keyed by the sequence in
decimal, in numeric order, e.g. ``{"7": {"name": "7-0123456789ab.ts", "source":
"renditions/4/360p/seg_00001.ts"}}`` (the format every deployment has written so far; before
``secure_renditions`` the index was public and its sources were ``assets/<id>/...``). A segment
made ahead that no playlist has listed yet carries ``"listed": false`` (issue 12: it may still
be made again when its plan changes); without the key an entry was listed, as in older indexes.

Files are replaced atomically (``write_file``): a viewer never reads a missing or half file.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from broadcasting.media.storage import private_storage, public_storage

LIVE_ROOT = "live"
MASTER_NAME = "master.m3u8"
PLAYLIST_NAME = "index.m3u8"
INDEX_NAME = "index.json"


@dataclass(frozen=True)
class IndexEntry:
    """One published sequence of a rung."""

    name: str  # the published segment's file name, in the rung's folder
    source: str  # the storage name of the asset segment it was made from
    listed: bool = True  # a playlist has named it (``False``: made ahead, not yet listed)


Index = dict[int, IndexEntry]


def live_prefix(slug: str) -> str:
    """The channel's folder: ``live/<slug>``."""
    return f"{LIVE_ROOT}/{slug}"


def rung_prefix(slug: str, rung: str) -> str:
    """The folder of one rung of the channel: ``live/<slug>/<rung>``."""
    return f"{live_prefix(slug)}/{rung}"


def master_name(slug: str) -> str:
    """The storage name of the channel's master playlist."""
    return f"{live_prefix(slug)}/{MASTER_NAME}"


def playlist_name(slug: str, rung: str) -> str:
    """The storage name of a rung's media playlist."""
    return f"{rung_prefix(slug, rung)}/{PLAYLIST_NAME}"


def index_storage() -> Storage:
    """Where the rungs' indexes live: private storage."""
    return private_storage()


def master_url(slug: str) -> str:
    """The public URL of the channel's master playlist (storage or CDN)."""
    return public_storage().url(master_name(slug))


def segment_name(*, sequence: int, data: bytes) -> str:
    """The content-addressed file name of a published segment."""
    return f"{sequence}-{hashlib.sha1(data).hexdigest()[:12]}.ts"  # noqa: S324 - a name, not a MAC


def write_file(storage: Storage, name: str, data: bytes) -> None:
    """Replace ``name`` with ``data`` atomically: a viewer never reads a missing or half file.

    On local files: write a temporary file beside it and rename it over the old one (the
    temporary file is removed if that fails). On S3 a PUT replaces an object atomically (our
    storages overwrite instead of renaming).
    """
    try:
        target = Path(storage.path(name))
    except NotImplementedError:
        storage.save(name, ContentFile(data))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
        temp = Path(handle.name)
    try:
        temp.write_bytes(data)
        temp.chmod(0o644)
        os.replace(temp, target)
    except OSError:
        temp.unlink(missing_ok=True)
        raise


def read_file(storage: Storage, name: str) -> bytes | None:
    """The bytes of ``name``, or ``None`` when it is missing or unreadable."""
    try:
        with storage.open(name, "rb") as handle:
            data: bytes = handle.read()
            return data
    except OSError:  # FileNotFoundError included
        return None


def parse_index(raw: bytes) -> Index:
    """An ``index.json``'s bytes as an ``Index``."""
    loaded: dict[str, dict[str, str | bool]] = json.loads(raw)
    return {
        int(key): IndexEntry(
            name=str(value["name"]),
            source=str(value["source"]),
            listed=value.get("listed") is not False,
        )
        for key, value in loaded.items()
    }


def dump_index(index: Mapping[int, IndexEntry]) -> bytes:
    """An ``Index`` as ``index.json``'s bytes (keys in numeric order)."""
    plain = {n: _entry_json(entry) for n, entry in index.items()}
    return json.dumps(plain, sort_keys=True).encode()


def _entry_json(entry: IndexEntry) -> dict[str, str | bool]:
    found: dict[str, str | bool] = {"name": entry.name, "source": entry.source}
    if not entry.listed:
        found["listed"] = False
    return found


def read_index(storage: Storage, prefix: str) -> Index:
    """The index of the rung folder ``prefix`` (empty when nothing was published there)."""
    raw = read_file(storage, f"{prefix}/{INDEX_NAME}")
    return parse_index(raw) if raw else {}


def write_index(storage: Storage, prefix: str, index: Mapping[int, IndexEntry]) -> None:
    """Replace the index of the rung folder ``prefix``, atomically."""
    write_file(storage, f"{prefix}/{INDEX_NAME}", dump_index(index))
