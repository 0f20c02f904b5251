"""Import a video file as an upload would, print its id, and optionally wait for the result."""

import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from broadcasting.media.failures import failure_message
from broadcasting.media.intake import UploadRejected
from broadcasting.media.services import asset_approve, asset_create_from_file
from broadcasting.media.storage import private_storage
from broadcasting.models import (
    DEFAULT_CATEGORY,
    Asset,
    AssetKind,
    AssetOrigin,
    Category,
    ProcessingState,
)


class Command(BaseCommand):
    help = "Import a video into the channel's library (transcoded by the workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--title", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--kind", choices=AssetKind.values, default=AssetKind.PROGRAMME)
        parser.add_argument("--origin", choices=AssetOrigin.values, default=AssetOrigin.CITY)
        parser.add_argument("--category", default=DEFAULT_CATEGORY, help="A category's slug.")
        parser.add_argument("--approve", action="store_true", help="Approve it for broadcast.")
        parser.add_argument(
            "--editor", help="Username of the approving editor (default: first admin)."
        )
        parser.add_argument("--wait", action="store_true", help="Wait for the transcode to end.")
        parser.add_argument("--timeout", type=float, default=3600.0)

    def handle(self, *args: object, **options: object) -> None:
        path = options["path"]
        assert isinstance(path, Path)  # noqa: S101
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if not Category.objects.filter(slug=options["category"]).exists():
            known = ", ".join(Category.objects.values_list("slug", flat=True))
            raise CommandError(f"Unknown category {options['category']!r}; use one of: {known}")
        editor = self._editor(options["editor"]) if options["approve"] else None
        try:
            asset = asset_create_from_file(
                path=path,
                original_name=path.name,
                title=str(options["title"]),
                description=str(options["description"]),
                kind=str(options["kind"]),
                origin=str(options["origin"]),
                category=str(options["category"]),
            )
        except UploadRejected as err:
            raise CommandError(f"Rejected: {err.message}") from err
        if editor is not None:
            asset_approve(asset=asset, editor=editor)
        self.stdout.write(str(asset.pk))
        if options["wait"]:
            self._wait(asset.pk, float(options["timeout"]))  # type: ignore[arg-type]

    def _editor(self, username: object) -> User:
        users = get_user_model().objects.filter(is_active=True)
        editor = (
            users.filter(username=username).first()
            if username
            else users.filter(is_superuser=True).order_by("pk").first()
        )
        if editor is None:
            raise CommandError("--approve needs an editor: create an administrator first.")
        return editor

    def _wait(self, asset_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            asset = Asset.objects.get(pk=asset_id)
            if (asset.state, int(asset.progress_percent)) != last:
                last = (asset.state, int(asset.progress_percent))
                self.stderr.write(f"{asset.get_state_display()} {asset.progress_percent:.0f}%")
            if asset.state == ProcessingState.READY:
                self.stdout.write(f"ready {self._location(asset)}")
                return
            if asset.state == ProcessingState.FAILED:
                self.stdout.write(f"failed {asset.failure_code}")
                raise CommandError(f"Transcode failed: {failure_message(asset.failure_code)}")
            time.sleep(1.0)
        raise CommandError(f"Still {Asset.objects.get(pk=asset_id).state} after {timeout:.0f} s")

    def _location(self, asset: Asset) -> str:
        """The master playlist in private storage (renditions are public only once approved,
        under a random key): a local path, or on S3 a short-lived signed URL."""
        storage = private_storage()
        try:
            return storage.path(asset.master_playlist)
        except NotImplementedError:
            pass
        url = storage.url(asset.master_playlist)
        return url if "://" in url else f"{settings.CARILLON_BASE_URL}{url}"
