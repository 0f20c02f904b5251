"""Build the ``STORAGES`` setting: local files by default, S3 (or MinIO) when a bucket is set.

Django's ``default`` holds Wagtail's images and documents (editorial, public, under
``public/cms``). Two aliases besides it and ``staticfiles``:
- ``private``: originals and work files, never public (signed, short-lived URLs on S3);
- ``public``: segments, playlists and posters at stable unsigned URLs (a CDN may front them).
On S3 both live in one bucket under the ``private/`` and ``public/`` prefixes; the bucket's
policy makes ``public/`` readable by anyone and nothing else.
"""

from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
PRIVATE_FILESYSTEM = "config.storage.PrivateFileSystemStorage"
S3 = "storages.backends.s3.S3Storage"
STATICFILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


class PrivateFileSystemStorage(FileSystemStorage):
    """Local private files: they have no URL, so nothing can link to them by mistake."""

    def url(self, name: str | None) -> str:
        raise ValueError(f"private file {name!r} has no public URL")


def local_storages(*, media_root: Path, public_url: str) -> dict[str, Any]:
    """Storages on the local disk: ``<media_root>/private`` and ``<media_root>/public``."""
    return {
        # Wagtail's images and documents: editorial content, public.
        "default": {
            "BACKEND": FILESYSTEM,
            "OPTIONS": {"location": media_root / "public" / "cms", "base_url": f"{public_url}cms/"},
        },
        "private": {
            "BACKEND": PRIVATE_FILESYSTEM,
            "OPTIONS": {"location": media_root / "private", "allow_overwrite": True},
        },
        "public": {
            "BACKEND": FILESYSTEM,
            "OPTIONS": {
                "location": media_root / "public",
                "base_url": public_url,
                "allow_overwrite": True,
            },
        },
        "staticfiles": STATICFILES,
    }


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str | None,
    region: str,
    access_key: str | None,
    secret_key: str | None,
    public_url: str = "",
) -> dict[str, Any]:
    """Storages in one S3 bucket, under the ``private/`` and ``public/`` prefixes."""
    common = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url,
        "region_name": region,
        "access_key": access_key,
        "secret_key": secret_key,
        "file_overwrite": True,
        "signature_version": "s3v4",
        "addressing_style": "path" if endpoint_url else None,
    }
    private = {**common, "default_acl": "private", "querystring_auth": True}
    public: dict[str, Any] = {**common, "location": "public", "querystring_auth": False}
    if public_url:
        scheme, _, rest = public_url.partition("://")
        public["custom_domain"] = rest.rstrip("/")
        public["url_protocol"] = f"{scheme}:"
    return {
        "default": {"BACKEND": S3, "OPTIONS": {**public, "location": "public/cms"}},
        "private": {
            "BACKEND": S3,
            "OPTIONS": {**private, "location": "private", "querystring_expire": 900},
        },
        "public": {"BACKEND": S3, "OPTIONS": public},
        "staticfiles": STATICFILES,
    }


def public_read_policy(bucket: str) -> dict[str, Any]:
    """The bucket policy that lets anyone read ``public/`` objects and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicMediaReadable",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/public/*"],
            }
        ],
    }
