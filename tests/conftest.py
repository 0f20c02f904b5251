"""Shared fixtures: the suite runs against a real PostgreSQL and a real Redis.

Under pytest-xdist each worker has its own test database and Redis database (see
``config.settings.test``); each test has its own media and work folders.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

from config.storage import local_storages
from tests import artefact_cache, database_template
from tests.broadcasting.cached_media import cache_media_builds
from tests.support import SMALL_RUNG


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """pytest-django's per-worker database names; then each worker's database is a clone of
    one migrated template (``tests.database_template``)."""
    database_template.install()


def pytest_configure(config: pytest.Config) -> None:
    """Once per run (in the controller, not in each xdist worker): drop stale cached media."""
    if not hasattr(config, "workerinput"):
        artefact_cache.prune()


@pytest.hookimpl(tryfirst=True)  # before pytest-django's (stable) sort by kind of database use
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In xdist workers, the tests marked ``slow`` first, so the long ones start early instead
    of ending the run alone on one worker. pytest-django then puts the tests that use the
    database in a transaction first and the transactional ones (which empty it) after them,
    keeping this order within each kind.

    Every transactional test (``live_server``'s too) restores the migrated data after it: one
    that flushed without doing so would let the next restore meet the content types the flush
    made again."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        wanted = "live_server" in getattr(item, "fixturenames", ()) or bool(
            marker and marker.kwargs.get("transaction")
        )
        if wanted and not (marker and marker.kwargs.get("serialized_rollback")):
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False
            )
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """Every test starts in the site's language (French): a request in English leaves English
    active in the thread (Django's LocaleMiddleware never deactivates it), and the next test
    on that worker would build English URLs (``/en/direct/``)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _isolated_media(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """Each test writes media and transcode work under its own folders on the local storage
    backends (asset ids repeat across the workers' databases)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = local_storages(
        media_root=settings.MEDIA_ROOT, public_url=settings.PUBLIC_MEDIA_URL
    )
    settings.CARILLON_WORK_DIR = tmp_path / "work"
    settings.CARILLON_UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def cached_media_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lavfi generations and encodes built once for every worker and run (for tests whose
    subject is not the media pipeline): see ``tests.broadcasting.cached_media``."""
    cache_media_builds(monkeypatch)


@pytest.fixture
def small_ladder(db: None) -> None:
    """For tests whose subject is not the ladder (a job's recovery, the demo week, a card, a
    resident's journey): the default channel format reduced to its 360p rung, so that the real
    encodes they run, in this process or in a worker, cost a fraction of the four rungs'. Every
    rule of the format (segments, GOP, audio, loudness) is the same; the ladder itself is
    tested with all its rungs in ``tests/broadcasting/media``."""
    from broadcasting.models import ChannelFormat  # noqa: PLC0415 - after Django is set up

    channel_format = ChannelFormat.objects.get(is_default=True)
    channel_format.rungs = [r for r in channel_format.rungs if r["name"] == SMALL_RUNG]
    assert channel_format.rungs, f"the default ladder has no {SMALL_RUNG} rung"
    channel_format.save(update_fields=["rungs"])
