"""Editors see the video library in the Wagtail admin with state, progress and poster."""

import pytest
from django.test import Client

from broadcasting.models import ProcessingState
from tests.factories import AssetFactory, EditorFactory

pytestmark = pytest.mark.django_db


def test_video_list_shows_progress_poster_and_failure(client: Client) -> None:
    AssetFactory(
        title="En cours", state=ProcessingState.TRANSCODING, progress_percent=42.5, eta_seconds=30
    )
    ready = AssetFactory(title="Prête", state=ProcessingState.READY)
    ready.poster = f"renditions/{ready.pk}/poster.jpg"
    ready.save()
    AssetFactory(title="Cassée", state=ProcessingState.FAILED, failure_code="unreadable")
    client.force_login(EditorFactory(is_superuser=True))
    response = client.get("/admin/videos/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<progress max="100" value="42.5"' in html
    assert f"/previews/videos/{ready.pk}/poster.jpg" in html  # private until approved
    assert "Cette vidéo ne peut pas être lue" in html
    assert "Transcodage" in html


def test_residents_cannot_open_the_video_library(client: Client) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/admin/videos/")
    assert response.status_code in (302, 403)
