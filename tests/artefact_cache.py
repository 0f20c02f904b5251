"""An on-disk cache of generated test media, shared by the xdist workers and kept across runs.

A test artefact (a generated clip, an encode of one) is a directory built by a function. It is
keyed by what made it: a label, the arguments, a digest of the code that made it and ffmpeg's
version, so that changing any of them builds it again. The first worker that needs an artefact
builds it under an exclusive ``fcntl.flock``; the others wait for it and then reuse it. Builds
happen in a staging directory renamed into place, so a directory under its key is complete.

Tests never get the cached files themselves, only copies (``copy_artefact``), so no test can
alter what the next one (or the next run) reads. The cache lives outside the checkout, in the
user's cache folder (``$XDG_CACHE_HOME/carillon/test-artefacts``, or ``CARILLON_TEST_CACHE_DIR``),
like pip's: every clone and worktree of the project on a machine shares it, which is safe since
keys name content (code digests, arguments, ffmpeg's build), never paths. At the start of a
run, entries unused for ``MAX_AGE_DAYS`` are removed, and the least recently used beyond
``MAX_BYTES``.
"""

import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from tests.support import ROOT

CACHE_ROOT = Path(
    os.environ.get("CARILLON_TEST_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "carillon"
    / "test-artefacts"
)
MAX_AGE_DAYS = 7
MAX_BYTES = 2 * 1024**3


@functools.cache
def ffmpeg_version() -> str:
    """``ffmpeg -version`` (version, build configuration) and the size and date of each library
    it loads (an upgraded libx264 too): a new ffmpeg, new artefacts."""
    version = _output(["ffmpeg", "-hide_banner", "-version"])
    libraries = re.findall(r"=> (/\S+)", _output(["ldd", shutil.which("ffmpeg") or "ffmpeg"]))
    stats = [(path, os.stat(path).st_size, os.stat(path).st_mtime_ns) for path in libraries]
    return f"{version}{stats}"


@functools.cache
def packages_digest() -> str:
    """The installed Python distributions and their versions (ffmpeg-python, Django...)."""
    names = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions())
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def _output(command: list[str]) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=30).stdout


def code_digest(*paths: Path) -> str:
    """SHA-256 of the Python sources at ``paths`` (files, or folders read recursively)."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(ROOT).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artefact_key(label: str, *parts: object) -> str:
    """A directory name for the artefact ``label`` made from ``parts`` with this ffmpeg."""
    digest = hashlib.sha256(repr((label, parts, ffmpeg_version())).encode()).hexdigest()
    return f"{label}-{digest[:20]}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_artefact(key: str, build: Callable[[Path], None], *, root: Path = CACHE_ROOT) -> Path:
    """The directory of the artefact ``key``; ``build(folder)`` fills it the first time."""
    final = root / key
    if not final.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root / f".{key}.lock"):
            if not final.is_dir():
                staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
                try:
                    build(staging)
                    _move_into_place(staging, final)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
    os.utime(final)  # in use: kept by ``prune``
    return final


def _move_into_place(staging: Path, final: Path) -> None:
    try:
        staging.rename(final)
    except OSError:
        if not final.is_dir():  # else another process made it while its lock was being pruned
            raise


def copy_artefact(cached: Path, destination: Path) -> Path:
    """A private copy of a cached artefact's files in ``destination``."""
    shutil.copytree(cached, destination, dirs_exist_ok=True)
    return destination


def prune(
    *, root: Path = CACHE_ROOT, max_age_days: float = MAX_AGE_DAYS, max_bytes: int = MAX_BYTES
) -> list[Path]:
    """Remove the artefacts nobody used for ``max_age_days`` (left by older code), then the
    least recently used ones beyond ``max_bytes``."""
    if not root.is_dir():
        return []
    oldest = time.time() - max_age_days * 86400
    entries = sorted(_entries(root.iterdir()), key=lambda entry: -entry.stat().st_mtime)
    kept, stale = 0, []
    for entry in entries:  # the most recently used first
        kept += sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
        if entry.stat().st_mtime < oldest or kept > max_bytes:
            stale.append(entry)
    for entry in stale:
        lock = root / f".{entry.name}.lock"
        with _locked(lock):
            shutil.rmtree(entry, ignore_errors=True)
        lock.unlink(missing_ok=True)
    return stale


def _entries(paths: Iterable[Path]) -> list[Path]:
    return [path for path in paths if path.is_dir() and not path.name.startswith(".")]
