"""Operations endpoints: liveness, readiness (database and Redis answer) and metrics."""

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
_STARTED = time.time()


def check_database() -> str | None:
    """Return ``None`` when the database answers, else the error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as err:  # noqa: BLE001 - any driver error means "not ready"
        logger.warning("readiness: database unavailable: %s", err)
        return str(err)
    return None


def check_redis() -> str | None:
    """Return ``None`` when Redis answers a PING, else the error."""
    try:
        Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except (RedisError, OSError) as err:
        logger.warning("readiness: redis unavailable: %s", err)
        return str(err)
    return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process serves requests."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the process can reach what it needs to do its work. Anyone learns which
    check passes or fails; only staff see the errors (which name hosts and ports), always
    logged."""
    checks = {"database": check_database(), "redis": check_redis()}
    ready = all(error is None for error in checks.values())
    detailed = not ready and _is_staff(request, database_up=checks["database"] is None)
    body = {
        "ready": ready,
        "checks": {
            name: "ok" if err is None else (err if detailed else "fail")
            for name, err in checks.items()
        },
    }
    return JsonResponse(body, status=200 if ready else 503)


def _is_staff(request: HttpRequest, *, database_up: bool) -> bool:
    """Whether the request comes from staff (never known while the database is away)."""
    return database_up and bool(request.user.is_staff)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """A Prometheus text exposition of the process's basic facts."""
    lines = [
        "# HELP carillon_up Whether the web process answers.",
        "# TYPE carillon_up gauge",
        "carillon_up 1",
        "# HELP carillon_process_start_time_seconds Start time of the process.",
        "# TYPE carillon_process_start_time_seconds gauge",
        f"carillon_process_start_time_seconds {_STARTED:.3f}",
        "# HELP carillon_dependency_up Whether a dependency answers.",
        "# TYPE carillon_dependency_up gauge",
        f'carillon_dependency_up{{dependency="database"}} {int(check_database() is None)}',
        f'carillon_dependency_up{{dependency="redis"}} {int(check_redis() is None)}',
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
