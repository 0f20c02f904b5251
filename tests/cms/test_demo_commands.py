"""``seed_demo`` and ``create_demo_admin`` can run on every ``make run``.

The demo library's clips are generated, and in the demo-week test transcoded, through the real
pipeline; the ffmpeg work itself is shared by the tests that seed the demo (each in its own
database and media folder) and cached across runs: see ``tests.broadcasting.cached_media``.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from wagtail.models import Site

from cms.models import HomePage

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("cached_media_builds")
def test_seed_demo_is_idempotent() -> None:
    from broadcasting.demo import DEMO_CLIPS
    from broadcasting.models import ApprovalState, Asset, AssetKind, TranscodeJob

    get_user_model().objects.create_superuser("admin", "admin@example.org", "x-demo-password")
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert HomePage.objects.count() == 1
    assert Site.objects.filter(is_default_site=True).count() == 1
    assert Asset.objects.count() == len(DEMO_CLIPS) == TranscodeJob.objects.count()
    assert set(Asset.objects.values_list("approval", flat=True)) == {ApprovalState.APPROVED}
    kinds = set(Asset.objects.values_list("kind", flat=True))
    assert {AssetKind.PROGRAMME, AssetKind.IDENT, AssetKind.SLATE} <= kinds
    from playlists.models import Block, Channel, Event

    channel = Channel.objects.get(slug="carillon-chartres")
    assert channel.slate is not None and channel.slate.kind == AssetKind.SLATE
    assert Block.objects.filter(channel=channel).count() == 2
    assert Event.objects.filter(channel=channel).count() == 1
    assert channel.default_fillers is not None
    assert [a.kind for a in channel.default_fillers.idents.all()] == [AssetKind.IDENT]
    from city_feeds.models import FeedItem
    from cms.models import Post, SubmissionState

    (post,) = Post.objects.all()  # a resident's post, approved through the workflow, on air
    assert post.state == SubmissionState.APPROVED and post.author.profile.display_name == "Camille"
    assert FeedItem.objects.get(source__slug="contributions-habitants").title == post.title


def test_create_demo_admin_prints_working_credentials_and_keeps_them(
    settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("create_demo_admin", stdout=first)
    call_command("create_demo_admin", stdout=second)
    assert first.getvalue() == second.getvalue()
    password = first.getvalue().split("password '")[1].split("'")[0]
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1
    client = Client()
    assert client.login(username="admin", password=password)
    assert client.get("/admin/").status_code == 200


@pytest.mark.slow
@pytest.mark.usefixtures("cached_media_builds", "small_ladder")
def test_the_demo_channel_passes_an_item_boundary_at_least_every_30_seconds() -> None:
    """The demo programming is made of short clips, idents and card slots, so viewers of the
    demo see a boundary often; the whole week (dayparts, the Saturday event, a DST-free week)
    is checked, not only the next hours. (The library is transcoded for real, into the small
    ladder: the programming, not the ladder, is the subject.)"""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from broadcasting.media.transcoding import transcode_job_run
    from broadcasting.models import TranscodeJob
    from playlists.models import Channel, ScheduledItem
    from playlists.services import schedule_rebuild

    get_user_model().objects.create_superuser("admin", "admin@example.org", "x-demo-password")
    call_command("seed_demo", stdout=StringIO())
    for job in TranscodeJob.objects.all():  # what the transcode worker does, in this process
        transcode_job_run(job_id=job.pk, worker="test")
    channel = Channel.objects.get(slug="carillon-chartres")
    start = dt.datetime(2026, 11, 23, 0, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Monday
    schedule_rebuild(channel=channel, now=start, hours=7 * 24)
    items = list(ScheduledItem.objects.filter(channel=channel).order_by("start"))
    assert items and items[0].start <= start + dt.timedelta(seconds=30)
    assert items[-1].end >= start + dt.timedelta(days=7)
    for before, after in zip(items, items[1:], strict=False):
        assert before.end == after.start  # gap-free
    longest = max(item.end - item.start for item in items)
    assert longest <= dt.timedelta(seconds=30), longest
    kinds = {item.kind for item in items}
    assert "card_slot" in kinds
