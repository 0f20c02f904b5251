"""Generated and encoded media, built once for every xdist worker and run (``artefact_cache``).

- ``clip``: a clip of ``tests.broadcasting.clips``, keyed by generator, arguments and the code
  of ``clips.py``;
- ``encoded_clip``: such a clip encoded by the real ``encode_asset`` into a format;
- ``cache_media_builds``: for tests whose subject is not the media pipeline (the demo library,
  the built-in slate), ``ffmpeg.run`` and ``encode_asset`` wrapped so that a generation command
  (every input a ``lavfi`` source) and the encode of the same bytes into the same format with
  the same code run once; everything else runs as usual, and each test's database rows, work
  and media folders are still its own.
"""

import dataclasses
import pickle
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from broadcasting.media import encoding, ffmpeg
from broadcasting.media.formats import FormatSpec
from tests.artefact_cache import (
    artefact_key,
    cached_artefact,
    code_digest,
    copy_artefact,
    file_digest,
    packages_digest,
)
from tests.broadcasting import clips
from tests.broadcasting.media_facts import facts_for
from tests.support import ROOT

CLIPS_CODE = Path(clips.__file__)
MEDIA_CODE = ROOT / "broadcasting" / "media"
PLAIN = (str, int, float, bool)
MULTI_FILE_MUXERS = {"hls", "dash", "segment", "image2", "tee"}


def cacheable(args: Sequence[object]) -> bool:
    """Plain values only: a path argument points at a file of this session (e.g. a secret)."""
    return all(isinstance(arg, PLAIN) for arg in args)


def clip(generator: Callable[..., Path], args: Sequence[object], folder: Path) -> Path:
    """``generator(folder, *args)``, from the cache: a private copy in ``folder``."""
    key = artefact_key(f"clip-{generator.__name__}", tuple(args), code_digest(CLIPS_CODE))
    cached = cached_artefact(key, lambda staging: _make_clip(staging, generator, args))
    copy_artefact(cached / "files", folder)
    return folder / (cached / "name").read_text()


def _make_clip(staging: Path, generator: Callable[..., Path], args: Sequence[object]) -> None:
    files = staging / "files"
    files.mkdir()
    made = generator(files, *args)
    (staging / "name").write_text(made.relative_to(files).as_posix())


def encoded_clip(
    generator: Callable[..., Path], args: Sequence[object], spec: FormatSpec, folder: Path
) -> Path:
    """The output directory of ``encode_asset`` for a clip in ``spec``, copied into ``folder``."""
    code = (code_digest(CLIPS_CODE), code_digest(MEDIA_CODE), packages_digest())
    key = artefact_key(f"encode-{generator.__name__}", tuple(args), repr(spec), code)

    def build(staging: Path) -> None:
        source = clip(generator, args, staging / "source")
        facts = facts_for(source)
        result = encoding.encode_asset(
            source=source, demuxer=facts.container, facts=facts, spec=spec,
            work_dir=staging / "work", limits=ffmpeg.Limits(wall_seconds=300),
        )  # fmt: skip
        result.out_dir.rename(staging / "out")

    return copy_artefact(cached_artefact(key, build) / "out", folder)


# --- Wrappers of the pipeline's seams -------------------------------------------------------


def is_generation(command: Sequence[str]) -> bool:
    """Whether ``command`` only turns ``lavfi`` sources into the file named last."""
    inputs = [index for index, arg in enumerate(command) if arg == "-i"]
    formats = [index for index, arg in enumerate(command[:-1]) if arg == "-f"]
    lavfi = [index for index in formats if command[index + 1] == "lavfi"]
    return (
        Path(command[0]).name == "ffmpeg"
        and bool(inputs)
        and len(lavfi) == len(inputs)
        and not command[-1].startswith(("-", "pipe:"))
        and "%" not in command[-1]
        and not {command[i + 1] for i in formats} & MULTI_FILE_MUXERS
    )


def _files_read(command: Sequence[str]) -> list[tuple[str, str]]:
    """Files a generation reads anyway (fonts): their digests belong in its key."""
    found = {m for arg in command for m in re.findall(r"/[\w.+-]+(?:/[\w.+-]+)+", arg)}
    return [(name, file_digest(Path(name))) for name in sorted(found) if Path(name).is_file()]


