"""Residents' profiles: made at sign-up (or on first need, for accounts made otherwise, such as
editors created in the admin), changed by their owner."""

import logging

from django.contrib.auth.models import User

from cms.models import Profile

logger = logging.getLogger(__name__)


def profile_create(*, user: User, display_name: str) -> Profile:
    """The profile of a new account, with the name it chose at sign-up."""
    profile, _created = Profile.objects.update_or_create(
        user=user, defaults={"display_name": display_name}
    )
    logger.info("profile created user=%s", user.pk)
    return profile


def profile_get_or_create(*, user: User) -> Profile:
    """The account's profile; one with a name made from the account when it has none yet."""
    profile, created = Profile.objects.get_or_create(
        user=user, defaults={"display_name": _default_display_name(user)}
    )
    if created:
        logger.info("profile made on first need user=%s", user.pk)
    return profile


def profile_update(
    *, profile: Profile, display_name: str, neighbourhood: str, birth_year: int | None
) -> Profile:
    profile.display_name = display_name
    profile.neighbourhood = neighbourhood
    profile.birth_year = birth_year
    profile.save(update_fields=["display_name", "neighbourhood", "birth_year"])
    logger.info("profile updated user=%s", profile.user_id)
    return profile


def _default_display_name(user: User) -> str:
    """The full name, else the username (never the e-mail address)."""
    return (user.get_full_name() or user.get_username())[:60]
