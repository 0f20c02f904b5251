"""The Celery application of a test worker whose encodes may come from the cache
(``Worker(..., cached_encodes=True)``): the real application, with ``encode_asset`` wrapped in
each pool process as ``tests.broadcasting.cached_media.cache_encodes`` does in the tests. The
worker still claims, probes, publishes and records everything; only the ffmpeg encode of bytes
already encoded into the same format by the same code is copied instead of run again."""

import pytest
from celery.signals import worker_process_init

from config.celery_app import app

__all__ = ["app"]


@worker_process_init.connect
def _cache_encodes(**_: object) -> None:
    from tests.broadcasting.cached_media import cache_encodes

    cache_encodes(pytest.MonkeyPatch())  # for the life of this pool process
