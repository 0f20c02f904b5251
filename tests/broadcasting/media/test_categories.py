"""Categories that editors manage: the rows the migration made from the former fixed choices,
an editor's new category weighted by a rotation and picked by the scheduler, deletion refused
while anything uses a category, and inactive categories no longer offered."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.translation import override
from lxml import html as lxml_html

from broadcasting.media.selectors import categories_active, categories_offered
from broadcasting.models import Asset, Category
from broadcasting.wagtail_hooks import category_viewset
from playlists.forms import RotationForm
from playlists.models import Block, Channel, ItemRole, Rotation, ScheduledItem
from playlists.services import schedule_rebuild
from tests.factories import AssetFactory, ProgrammingEditorFactory, ReadyAssetFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, 0, 7, tzinfo=dt.UTC)
FORMER_CHOICES = {
    "news": ("Actualités", "News"),
    "culture": ("Culture", "Culture"),
    "sport": ("Sport", "Sport"),
    "heritage": ("Patrimoine", "Heritage"),
    "neighbourhood": ("Vie de quartier", "Neighbourhood life"),
    "events": ("Événements", "Events"),
    "city_info": ("Informations de la ville", "City information"),
    "other": ("Autre", "Other"),
}


@pytest.fixture
def editor(client: Client) -> Any:
    """An editor who programmes the channel and manages the categories."""
    user = ProgrammingEditorFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="broadcasting", codename__endswith="_category"
        )
    )
    client.force_login(user)
    return user


@pytest.fixture
def channel() -> Channel:
    return Channel.objects.select_related("channel_format").get(slug="carillon-chartres")


def url(name: str, *args: Any) -> str:
    return reverse(category_viewset.get_url_name(name), args=args)


def add_category(client: Client, **changes: Any) -> Any:
    data = {
        "name": "Jardins",
        "name_en": "Gardens",
        "slug": "jardins",
        "order": "5",
        "active": "on",
    }
    return client.post(url("add"), {**data, **changes})


def rotation_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Jardins",
        "kinds": ["programme"],
        "categories": [],
        "origins": [],
        "weights": "{}",
        "no_repeat_hours": "0",
        "max_plays_per_day": "",
        "fresh_boost_days": "7",
        "fresh_boost": "1",
    }
    return {**data, **changes}


def aired_assets(channel: Channel) -> set[int]:
    items = ScheduledItem.objects.filter(channel=channel, role=ItemRole.PROGRAMME)
    return set(items.values_list("asset_id", flat=True))


# The migration -------------------------------------------------------------------------------


def test_the_migration_made_one_category_per_former_choice_with_its_names() -> None:
    rows = {c.slug: (c.name, c.name_en) for c in Category.objects.all()}
    assert rows == FORMER_CHOICES
    assert [c.slug for c in categories_active()][:2] == ["news", "culture"]  # the former order


def test_a_video_stores_the_slug_in_the_former_column_and_defaults_to_other() -> None:
    culture = ReadyAssetFactory(category="culture")
    plain = AssetFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, category FROM broadcasting_asset ORDER BY id")
        assert cursor.fetchall() == [(culture.pk, "culture"), (plain.pk, "other")]
    assert plain.category.label == "Autre"
    with override("en"):
        assert str(plain.category) == "Other"


# An editor's new category, weighted by a rotation and picked by the scheduler ----------------


def test_an_editor_adds_a_category_a_rotation_weights_it_and_the_scheduler_airs_it(
    client: Client, editor: Any, channel: Channel
) -> None:
    assert add_category(client).status_code == 302
    jardins = Category.objects.get(slug="jardins")
    assert (jardins.name, jardins.name_en, jardins.order, jardins.active) == (
        "Jardins", "Gardens", 5, True,
    )  # fmt: skip
    offered = lxml_html.fromstring(client.get("/admin/programming/rotations/new/").content)
    assert "jardins" in offered.xpath("//input[@name='categories']/@value")
    weights = '{"jardins": 4, "culture": 0}'
    response = client.post("/admin/programming/rotations/new/", rotation_form(weights=weights))
    assert response.status_code == 302
    rotation = Rotation.objects.get(name="Jardins")
    assert rotation.weights == {"jardins": 4.0, "culture": 0.0}
    Block.objects.create(
        channel=channel, name="Journée", start=dt.time(0), end=dt.time(0), rotation=rotation
    )
    gardens = {a.pk for a in ReadyAssetFactory.create_batch(3, category="jardins")}
    ReadyAssetFactory.create_batch(3, category="culture")
    schedule_rebuild(channel=channel, now=NOW, hours=6)
    assert aired_assets(channel) == gardens


def test_a_rotation_weighting_the_new_category_zero_never_airs_it(channel: Channel) -> None:
    Category.objects.create(slug="jardins", name="Jardins")
    rotation = Rotation.objects.create(name="Sans jardins", weights={"jardins": 0})
    Block.objects.create(
        channel=channel, name="Journée", start=dt.time(0), end=dt.time(0), rotation=rotation
    )
    ReadyAssetFactory.create_batch(3, category="jardins")
    others = {a.pk for a in ReadyAssetFactory.create_batch(3, category="sport")}
    schedule_rebuild(channel=channel, now=NOW, hours=6)
    assert aired_assets(channel) == others


def test_weights_of_an_unknown_category_are_refused() -> None:
    form = RotationForm(data=rotation_form(weights='{"jardins": 2}'))
    assert not form.is_valid() and "weights" in form.errors
    Category.objects.create(slug="jardins", name="Jardins", active=False)
    assert RotationForm(data=rotation_form(weights='{"jardins": 2}')).is_valid()


def test_the_slug_of_an_existing_category_cannot_change(client: Client, editor: Any) -> None:
    culture = Category.objects.get(slug="culture")
    data = {"name": "Culture et arts", "name_en": "", "slug": "arts", "order": "1", "active": "on"}
    assert client.post(url("edit", culture.pk), data).status_code == 302
    culture.refresh_from_db()
    assert (culture.slug, culture.name) == ("culture", "Culture et arts")


# Deletion ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_category_that_videos_use_cannot_be_deleted(
    client: Client, editor: Any, method: str
) -> None:
    jardins = Category.objects.create(slug="jardins", name="Jardins")
    ReadyAssetFactory(category=jardins)
    response = getattr(client, method)(url("delete", jardins.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("list")
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "Jardins" in messages[0] and "1" in messages[0]
    assert Category.objects.filter(slug="jardins").exists()


def test_a_category_that_a_rotation_names_or_the_default_cannot_be_deleted(
    client: Client, editor: Any
) -> None:
    jardins = Category.objects.create(slug="jardins", name="Jardins")
    Rotation.objects.create(name="Verdure", weights={"jardins": 2})
    other = Category.objects.get(slug="other")
    for category in (jardins, other):
        client.post(url("delete", category.pk))
    bulk = reverse("wagtail_bulk_action", args=("broadcasting", "category", "delete"))
    client.post(f"{bulk}?id={jardins.pk}&id={other.pk}")
    assert Category.objects.filter(slug__in=["jardins", "other"]).count() == 2


def test_an_unused_category_is_deleted(client: Client, editor: Any) -> None:
    jardins = Category.objects.create(slug="jardins", name="Jardins")
    assert client.post(url("delete", jardins.pk)).status_code == 302
    assert not Category.objects.filter(pk=jardins.pk).exists()


# Inactive categories -------------------------------------------------------------------------


def test_an_inactive_category_is_not_offered(client: Client, editor: Any) -> None:
    Category.objects.filter(slug="sport").update(active=False)
    assert "sport" not in {c.slug for c in categories_active()}
    assert "sport" in {c.slug for c in categories_offered(keep=["sport"])}
    form = RotationForm()
    assert "sport" not in dict(form.fields["categories"].choices)  # type: ignore[attr-defined]
    kept = RotationForm(instance=Rotation(name="Sport", categories=["sport"]))
    assert "sport" in dict(kept.fields["categories"].choices)  # type: ignore[attr-defined]


def test_the_video_form_offers_active_categories_and_the_video_own(
    client: Client, editor: Any
) -> None:
    editor.user_permissions.add(Permission.objects.get(codename="change_asset"))
    Category.objects.filter(slug__in=["sport", "news"]).update(active=False)
    asset = ReadyAssetFactory(category="sport")
    page = lxml_html.fromstring(client.get(reverse("videos:edit", args=[asset.pk])).content)
    options = set(page.xpath("//select[@name='category']/option/@value"))
    assert "sport" in options and "culture" in options and "news" not in options


def test_import_video_refuses_an_unknown_category(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not read: the category is checked first")
    with pytest.raises(CommandError, match="jardins"):
        call_command("import_video", str(clip), "--title", "Jardins", "--category", "jardins")
    assert not Asset.objects.exists()


def test_the_lists_name_categories_by_their_editors_names(client: Client, editor: Any) -> None:
    Category.objects.create(slug="jardins", name="Jardins", name_en="Gardens")
    Rotation.objects.create(name="Verdure", categories=["jardins"])
    rotations = lxml_html.fromstring(client.get("/admin/programming/rotations/").content)
    row = rotations.xpath("//tr[.//a[contains(., 'Verdure')]]")[0].text_content()
    assert "Jardins" in row and "jardins" not in row
    videos = client.get(reverse("videos:index"), {"category": "jardins"})
    assert videos.status_code == 200
