"""Fixtures of the media tests: clips generated once per session, and a secret to protect."""

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.broadcasting import cached_media, clips

MakeClip = Callable[..., Path]


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> MakeClip:
    """Each clip once per session, each in its own folder (some share file names). A clip of
    plain arguments comes from the on-disk cache that every worker and run shares; one made
    from a file of this session (a secret) is generated here."""
    made: dict[tuple[object, ...], Path] = {}
    root = tmp_path_factory.mktemp("clips")

    def make(generator: Callable[..., Path], *args: object) -> Path:
        key = (generator.__name__, *args)
        if key not in made:
            folder = root / f"{generator.__name__}-{len(made)}"
            folder.mkdir()
            if cached_media.cacheable(args):
                made[key] = cached_media.clip(generator, args, folder)
            else:
                made[key] = generator(folder, *args)
        return made[key]

    return make


@pytest.fixture(scope="session")
def secret(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A local file the attacks try to read, with a random marker in its content only."""
    marker = f"SECRET-{secrets.token_hex(12)}"
    folder = tmp_path_factory.mktemp("secret")
    path = clips.marked_transport_stream(folder, marker)
    assert marker.encode() in path.read_bytes()
    return path, marker
