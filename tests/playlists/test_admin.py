"""The "Programming" admin: lists and forms, the week grid, "rebuild now" and the as-run export."""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils.translation import gettext, ngettext, override
from lxml import html as lxml_html

from broadcasting.models import AssetKind
from playlists import services
from playlists.models import (
    AsRunReason,
    Block,
    Channel,
    ItemRole,
    Playlist,
    Rotation,
    ScheduleVersion,
)
from playlists.services import REBUILD_TASK
from tests.factories import (
    AsRunEntryFactory,
    EditorFactory,
    ProgrammingEditorFactory,
    ReadyAssetFactory,
    ScheduledItemFactory,
    ScheduleVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.UTC
WEEK = "/admin/programming/carillon-chartres/week/"
CSV = "/admin/programming/as-run.csv"
LISTS = [
    "/admin/programming/channels/",
    "/admin/programming/blocks/",
    "/admin/programming/rotations/",
    "/admin/programming/playlists/",
    "/admin/programming/fillers/",
    "/admin/programming/events/",
    "/admin/programming/as-run/",
]
FORMS = [
    "/admin/programming/channels/new/",
    "/admin/programming/blocks/new/",
    "/admin/programming/rotations/new/",
    "/admin/programming/playlists/new/",
    "/admin/programming/fillers/new/",
    "/admin/programming/events/new/",
]


@pytest.fixture
def channel() -> Channel:
    return Channel.objects.select_related("channel_format").get(slug="carillon-chartres")


@pytest.fixture
def editor(client: Client) -> Any:
    user = ProgrammingEditorFactory()
    client.force_login(user)
    return user


def page(response: Any) -> Any:
    return lxml_html.fromstring(response.content.decode())


# Menu, lists and forms -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*LISTS, *FORMS, WEEK])
def test_programming_pages_render_for_an_editor(client: Client, editor: Any, url: str) -> None:
    assert client.get(url).status_code == 200


def test_the_programming_menu_is_in_the_sidebar(client: Client, editor: Any) -> None:
    response = client.get("/admin/")
    with override("fr"):
        assert gettext("Programming") in response.content.decode()
        assert gettext("Week grid") in response.content.decode()


@pytest.mark.parametrize("url", [*LISTS, WEEK, "/admin/programming/"])
def test_programming_pages_are_refused_to_a_resident(client: Client, url: str) -> None:
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


@pytest.mark.parametrize("url", [LISTS[1], WEEK, CSV])
def test_an_editor_without_programming_rights_is_refused(client: Client, url: str) -> None:
    client.force_login(EditorFactory())
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "/admin/programming" not in response["Location"]


def block_form(channel: Channel, **changes: Any) -> dict[str, Any]:
    data = {
        "channel": channel.pk,
        "name": "Soirée culture",
        "on_monday": "on",
        "on_friday": "on",
        "start": "20:00",
        "end": "23:00",
        "priority": "1",
        "rotation": "",
        "playlist": "",
        "fillers": "",
    }
    data.update(changes)
    return data


def test_an_editor_creates_a_block_through_the_admin_form(
    client: Client, editor: Any, channel: Channel
) -> None:
    rotation = Rotation.objects.create(name="Culture")
    response = client.post(
        "/admin/programming/blocks/new/", block_form(channel, rotation=rotation.pk)
    )
    assert response.status_code == 302
    block = Block.objects.get(name="Soirée culture")
    assert block.rotation == rotation and block.day_types == {"mon", "fri"}
    assert block.start == dt.time(20) and block.end == dt.time(23)


def test_a_block_with_both_a_rotation_and_a_playlist_is_refused(
    client: Client, editor: Any, channel: Channel
) -> None:
    rotation = Rotation.objects.create(name="Culture")
    playlist = Playlist.objects.create(name="Archives")
    data = block_form(channel, rotation=rotation.pk, playlist=playlist.pk)
    response = client.post("/admin/programming/blocks/new/", data)
    assert response.status_code == 200
    with override("fr"):
        assert gettext("Choose either a rotation or a playlist.") in response.content.decode()
    assert not Block.objects.exists()


def rotation_form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Sport et culture",
        "kinds": ["programme"],
        "categories": ["sport", "culture"],
        "origins": [],
        "weights": '{"culture": 2, "sport": 0.5}',
        "no_repeat_hours": "6",
        "max_plays_per_day": "",
        "fresh_boost_days": "7",
        "fresh_boost": "3",
    }
    data.update(changes)
    return data


