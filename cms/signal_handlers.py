"""What the public site does when its rows change outside its services."""

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from cms.models.submissions import Post
from cms.services.posts_on_air import post_off_air


@receiver(post_delete, sender=Post, dispatch_uid="cms.post_off_air")
def _post_deleted(sender: type[Post], instance: Post, **kwargs: Any) -> None:
    """A post deleted (by an editor, or with its author's account) leaves the air at once."""
    post_off_air(post=instance)
