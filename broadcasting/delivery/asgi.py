"""The live playlists answered in front of Django, for the web process's ASGI server.

A TV polls its media playlist every few seconds, so a channel with many viewers asks the web
process for the same few hundred bytes thousands of times a second when nothing (nginx, a CDN)
stands in front of public storage. Django's request cycle costs milliseconds per request
(middleware, sessions, locale); this ASGI wrapper answers ``GET``/``HEAD`` of
``/live/<slug>/master.m3u8`` and ``/live/<slug>/<rung>/index.m3u8`` itself, with the same bytes
and headers as ``broadcasting.delivery.views_live`` (it calls the same ``serve_playlist``), and hands
every other request, and every playlist it cannot answer (an unknown channel), to Django.
"""

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from broadcasting.delivery.views_live import serve_playlist

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PLAYLIST_PATH = re.compile(
    r"^/live/(?P<slug>[-a-zA-Z0-9_]+)/(?:master|(?P<rung>[-a-zA-Z0-9_]+)/index)\.m3u8$"
)
EXTRA_HEADERS = ((b"x-content-type-options", b"nosniff"),)


class LivePlaylists:
    """ASGI middleware: the live playlists from memory, everything else to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        found = PLAYLIST_PATH.match(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        served = await serve_playlist(found["slug"], found["rung"])
        if served is None:  # not a channel on air: Django answers (its 404 page, its logs)
            await self.app(scope, receive, send)
            return
        headers = [(name.lower().encode(), value.encode()) for name, value in served.headers]
        headers += [*EXTRA_HEADERS, (b"content-length", str(len(served.body)).encode())]
        await send({"type": "http.response.start", "status": served.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else served.body
        await send({"type": "http.response.body", "body": body})
