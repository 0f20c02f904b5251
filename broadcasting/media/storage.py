"""Moving media between the work directory and the two storages, and their layout, once.

- private ``originals/<id>/source.<ext>``: an asset's original;
- private ``renditions/<id>/``: its channel-format outputs (``master.m3u8``, ``poster.jpg``, a
  folder per rung). The one source of truth: the rows (``Rendition``, ``Asset.master_playlist``,
  ``Asset.poster``) name these files, the playout and the editors' previews read them here;
- public ``v/<public key>/``: the copy of an approved asset's renditions under its random public
  key (``Asset.public_key``, never its id), for the site and the guides; removed on take-down;
- public ``assets/<id>/``: where every transcode was published before; ``secure_renditions``
  moves such files into ``renditions/<id>/`` and take-downs delete them.

Storing and copying overwrite the same names, so a re-run leaves exactly one set of files, and
remove files of the prefix that the new set does not have; the master playlist comes last.
Copies and deletions go through the Storage API only (local files and S3 alike).
"""

import logging
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from broadcasting.media.encoding import MASTER_NAME

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024


def private_storage() -> Storage:
    return storages["private"]


def public_storage() -> Storage:
    return storages["public"]


def source_name(*, asset_id: int, original_name: str) -> str:
    """The private name of an asset's original; the resident's file name is not trusted."""
    suffix = Path(original_name).suffix.lower()[:10]
    return f"originals/{asset_id}/source{suffix}"


def store_original(*, path: Path, name: str) -> str:
    """Copy a local file into private storage under ``name``."""
    with path.open("rb") as handle:
        return private_storage().save(name, File(handle, name=Path(name).name))


def fetch_original(*, name: str, destination: Path) -> Path:
    """Copy an original from private storage into the work directory."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with private_storage().open(name, "rb") as source, destination.open("wb") as target:
        shutil.copyfileobj(source, target, CHUNK)
    return destination


RENDITIONS_ROOT = "renditions"  # private
PUBLISHED_ROOT = "v"  # public
LEGACY_ROOT = "assets"  # public, before renditions became private
PUBLIC_KEY_BYTES = 24  # 192 random bits, 32 characters


def asset_prefix(asset_id: int) -> str:
    """The folder of an asset's renditions in private storage: ``renditions/<id>``."""
    return f"{RENDITIONS_ROOT}/{asset_id}"


def published_prefix(public_key: str) -> str:
    """The folder of an approved asset's public copy: ``v/<public key>``."""
    return f"{PUBLISHED_ROOT}/{public_key}"


def legacy_prefix(asset_id: int) -> str:
    """Where renditions were published before they became private: public ``assets/<id>``."""
    return f"{LEGACY_ROOT}/{asset_id}"


def new_public_key() -> str:
    """A name nobody can guess for a published copy (URL-safe)."""
    return secrets.token_urlsafe(PUBLIC_KEY_BYTES)


def asset_work_dir(asset_id: int) -> Path:
    """The asset's work directory (each transcode attempt has a folder inside)."""
    return Path(settings.CARILLON_WORK_DIR) / f"asset-{asset_id}"


def _master_last(names: Iterable[str]) -> list[str]:
    """Names sorted, master playlists last: a reader never finds a master before its files."""
    return sorted(names, key=lambda name: (name.rsplit("/", 1)[-1] == MASTER_NAME, name))


def store_renditions(*, directory: Path, prefix: str) -> list[str]:
    """Upload every file of ``directory`` under ``prefix`` in private storage."""
    storage = private_storage()
    files = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    stored = []
    for relative in _master_last(files):
        name = f"{prefix}/{relative}"
        with files[relative].open("rb") as handle:
            storage.save(name, File(handle, name=files[relative].name))
        stored.append(name)
    _remove_stale(storage=storage, prefix=prefix, keep=set(stored))
    return stored