def test_a_rotation_form_stores_ticked_choices_and_weights(client: Client, editor: Any) -> None:
    response = client.post("/admin/programming/rotations/new/", rotation_form())
    assert response.status_code == 302
    rotation = Rotation.objects.get()
    assert rotation.kinds == ["programme"] and rotation.categories == ["sport", "culture"]
    assert rotation.origins == [] and rotation.weights == {"culture": 2.0, "sport": 0.5}


@pytest.mark.parametrize(
    "weights", ['["culture"]', '{"culture": -1}', '{"cooking": 1}', '{"sport": "a lot"}', "{"]
)
def test_a_rotation_form_refuses_bad_weights(client: Client, editor: Any, weights: str) -> None:
    response = client.post("/admin/programming/rotations/new/", rotation_form(weights=weights))
    assert response.status_code == 200
    assert not Rotation.objects.exists()


def test_the_channel_list_counts_warnings(client: Client, editor: Any, channel: Channel) -> None:
    Block.objects.create(channel=channel, name="Rien", start=dt.time(1), end=dt.time(2))
    content = client.get("/admin/programming/channels/").content.decode()
    with override("fr"):  # no slate and a block without content
        label = ngettext("%(counter)s warning", "%(counter)s warnings", 2) % {"counter": 2}
    assert label in content and WEEK in content


# Week grid -------------------------------------------------------------------------------------


def test_the_week_grid_places_entries_by_local_minutes_with_role_colours(
    client: Client, editor: Any, channel: Channel
) -> None:
    normal = ScheduledItemFactory(  # Wednesday 2026-10-21, 20:00–20:30 CEST
        start=dt.datetime(2026, 10, 21, 18, tzinfo=UTC),
        end=dt.datetime(2026, 10, 21, 18, 30, tzinfo=UTC),
        asset__title="Conseil municipal",
    )
    autumn = ScheduledItemFactory(  # Sunday 2026-10-25, 20:00–20:30 CET: 21 h after midnight
        start=dt.datetime(2026, 10, 25, 19, tzinfo=UTC),
        end=dt.datetime(2026, 10, 25, 19, 30, tzinfo=UTC),
        role=ItemRole.EVENT,
        asset__title="Concert",
    )
    tree = page(client.get(WEEK, {"week": "2026-10-21"}))
    first = tree.xpath(f'//a[@href="/admin/videos/inspect/{normal.asset_id}/"]')[0]
    second = tree.xpath(f'//a[@href="/admin/videos/inspect/{autumn.asset_id}/"]')[0]
    assert (first.get("data-top-min"), first.get("data-height-min")) == ("1200", "30")
    assert (second.get("data-top-min"), second.get("data-height-min")) == ("1260", "30")
    assert "role-programme" in first.get("class") and "role-event" in second.get("class")
    assert second.get("title") == "Concert · 20:00:00–20:30:00"
    sunday = second.xpath("ancestor::section[@data-day]")[0]
    assert (sunday.get("data-day"), sunday.get("data-minutes")) == ("2026-10-25", "1500")


