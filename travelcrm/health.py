"""Health checks: /health/live (process up) and /health/ready (database and object storage)."""

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


@require_GET
def ready(request):
    checks = {"database": _check_database(), "storage": _check_storage()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
