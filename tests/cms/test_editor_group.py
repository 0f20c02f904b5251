"""The group "Éditeurs CMIN" (a data migration) holds exactly what editors need, its members are
editors by the one check, and the workflow "Modération CMIN" reviews videos and posts."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from wagtail.models import WorkflowContentType

from broadcasting.media.permissions import user_is_editor
from cms.models import ModerationTask, Post, VideoSubmission
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROGRAMMING = {
    f"playlists.{verb}_{model}"
    for model in ("block", "rotation", "playlist", "fillerset", "event")
    for verb in ("add", "change", "delete", "view")
}
EXPECTED = {
    "wagtailadmin.access_admin",
    "broadcasting.moderate_asset",
    "broadcasting.view_asset",
    "broadcasting.change_asset",
    "broadcasting.add_asset",
    "broadcasting.add_category",
    "broadcasting.change_category",
    "broadcasting.delete_category",
    "broadcasting.view_category",
    *[f"city_feeds.{verb}_feedsource" for verb in ("add", "change", "delete", "view")],
    "city_feeds.view_feeditem",
    "city_feeds.change_feeditem",
    "city_feeds.view_alert",
    "city_feeds.add_alert",
    "city_feeds.change_alert",
    "city_feeds.view_channelarea",
    "city_feeds.change_channelarea",
    *[f"city_feeds.{verb}_mapbackground" for verb in ("add", "change", "delete", "view")],
    "cms.view_videosubmission",
    "cms.change_videosubmission",
    "cms.view_post",
    "cms.change_post",
    "playlists.view_channel",
    "playlists.change_channel",
    "playlists.view_asrunentry",
    *PROGRAMMING,
}


def test_the_group_has_exactly_the_editors_permissions() -> None:
    group = Group.objects.get(name="Éditeurs CMIN")
    held = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert held == EXPECTED


def test_a_member_of_the_group_is_an_editor_and_nobody_else_is() -> None:
    member = UserFactory()
    member.groups.add(Group.objects.get(name="Éditeurs CMIN"))
    assert user_is_editor(member)
    assert not user_is_editor(UserFactory(is_staff=True))


def test_videos_and_posts_are_reviewed_by_the_moderation_workflow() -> None:
    for model in (VideoSubmission, Post):
        content_type = ContentType.objects.get_for_model(model)
        workflow = WorkflowContentType.objects.get(content_type=content_type).workflow
        assert workflow.name == "Modération CMIN"
        assert workflow.active
        (task,) = workflow.tasks.specific()
        assert isinstance(task, ModerationTask)
