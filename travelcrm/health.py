"""Health checks: /health/live (process up) and /health/ready (database, object storage, job queue)."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger("travelcrm.health")


@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        logger.warning("readiness: database unavailable: %s", type(error).__name__)
        return "unavailable"


def _check_storage() -> str:
    from apps.core.storage import s3_client

    try:
        s3_client(timeout=2).head_bucket(Bucket=settings.S3_BUCKET)
        return "ok"
    except Exception as error:  # noqa: BLE001
        logger.warning("readiness: object storage unavailable: %s", type(error).__name__)
        return "unavailable"


def _check_jobs() -> dict:
    """The job queue's lag: "degraded" (still 200) when jobs wait too long or no worker is alive —
    the CRM works, only replies, mail and backups are late."""
    from apps.jobs.selectors import queue_health

    try:
        health = queue_health()
    except Exception as error:  # noqa: BLE001
        logger.warning("readiness: job queue unreadable: %s", type(error).__name__)
        return {"jobs": "unavailable"}
    return {
        "jobs": health.status,
        "jobs_oldest_waiting_seconds": health.oldest_waiting_seconds,
        "worker_last_heartbeat_seconds": health.last_heartbeat_seconds,
    }


@require_GET
def ready(request):
    checks = {"database": _check_database(), "storage": _check_storage()}
    healthy = all(value == "ok" for value in checks.values())
    if checks["database"] == "ok":
        checks.update(_check_jobs())
    return JsonResponse(checks, status=200 if healthy else 503)


class HealthCheckMiddleware:
    """Answers /health/live and /health/ready ahead of the rest of the stack.

    A container's health check calls http://127.0.0.1:8000/health/live whatever ALLOWED_HOSTS
    says, so these two answer before the host is validated (CommonMiddleware) and without
    sessions, locale or authentication. They read nothing from the request but its path.
    """

    VIEWS = {"/health/live": live, "/health/ready": ready}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.VIEWS.get(request.path_info)
        return view(request) if view else self.get_response(request)
