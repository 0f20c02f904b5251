"""Shared fixtures: the suite runs against a real PostgreSQL and a real Redis."""

from pathlib import Path

import pytest

from config.storage import local_storages


@pytest.fixture(autouse=True)
def _isolated_media(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """Each test writes media under its own folder on the local storage backends."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = local_storages(
        media_root=settings.MEDIA_ROOT, public_url=settings.PUBLIC_MEDIA_URL
    )