def caching_run(real: Callable[..., ffmpeg.RunResult]) -> Callable[..., ffmpeg.RunResult]:
    """``ffmpeg.run`` that runs a generation command once and copies its output afterwards."""

    def run(args: Sequence[str], **options: Any) -> ffmpeg.RunResult:
        command = list(args)
        if options.get("on_progress") or options.get("cwd") or not is_generation(command):
            return real(args, **options)
        output = Path(command[-1])
        key = artefact_key(f"ffmpeg{output.suffix}", command[:-1], _files_read(command[:-1]))

        def build(staging: Path) -> None:
            result = real([*command[:-1], str(staging / f"output{output.suffix}")], **options)
            (staging / "result.pickle").write_bytes(pickle.dumps(result))

        cached = cached_artefact(key, build)
        shutil.copyfile(cached / f"output{output.suffix}", output)
        result: ffmpeg.RunResult = pickle.loads((cached / "result.pickle").read_bytes())  # noqa: S301 - our own cache
        return result

    return run


def caching_encode(real: Callable[..., encoding.EncodeResult]) -> Callable[..., Any]:
    """``encode_asset`` that encodes the same bytes into the same format once: later calls get
    a copy of the outputs in their own work directory, and the same facts."""

    def encode_asset(*, source: Path, work_dir: Path, **options: Any) -> encoding.EncodeResult:
        on_progress = options.pop("on_progress", None)
        parts = (file_digest(source), repr(options["spec"]), repr(options["facts"]))
        code = (code_digest(MEDIA_CODE), packages_digest())
        key = artefact_key("encode", options["demuxer"], parts, code)

        def build(staging: Path) -> None:
            result = real(source=source, work_dir=staging / "work", **options)
            result.out_dir.rename(staging / "out")
            stored = rebased(result, result.out_dir, Path("out"))
            (staging / "result.pickle").write_bytes(pickle.dumps(stored))

        cached = cached_artefact(key, build)
        out_dir = copy_artefact(cached / "out", work_dir / "out")
        result = pickle.loads((cached / "result.pickle").read_bytes())  # noqa: S301 - our own cache
        if on_progress is not None:
            on_progress(100.0, 0.0)
        return rebased(result, Path("out"), out_dir)  # type: ignore[no-any-return]

    return encode_asset


def rebased(value: Any, old: Path, new: Path) -> Any:
    """``value`` with every path under ``old`` moved under ``new`` (through dataclasses)."""
    if isinstance(value, Path):
        return new / value.relative_to(old) if value.is_relative_to(old) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: rebased(getattr(value, field.name), old, new)
            for field in dataclasses.fields(value)
            if field.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {key: rebased(item, old, new) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(rebased(item, old, new) for item in value)
    return value


def patch_everywhere(monkeypatch: pytest.MonkeyPatch, original: object, replacement: object) -> int:
    """Replace ``original`` in every loaded module of the project that holds it under its name;
    return how many modules were patched (the function may move between modules)."""
    name = original.__name__  # type: ignore[attr-defined]
    patched = 0
    for module in list(sys.modules.values()):
        if module is None or not module.__name__.startswith(("broadcasting", "playlists", "cms")):
            continue
        if getattr(module, name, None) is original:
            monkeypatch.setattr(module, name, replacement)
            patched += 1
    return patched


def cache_media_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generation commands and encodes run once for every worker and run (see above)."""
    import broadcasting.demo  # noqa: F401 - loaded, so that its references are patched
    import broadcasting.live.slate  # noqa: F401

    assert patch_everywhere(monkeypatch, ffmpeg.run, caching_run(ffmpeg.run))
    cache_encodes(monkeypatch)


def cache_encodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encodes of the same bytes into the same format with the same code run once."""
    import broadcasting.media.transcoding  # noqa: F401 - loaded, so that it is patched

    assert patch_everywhere(
        monkeypatch, encoding.encode_asset, caching_encode(encoding.encode_asset)
    )
