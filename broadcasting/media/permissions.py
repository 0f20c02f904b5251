"""Who is an editor: one check, used by every view, service and admin screen that needs it.

An editor holds the ``broadcasting.moderate_asset`` permission (the data migration gives it to
the group "Éditeurs CMIN"; superusers hold every permission). Being staff is not enough.
"""

from django.contrib.auth.models import AnonymousUser, User

EDITOR_PERMISSION = "broadcasting.moderate_asset"


def user_is_editor(user: User | AnonymousUser) -> bool:
    """An inactive account or an anonymous visitor is never an editor."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(EDITOR_PERMISSION))
