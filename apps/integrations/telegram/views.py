"""POST /api/v1/integrations/telegram/<id>/webhook/ — updates pushed by the Bot API."""

import hmac

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions

from apps.integrations.models import Channel, IntegrationType
from apps.integrations.webhooks import WebhookView, store_and_process

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 — a header name


class TelegramWebhookView(WebhookView):
    integration_type = IntegrationType.TELEGRAM

    @extend_schema(
        summary="Вебхук Telegram (вызывает Bot API)",
        request={"application/json": {"type": "object", "description": "A Telegram Update object"}},
        examples=[OpenApiExample("Сообщение клиента", request_only=True, value={
            "update_id": 812345678,
            "message": {"message_id": 4211, "date": 1781861400,
                        "text": "Здравствуйте! Хотим в Турцию в июле, двое взрослых.",
                        "from": {"id": 123456789, "is_bot": False, "first_name": "Иван", "username": "ivanov_travel"},
                        "chat": {"id": 123456789, "type": "private", "first_name": "Иван"}},
        })],
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
