"""Moving media between the work directory and the two storages.

Originals live in ``private``; channel-format outputs are published to ``public`` under a
stable prefix per asset. Publishing overwrites the same names, so a re-run leaves exactly one
set of files, and removes files of the prefix that the new output does not have.
"""

import logging
import shutil
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, storages

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


def asset_prefix(asset_id: int) -> str:
    return f"assets/{asset_id}"


def publish_directory(*, directory: Path, prefix: str) -> list[str]:
    """Upload every file of ``directory`` under ``prefix``; the master playlist goes last."""
    storage = public_storage()
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == "master.m3u8")
    published = []
    for path in files:
        name = f"{prefix}/{path.relative_to(directory).as_posix()}"
        with path.open("rb") as handle:
            storage.save(name, File(handle, name=path.name))
        published.append(name)
    _remove_stale(storage=storage, prefix=prefix, keep=set(published))
    return published


def _remove_stale(*, storage: Storage, prefix: str, keep: set[str]) -> None:
    for name in list_files(storage=storage, prefix=prefix):
        if name not in keep:
            logger.info("removing stale published file %s", name)
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
