"""What the broadcasting app does when its rows change (connected in ``AppConfig.ready()``)."""

from django.db.models.signals import post_delete

from broadcasting.media.services import asset_files_delete
from broadcasting.models import Asset


def asset_deleted(sender: type[Asset], instance: Asset, **kwargs: object) -> None:
    """A deleted video leaves nothing behind: public copy, original, renditions, work files
    (however it was deleted: the admin, a cascade, the shell)."""
    asset_files_delete(asset_id=instance.pk, source=instance.source, public_key=instance.public_key)


def connect() -> None:
    post_delete.connect(asset_deleted, sender=Asset, dispatch_uid="broadcasting.asset_deleted")