def test_the_week_grid_is_right_on_the_spring_change(
    client: Client, editor: Any, channel: Channel
) -> None:
    entry = ScheduledItemFactory(  # Sunday 2027-03-28, 20:00–20:30 CEST: 19 h after midnight
        start=dt.datetime(2027, 3, 28, 18, tzinfo=UTC),
        end=dt.datetime(2027, 3, 28, 18, 30, tzinfo=UTC),
    )
    tree = page(client.get(WEEK, {"week": "2027-03-22"}))
    box = tree.xpath(f'//a[@href="/admin/videos/inspect/{entry.asset_id}/"]')[0]
    assert (box.get("data-top-min"), box.get("data-height-min")) == ("1140", "30")
    assert box.xpath("ancestor::section[@data-day]")[0].get("data-minutes") == "1380"


def test_the_week_grid_shows_legend_now_line_version_and_navigation(
    client: Client, editor: Any, channel: Channel
) -> None:
    ScheduleVersionFactory(channel=channel, number=7)
    response = client.get(WEEK)
    tree = page(response)
    legend = tree.xpath('//ul[@class="week-grid__legend"]//span/@class')
    assert {f"week-grid__swatch role-{role}" for role in ItemRole.values} <= set(legend)
    assert len(tree.xpath('//div[@class="week-grid__now"]')) == 1
    assert tree.xpath("//@data-schedule-version") == ["7"]
    assert tree.xpath('//a[@rel="prev"]/@href')[0].startswith(WEEK + "?week=")
    assert 'href="/static/playlists/week_grid.css"' in response.content.decode()


def test_the_week_grid_shows_warnings(client: Client, editor: Any, channel: Channel) -> None:
    Block.objects.create(channel=channel, name="Rien", start=dt.time(1), end=dt.time(2))
    tree = page(client.get(WEEK))
    assert tree.xpath("//@data-warning-level") == ["error", "warning"]


# Rebuild now -----------------------------------------------------------------------------------


