"""``manage.py secure_renditions``: an installation of the old layout (every transcoded video
public under ``assets/<id>/``, the live indexes public and naming those files) is moved to the
new one: renditions private, approved videos published under a fresh random key, nothing else
public. Running it again changes nothing."""

import json
from io import StringIO
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from broadcasting.media.storage import private_storage, public_storage
from broadcasting.models import Asset, Rendition
from tests.factories import AssetFactory

pytestmark = pytest.mark.django_db

NAMES = ("master.m3u8", "poster.jpg", "360p/index.m3u8", "360p/seg_00000.ts", "360p/seg_00001.ts")
LIVE_INDEX = "live/carillon-chartres/360p/index.json"


def _old_layout(**fields: Any) -> Asset:
    """An asset as the old transcode left it: files and rows under public ``assets/<id>/``."""
    asset = cast(Asset, AssetFactory(state="ready", segment_count=2, **fields))
    prefix = f"assets/{asset.pk}"
    for name in NAMES:
        public_storage().save(f"{prefix}/{name}", ContentFile(f"{asset.pk} {name}".encode()))
    Asset.objects.filter(pk=asset.pk).update(
        master_playlist=f"{prefix}/master.m3u8", poster=f"{prefix}/poster.jpg"
    )
    Rendition.objects.create(
        asset=asset, name="360p", width=640, height=360, bandwidth=1, average_bandwidth=1,
        codecs="", playlist=f"{prefix}/360p/index.m3u8", segment_prefix=f"{prefix}/360p/",
        segment_count=2,
    )  # fmt: skip
    return Asset.objects.get(pk=asset.pk)


@pytest.fixture
def old_installation() -> dict[str, Asset]:
    assets = {
        "approved": _old_layout(approval="approved"),
        "pending": _old_layout(),
        "rejected": _old_layout(approval="rejected"),
    }
    approved = assets["approved"].pk
    index = {"7": {"name": "7-0123456789ab.ts", "source": f"assets/{approved}/360p/seg_00001.ts"}}
    public_storage().save(LIVE_INDEX, ContentFile(json.dumps(index).encode()))
    public_storage().save("v/a-key-nobody-has/master.m3u8", ContentFile(b"#EXTM3U\n"))
    return assets


def _public_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _run() -> str:
    out = StringIO()
    call_command("secure_renditions", stdout=out)
    return out.getvalue()


def test_old_renditions_become_private_and_only_approved_ones_are_republished(
    old_installation: dict[str, Asset], settings: Any
) -> None:
    _run()
    public_root = Path(settings.MEDIA_ROOT) / "public"
    approved = Asset.objects.get(pk=old_installation["approved"].pk)
    key = approved.public_key
    assert key and len(key) >= 22
    assert _public_files(public_root) == {f"v/{key}/{name}" for name in NAMES}
    for role, old in old_installation.items():
        asset = Asset.objects.get(pk=old.pk)
        prefix = f"renditions/{asset.pk}"
        assert asset.master_playlist == f"{prefix}/master.m3u8"
        assert asset.poster == f"{prefix}/poster.jpg"
        rendition = asset.renditions.get()
        assert (rendition.playlist, rendition.segment_prefix) == (
            f"{prefix}/360p/index.m3u8",
            f"{prefix}/360p/",
        )
        for name in NAMES:
            with private_storage().open(f"{prefix}/{name}") as handle:
                assert handle.read() == f"{asset.pk} {name}".encode()
        if role != "approved":
            assert asset.public_key is None
    for name in NAMES:
        with public_storage().open(f"v/{key}/{name}") as handle:
            assert handle.read() == f"{approved.pk} {name}".encode()


def test_the_live_index_moves_to_private_storage_with_private_sources(
    old_installation: dict[str, Asset],
) -> None:
    _run()
    approved = old_installation["approved"].pk
    with private_storage().open(LIVE_INDEX) as handle:
        index = json.loads(handle.read())
    assert index == {
        "7": {"name": "7-0123456789ab.ts", "source": f"renditions/{approved}/360p/seg_00001.ts"}
    }
    assert not public_storage().exists(LIVE_INDEX)


def test_a_second_run_changes_nothing(old_installation: dict[str, Asset], settings: Any) -> None:
    _run()
    public_root = Path(settings.MEDIA_ROOT) / "public"
    first = _public_files(public_root)
    keys = dict(Asset.objects.values_list("pk", "public_key"))
    _run()
    assert _public_files(public_root) == first
    assert dict(Asset.objects.values_list("pk", "public_key")) == keys
