"""The media layout through the Storage API, on local files and on S3 (moto's server mode): the
renditions are stored privately, copied under a public key, and deleted, with nothing left."""

from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.storage import storages

from broadcasting.media.storage import (
    asset_prefix,
    delete_private_files,
    list_files,
    new_public_key,
    private_storage,
    public_storage,
    publish_renditions,
    published_url,
    store_original,
    store_renditions,
    unpublish,
)
from tests.config.test_storage import init_bucket, s3_endpoint, s3_settings  # noqa: F401

FILES = {"poster.jpg": b"poster", "master.m3u8": b"#EXTM3U\n", "360p/seg_00000.ts": b"G" * 188}


def _work_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for name, data in FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return out


def _life_of_a_video(tmp_path: Path) -> tuple[str, str]:
    """Store, publish, take down, delete: checked at each step through the Storage API."""
    original = tmp_path / "clip.mp4"
    original.write_bytes(b"the original")
    source = store_original(path=original, name="originals/5/source.mp4")
    stored = store_renditions(directory=_work_dir(tmp_path), prefix=asset_prefix(5))
    assert stored[-1] == "renditions/5/master.m3u8"  # the master last
    assert not list_files(storage=public_storage(), prefix="renditions")
    key = new_public_key()
    published = publish_renditions(asset_id=5, public_key=key)
    assert sorted(published) == sorted(f"v/{key}/{name}" for name in FILES)
    for name, data in FILES.items():
        with public_storage().open(f"v/{key}/{name}") as handle:
            assert handle.read() == data
    return source, key


def _everything_removed(source: str, key: str) -> None:
    unpublish(asset_id=5, public_key=key)
    assert not list_files(storage=public_storage(), prefix=f"v/{key}")
    delete_private_files(asset_id=5, source=source)
    assert not list_files(storage=private_storage(), prefix="renditions/5")
    assert not private_storage().exists(source)


def test_on_local_files(tmp_path: Path, settings: Any) -> None:
    source, key = _life_of_a_video(tmp_path)
    url = published_url(asset_id=5, public_key=key, name="renditions/5/poster.jpg")
    assert url == f"{settings.PUBLIC_MEDIA_URL}v/{key}/poster.jpg"
    assert published_url(asset_id=5, public_key=None, name="renditions/5/poster.jpg") == ""
    _everything_removed(source, key)
    media = Path(settings.MEDIA_ROOT)
    assert not (media / "public" / "v" / key).exists()  # no empty folder names the key
    assert not (media / "private" / "renditions" / "5").exists()
    assert not (media / "private" / "originals" / "5").exists()


@pytest.mark.django_db
def test_on_s3(tmp_path: Path, s3_settings: str) -> None:  # noqa: F811
    init_bucket(s3_settings)
    assert storages["public"].__class__.__name__ == "S3Storage"
    source, key = _life_of_a_video(tmp_path)
    url = published_url(asset_id=5, public_key=key, name="renditions/5/poster.jpg")
    assert requests.get(url, timeout=5).content == FILES["poster.jpg"]  # anonymous
    private_url = f"{s3_settings}/carillon-test/private/renditions/5/poster.jpg"
    assert requests.get(private_url, timeout=5).status_code == 403
    _everything_removed(source, key)
    assert requests.get(url, timeout=5).status_code in (403, 404)