@dataclass
class SentTasks:
    """What ``playlists.services`` sent to the broker: (task name, args, kwargs)."""

    tasks: list[tuple[str, Any, Any]] = field(default_factory=list)

    def send_task(self, name: str, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        self.tasks.append((name, args, kwargs))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> SentTasks:
    recorder = SentTasks()
    monkeypatch.setattr(services, "current_app", recorder)
    return recorder


def _no_build(**kwargs: Any) -> None:
    raise AssertionError("the schedule was built inside the request")


def test_rebuild_now_sends_the_rebuild_after_commit_and_answers_without_building(
    client: Client,
    editor: Any,
    channel: Channel,
    sent: SentTasks,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Building the horizon (8 days) takes seconds: a worker does it, the editor is answered
    at once."""
    monkeypatch.setattr(services, "_build_and_publish", _no_build)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            f"/admin/programming/{channel.slug}/rebuild/", {"week": "2026-10-21"}, follow=True
        )
    assert response.redirect_chain[0] == (f"{WEEK}?week=2026-10-19", 302)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    assert not sent.tasks and not ScheduleVersion.objects.exists()  # nothing before commit
    for callback in callbacks:
        callback()
    assert sent.tasks == [
        (REBUILD_TASK, [channel.pk, "rebuild now (week grid)"], {"user_id": editor.pk})
    ]
    assert not ScheduleVersion.objects.exists()


def test_rebuild_needs_a_post_and_the_right_to_change_blocks(
    client: Client, channel: Channel, sent: SentTasks, django_capture_on_commit_callbacks: Any
) -> None:
    viewer = EditorFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_channel"))
    client.force_login(viewer)
    assert client.get(WEEK).status_code == 200
    assert b"/rebuild/" not in client.get(WEEK).content
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(f"/admin/programming/{channel.slug}/rebuild/")
    assert refused.status_code == 302 and refused["Location"] == "/admin/"  # Wagtail's "denied"
    client.force_login(ProgrammingEditorFactory())
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/admin/programming/{channel.slug}/rebuild/").status_code == 405
    assert not ScheduleVersion.objects.exists() and not sent.tasks


# As-run log ------------------------------------------------------------------------------------


def aired(channel: Channel, start: dt.datetime, **kwargs: Any) -> Any:
    return AsRunEntryFactory(
        channel=channel, actual_start=start, actual_end=start + dt.timedelta(minutes=30), **kwargs
    )


def read_csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_as_run_csv_has_local_times_with_offsets_and_translated_reasons(
    client: Client, editor: Any, channel: Channel
) -> None:
    # Both at 02:30 local on the autumn night: once in summer time, once in winter time.
    summer = aired(channel, dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), title="Avant")
    aired(
        channel,
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        title="=Après",
        reason=AsRunReason.ALERT,
        note="Alerte crue",
        planned_start=dt.datetime(2026, 10, 25, 1, 29, 55, 200000, tzinfo=UTC),
    )
    aired(channel, dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC), title="Lendemain")  # 26th local
    response = client.get(CSV, {"channel": channel.slug, "from": "2026-10-25", "to": "2026-10-25"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    with override("fr"):
        assert rows[0][:3] == [gettext("channel"), gettext("title"), gettext("role")]
        alert_label, role_label = str(AsRunReason.ALERT.label), str(ItemRole.PROGRAMME.label)
    assert len(rows) == 3
    assert rows[1][1] == summer.title and rows[1][5] == "2026-10-25T02:30:00.000+02:00"
    assert rows[2] == [
        channel.name,
        "'=Après",
        role_label,
        "2026-10-25T02:29:55.200+01:00",
        "2026-10-25T03:00:00.000+01:00",
        "2026-10-25T02:30:00.000+01:00",
        "2026-10-25T03:00:00.000+01:00",
        alert_label,
        "Alerte crue",
    ]


def test_the_as_run_csv_rejects_bad_dates(client: Client, editor: Any) -> None:
    assert client.get(CSV, {"from": "2026-13-01"}).status_code == 400
    assert client.get(CSV, {"from": "2026-10-26", "to": "2026-10-25"}).status_code == 400
    assert client.get(CSV, {"channel": "nowhere"}).status_code == 404


def test_the_as_run_csv_is_refused_to_residents(client: Client, channel: Channel) -> None:
    aired(channel, dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    client.force_login(UserFactory())
    response = client.get(CSV, {"channel": channel.slug})
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


def test_the_as_run_list_filters_and_is_read_only(
    client: Client, channel: Channel, editor: Any
) -> None:
    aired(
        channel,
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        title="Pendant l'alerte",
        reason=AsRunReason.ALERT,
    )
    aired(channel, dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), title="Normal")
    content = client.get("/admin/programming/as-run/", {"reason": "alert"}).content.decode()
    assert "Pendant l&#x27;alerte" in content and "Normal" not in content
    assert "25/10/2026 02:30:00" in content or "10/25/2026 02:30:00" in content
    client.force_login(ProgrammingEditorFactory(is_superuser=True))
    assert client.get("/admin/programming/as-run/new/").status_code in (302, 403)


def test_the_as_run_list_filters_by_local_date_range(
    client: Client, channel: Channel, editor: Any
) -> None:
    aired(channel, dt.datetime(2026, 10, 24, 21, 30, tzinfo=UTC), title="Samedi soir")  # 23:30
    aired(channel, dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC), title="Dimanche nuit")  # 00:30
    response = client.get(
        "/admin/programming/as-run/",
        {"actual_start_from": "2026-10-25", "actual_start_to": "2026-10-25"},
    )
    content = response.content.decode()
    assert "Dimanche nuit" in content and "Samedi soir" not in content


def test_the_slate_field_offers_only_slates(client: Client, editor: Any, channel: Channel) -> None:
    slate = ReadyAssetFactory(kind=AssetKind.SLATE, title="Mire")
    ReadyAssetFactory(title="Un film")
    content = client.get(f"/admin/programming/channels/edit/{channel.pk}/").content.decode()
    assert f'value="{slate.pk}"' in content and "Un film" not in content
