"""GET/POST /api/v1/integrations/whatsapp/<id>/webhook/ — the Cloud API webhook."""

import hashlib
import hmac

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions

from apps.integrations.models import Channel, IntegrationType
from apps.integrations.webhooks import WebhookView, store_and_process

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_valid(raw_body: bytes, header: str, app_secret: str) -> bool:
    """X-Hub-Signature-256: "sha256=" + HMAC-SHA256(app secret, raw body), compared in constant time."""
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower().encode(), expected.encode())


def messages_of(body: dict) -> list[tuple[str, dict]]:
    """(wamid, item payload) for every customer message in a webhook body; statuses are skipped."""
    items = []
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            for message in value.get("messages") or []:
                if isinstance(message, dict) and message.get("id"):
                    items.append(
                        (
                            message["id"],
                            {
                                "message": message,
                                "contacts": value.get("contacts") or [],
                                "metadata": value.get("metadata") or {},
                            },
                        )
                    )
    return items


class WhatsAppWebhookView(WebhookView):
    integration_type = IntegrationType.WHATSAPP

    @extend_schema(
        summary="Вебхук WhatsApp: проверка при подключении",
        parameters=[
            OpenApiParameter("hub.mode", str),
            OpenApiParameter("hub.verify_token", str),
            OpenApiParameter("hub.challenge", str),
        ],
        responses={
            200: OpenApiResponse(description="hub.challenge echoed as text/plain"),
            403: OpenApiResponse(description="Wrong verify token"),
        },
        tags=["integrations"],
    )
    def get(self, request, pk: int):
        integration = self.get_integration(pk)
        mode = request.query_params.get("hub.mode", "")
        token = request.query_params.get("hub.verify_token", "")
        challenge = request.query_params.get("hub.challenge", "")
        expected = integration.verify_token or ""
        if mode != "subscribe" or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise exceptions.PermissionDenied("Неверный токен проверки вебхука.")
        return HttpResponse(challenge, content_type="text/plain")

    @extend_schema(
        summary="Вебхук WhatsApp (сообщения и статусы)",
        request={"application/json": {"type": "object"}},
        examples=[OpenApiExample("Сообщение клиента", request_only=True, value={
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "74951234567", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Иван Иванов"}, "wa_id": "79161234567"}],
                "messages": [{"from": "79161234567", "id": "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQTdF",
                              "timestamp": "1781861400", "type": "text",
                              "text": {"body": "Здравствуйте! Хотим в Турцию в июле."}}],
            }}]}],
        })],
        responses={
            200: OpenApiResponse(description="Accepted"),
            403: OpenApiResponse(description="Bad signature"),
            503: OpenApiResponse(description="Could not store; retry"),
        },
        tags=["integrations"],
    )
    def post(self, request, pk: int):
        integration = self.get_integration(pk)
        raw = request.body
        if not signature_valid(raw, request.headers.get(SIGNATURE_HEADER, ""), integration.app_secret):
            raise exceptions.PermissionDenied("Неверная подпись X-Hub-Signature-256.")
        body = self.parse_json(raw)
        if not isinstance(body, dict):
            raise exceptions.ParseError("Ожидался JSON-объект.")
        return store_and_process(channel=Channel.WHATSAPP, integration=integration, items=messages_of(body))
