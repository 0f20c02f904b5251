"""Editors preview videos that are not public yet: their renditions and poster come from private
storage through a view that checks ``broadcasting.change_asset`` (a file locally, a short-lived
signed URL on S3); anonymous viewers are sent to the login page and residents refused."""

from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client

from broadcasting.media.storage import asset_prefix, private_storage
from broadcasting.models import Asset
from tests.config.test_storage import init_bucket, s3_endpoint, s3_settings  # noqa: F401
from tests.factories import AssetFactory, EditorFactory, UserFactory

pytestmark = pytest.mark.django_db

FILES = {
    "poster.jpg": b"\xff\xd8 a pending poster",
    "master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n",
    "360p/index.m3u8": b"#EXTM3U\nseg_00000.ts\n",
    "360p/seg_00000.ts": b"G" * 188,
}


def _pending_with_files() -> Asset:
    asset = cast(Asset, AssetFactory(state="ready"))
    for name, data in FILES.items():
        private_storage().save(f"{asset_prefix(asset.pk)}/{name}", ContentFile(data))
    asset.poster = f"{asset_prefix(asset.pk)}/poster.jpg"
    asset.master_playlist = f"{asset_prefix(asset.pk)}/master.m3u8"
    asset.save()
    return asset


def _url(asset: Asset, name: str) -> str:
    return f"/previews/videos/{asset.pk}/{name}"


def test_anonymous_viewers_are_sent_to_the_login_page(client: Client) -> None:
    asset = _pending_with_files()
    for name in FILES:
        response = client.get(_url(asset, name))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/comptes/login/?next=/previews/videos/")


def test_residents_are_refused(client: Client) -> None:
    asset = _pending_with_files()
    client.force_login(UserFactory())
    for name in FILES:
        assert client.get(_url(asset, name)).status_code == 403, name


def test_editors_get_the_private_bytes_never_cached_publicly(client: Client) -> None:
    asset = _pending_with_files()
    client.force_login(EditorFactory())
    for name, data in FILES.items():
        response = client.get(_url(asset, name))
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content) == data
        assert "private" in response["Cache-Control"]
    assert client.get(_url(asset, "master.m3u8"))["Content-Type"] == (
        "application/vnd.apple.mpegurl"
    )
    assert client.get(_url(asset, "poster.jpg"))["Content-Type"] == "image/jpeg"


def test_only_the_assets_own_renditions_are_served(client: Client) -> None:
    asset = _pending_with_files()
    other = _pending_with_files()
    private_storage().save(asset.source, ContentFile(b"the original"))
    client.force_login(EditorFactory())
    for path in (
        _url(asset, "source.mp4"),
        _url(asset, "../../originals/1/source.mp4"),
        _url(asset, "..%2F..%2Foriginals%2F1%2Fsource.mp4"),
        _url(asset, "360p/../../1/poster.jpg"),
        _url(asset, "360p/seg_00009.ts"),
        f"/previews/videos/{other.pk + 1000}/poster.jpg",
    ):
        assert client.get(path).status_code == 404, path
    Asset.objects.filter(pk=other.pk).delete()
    assert client.get(_url(other, "poster.jpg")).status_code == 404


def test_the_video_library_shows_posters_through_the_preview(client: Client) -> None:
    asset = _pending_with_files()
    client.force_login(EditorFactory(is_superuser=True))
    html = client.get("/admin/videos/").content.decode()
    assert _url(asset, "poster.jpg") in html
    assert "/media/" not in html.split("<main", 1)[-1]


def test_on_s3_editors_are_sent_to_a_short_lived_signed_url(
    client: Client,
    s3_settings: str,  # noqa: F811
) -> None:
    init_bucket(s3_settings)
    assert storages["private"].__class__.__name__ == "S3Storage"
    asset = _pending_with_files()
    client.force_login(EditorFactory())
    response = client.get(_url(asset, "poster.jpg"))
    assert response.status_code == 302
    signed = response["Location"]
    query: dict[str, Any] = parse_qs(urlsplit(signed).query)
    assert "X-Amz-Signature" in query and int(query["X-Amz-Expires"][0]) <= 120
    assert requests.get(signed, timeout=5).content == FILES["poster.jpg"]
    playlist = client.get(_url(asset, "master.m3u8"))  # relative URIs must stay on the view
    assert playlist.status_code == 200
    assert playlist.content == FILES["master.m3u8"]
    assert client.get(_url(asset, "360p/seg_00000.ts")).status_code == 302