def copy_prefix(
    *, source: Storage, source_prefix: str, target: Storage, target_prefix: str
) -> list[str]:
    """Copy every file under ``source_prefix`` to ``target_prefix`` (stale files removed)."""
    copied = []
    for name in _master_last(list_files(storage=source, prefix=source_prefix)):
        target_name = f"{target_prefix}/{name.removeprefix(f'{source_prefix}/')}"
        with source.open(name, "rb") as handle:
            target.save(target_name, handle)
        copied.append(target_name)
    _remove_stale(storage=target, prefix=target_prefix, keep=set(copied))
    return copied


def publish_renditions(*, asset_id: int, public_key: str) -> list[str]:
    """Copy the asset's private renditions to public ``v/<public key>/``."""
    return copy_prefix(
        source=private_storage(),
        source_prefix=asset_prefix(asset_id),
        target=public_storage(),
        target_prefix=published_prefix(public_key),
    )


def is_published(*, public_key: str) -> bool:
    """Whether the public copy under ``public_key`` is whole: its master playlist, copied last
    (``copy_prefix``), is there."""
    return public_storage().exists(f"{published_prefix(public_key)}/{MASTER_NAME}")


def unpublish(*, asset_id: int, public_key: str | None) -> list[str]:
    """Delete every public copy of the asset: under its key and at its old ``assets/<id>/``."""
    removed = delete_prefix(storage=public_storage(), prefix=legacy_prefix(asset_id))
    if public_key:
        removed += delete_prefix(storage=public_storage(), prefix=published_prefix(public_key))
    if removed:
        logger.info("public copy removed asset=%s files=%s", asset_id, len(removed))
    return removed


def delete_private_files(*, asset_id: int, source: str) -> None:
    """Delete the asset's original, its renditions and its work directory."""
    storage = private_storage()
    delete_prefix(storage=storage, prefix=asset_prefix(asset_id))
    if source:
        storage.delete(source)
        _remove_empty_folders(storage, source.rpartition("/")[0])
    shutil.rmtree(asset_work_dir(asset_id), ignore_errors=True)


def delete_prefix(*, storage: Storage, prefix: str) -> list[str]:
    """Delete every file under ``prefix`` (and, on local files, the folders left empty)."""
    names = list_files(storage=storage, prefix=prefix)
    for name in names:
        storage.delete(name)
    _remove_empty_folders(storage, prefix)
    return names


def _remove_empty_folders(storage: Storage, prefix: str) -> None:
    """Local files only (S3 has no folders): remove ``prefix``'s empty folders, itself too."""
    try:
        root = Path(storage.path(prefix))
    except NotImplementedError:
        return
    if not prefix or not root.is_dir():
        return
    for folder in [*sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True), root]:
        try:
            folder.rmdir()  # only when empty
        except OSError:
            continue


def published_url(*, asset_id: int, public_key: str | None, name: str) -> str:
    """The public URL of the published copy of the asset's file ``name`` (its private storage
    name, e.g. ``Asset.poster``); ``""`` when the asset is not published."""
    if not public_key or not name:
        return ""
    relative = name.removeprefix(f"{asset_prefix(asset_id)}/")
    return public_storage().url(f"{published_prefix(public_key)}/{relative}")


def _remove_stale(*, storage: Storage, prefix: str, keep: set[str]) -> None:
    for name in list_files(storage=storage, prefix=prefix):
        if name not in keep:
            logger.info("removing stale file %s", name)
            storage.delete(name)


def list_files(*, storage: Storage, prefix: str) -> list[str]:
    """Every file name under ``prefix`` (recursively)."""
    if not storage.exists(prefix) and not _has_children(storage, prefix):
        return []
    directories, files = storage.listdir(prefix)
    names = [f"{prefix}/{name}" for name in files]
    for directory in directories:
        names.extend(list_files(storage=storage, prefix=f"{prefix}/{directory}"))
    return names


def _has_children(storage: Storage, prefix: str) -> bool:
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return False
    return bool(directories or files)
