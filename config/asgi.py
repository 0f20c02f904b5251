"""ASGI entry point: gunicorn runs it with uvicorn workers, so long-lived streams
(server-sent events, the continuous MPEG-TS stream) don't hold a sync worker."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_asgi_application()
