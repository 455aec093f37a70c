"""Shared pieces of the public webhook views (Telegram, WhatsApp)."""

import json
import logging

from django.db import DatabaseError
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.integrations.inbox import inbox_process, inbox_store
from apps.integrations.models import IntegrationSettings
from apps.integrations.selectors import integration_active
from travelcrm.api import BaseAPIView

logger = logging.getLogger("travelcrm.integrations.webhooks")


class WebhookView(BaseAPIView):
    """Public, unauthenticated; each channel checks its own signature / secret header."""

    public = True
    authentication_classes: list = []
    throttle_classes: list = []
    integration_type = ""

    def get_integration(self, pk: int) -> IntegrationSettings:
        integration = integration_active(pk, self.integration_type)
        if integration is None:
            raise exceptions.NotFound("Интеграция не найдена или выключена.")
        return integration

    @staticmethod
    def parse_json(raw: bytes):
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise exceptions.ParseError("Тело запроса — не JSON.") from None


def store_and_process(*, channel: str, integration, items: list[tuple[str, dict]]) -> Response:
    """Store every raw item first (5xx if that fails, so the sender retries), then process them.

    Processing failures keep the item with its error (manage.py reprocess_inbox) and still
    answer 200, so the channel does not hammer us with retries.
    """
    stored = []
    try:
        for external_id, payload in items:
            stored.append(
                inbox_store(channel=channel, integration=integration, external_id=external_id, payload=payload)
            )
    except DatabaseError:
        logger.exception("inbox store failed", extra={"channel": channel, "integration_id": integration.pk})
        return Response(
            {"code": "inbox_unavailable", "detail": "Не удалось сохранить сообщение, повторите позже.", "fields": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    for item, created in stored:
        if created:
            inbox_process(item)
    return Response({"ok": True})
