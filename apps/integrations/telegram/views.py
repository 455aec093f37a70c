"""POST /api/v1/integrations/telegram/<id>/webhook/ — updates pushed by the Bot API."""

import hmac

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions

from apps.integrations.models import Channel, IntegrationType
from apps.integrations.webhooks import WebhookView, store_and_process

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 — a header name


class TelegramWebhookView(WebhookView):
    integration_type = IntegrationType.TELEGRAM

    @extend_schema(
        summary="Вебхук Telegram (вызывает Bot API)",
        request={"application/json": {"type": "object", "description": "A Telegram Update object"}},
        responses={
            200: OpenApiResponse(description="Accepted (also for duplicates)"),
            403: OpenApiResponse(description="Wrong secret token"),
            503: OpenApiResponse(description="Could not store; Telegram will retry"),
        },
        tags=["integrations"],
    )
    def post(self, request, pk: int):
        integration = self.get_integration(pk)
        given = request.headers.get(SECRET_HEADER, "")
        expected = integration.webhook_secret or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise exceptions.PermissionDenied("Неверный секретный токен вебхука.")
        update = self.parse_json(request.body)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise exceptions.ParseError("Ожидался объект Update с полем update_id.")
        return store_and_process(
            channel=Channel.TELEGRAM, integration=integration, items=[(str(update["update_id"]), update)]
        )
