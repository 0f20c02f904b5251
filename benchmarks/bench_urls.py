"""The project's URLs plus the live benchmark's baseline: a bare view returning fixed bytes.

``/bench/bare.m3u8`` answers with the bytes of ``CARILLON_BENCH_BARE_FILE`` (read once, at the
first request) and nothing else: no channel, no clock, no storage. Like the live playlist view it
is an async view, so both go through the same handler and middleware path.
"""

import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

_bytes: list[bytes] = []


async def bare_playlist(request: HttpRequest) -> HttpResponse:
    if not _bytes:
        _bytes.append(Path(os.environ["CARILLON_BENCH_BARE_FILE"]).read_bytes())
    return HttpResponse(_bytes[0], content_type="application/vnd.apple.mpegurl")


urlpatterns = [path("bench/bare.m3u8", bare_playlist), *project_urlpatterns]
