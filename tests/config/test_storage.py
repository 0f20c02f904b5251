"""The two storage aliases, on local files and on S3 (moto's server mode on loopback)."""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from config.storage import public_read_policy, s3_storages
from tests.support import MANAGE, run, subprocess_env

BUCKET = "carillon-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API served by moto on loopback, for the duration of the module."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(endpoint, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_settings(settings, s3_endpoint: str) -> str:  # type: ignore[no-untyped-def]
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_ACCESS_KEY_ID = "carillon"
    settings.AWS_SECRET_ACCESS_KEY = "carillon-secret"
    settings.STORAGES = s3_storages(
        bucket=BUCKET,
        endpoint_url=s3_endpoint,
        region=settings.AWS_S3_REGION_NAME,
        access_key="carillon",
        secret_key="carillon-secret",
    )
    return s3_endpoint


def init_bucket(endpoint: str) -> None:
    """Run ``init_storage`` as an operator would, against the moto endpoint."""
    result = run(
        [*MANAGE, "init_storage"],
        subprocess_env(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="carillon",
            AWS_SECRET_ACCESS_KEY="carillon-secret",
        ),
    )
    assert result.returncode == 0, result.stderr


def test_local_aliases_keep_private_files_apart_from_public_ones(settings) -> None:  # type: ignore[no-untyped-def]
    private, public = storages["private"], storages["public"]
    private.save("originals/clip.mp4", ContentFile(b"original"))
    public.save("assets/1/master.m3u8", ContentFile(b"#EXTM3U\n"))
    media = Path(settings.MEDIA_ROOT)
    assert (media / "private" / "originals" / "clip.mp4").read_bytes() == b"original"
    assert (media / "public" / "assets" / "1" / "master.m3u8").exists()
    assert public.url("assets/1/master.m3u8") == "/media/public/assets/1/master.m3u8"
    with pytest.raises(ValueError):
        private.url("originals/clip.mp4")


def test_init_storage_creates_the_bucket_with_public_prefix_policy(s3_settings: str) -> None:
    init_bucket(s3_settings)
    client = boto3.client(
        "s3",
        endpoint_url=s3_settings,
        region_name="eu-west-3",
        aws_access_key_id="carillon",
        aws_secret_access_key="carillon-secret",
    )
    policy = json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy == public_read_policy(BUCKET)


def test_s3_aliases_write_read_delete(s3_settings: str) -> None:
    init_bucket(s3_settings)
    for alias in ("private", "public"):
        storage = storages[alias]
        name = storage.save(f"check/{alias}.bin", ContentFile(b"carillon " + alias.encode()))
        assert storage.exists(name)
        with storage.open(name) as handle:
            assert handle.read() == b"carillon " + alias.encode()
        storage.delete(name)
        assert not storage.exists(name)


def test_s3_private_objects_are_not_publicly_readable_and_public_ones_are(
    s3_settings: str,
) -> None:
    init_bucket(s3_settings)
    private, public = storages["private"], storages["public"]
    private_name = private.save("originals/secret.mp4", ContentFile(b"resident original"))
    public_name = public.save("assets/7/poster.jpg", ContentFile(b"poster bytes"))

    anonymous_private = f"{s3_settings}/{BUCKET}/private/{private_name}"
    assert requests.get(anonymous_private, timeout=5).status_code == 403

    public_url = public.url(public_name)
    assert "Signature" not in public_url and "X-Amz" not in public_url
    assert public_url == public.url(public_name)  # stable
    answer = requests.get(public_url, timeout=5)
    assert answer.status_code == 200
    assert answer.content == b"poster bytes"

    signed = private.url(private_name)
    assert "X-Amz-Signature" in signed
    assert requests.get(signed, timeout=5).content == b"resident original"
