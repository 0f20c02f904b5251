"""ASGI entry point: gunicorn runs it with uvicorn workers, so long-lived streams
(server-sent events, the continuous MPEG-TS stream) don't hold a sync worker. The live
playlists, which TVs poll, are answered in front of Django (``broadcasting.delivery.asgi``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_application = get_asgi_application()

from broadcasting.delivery.asgi import LivePlaylists  # noqa: E402 - models need Django set up

application = LivePlaylists(django_application)
