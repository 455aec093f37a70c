"""A manager's reply to the customer from the lead, in the channel the customer wrote from.

The reply joins the lead's conversation (an outgoing LeadMessage) and is sent by the integrations'
job queue (apps.integrations.outbound: stored and enqueued in this transaction, retried, never sent
twice — the form's one-time token is the idempotency key).
"""

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.errors import BusinessError
from apps.integrations.models import IntegrationSettings, IntegrationType, OutboundMessage, Purpose
from apps.integrations.outbound import SENDERS, outbound_enqueue
from apps.leads.models import Lead, LeadMessage, LeadSource, MessageDirection

WHATSAPP_WINDOW = timedelta(hours=24)
MAX_REPLY = 4000  # Telegram's message limit is 4096 characters


def new_reply_token() -> str:
    return uuid.uuid4().hex


def reply_channel_problem(lead: Lead) -> str:
    """Why a reply cannot go out from the CRM now ("" when it can)."""
    if lead.source == LeadSource.TELEGRAM:
        if not lead.contact_telegram:
            return "У заявки нет Telegram-идентификатора отправителя: ответить в Telegram нельзя."
        if _integration(IntegrationType.TELEGRAM) is None:
            return "Нет активной интеграции Telegram для продаж: руководитель включает её в «Интеграции»."
        return ""
    if lead.source == LeadSource.WHATSAPP:
        last_incoming = (
            LeadMessage.objects.filter(lead=lead, direction=MessageDirection.INCOMING)
            .order_by("-received_at").values_list("received_at", flat=True).first()
        )
        if last_incoming is None or timezone.now() - last_incoming > WHATSAPP_WINDOW:
            return ("Клиент писал в WhatsApp больше 24 часов назад: WhatsApp разрешает ответить только в "
                    "течение 24 часов после его сообщения. Позвоните клиенту или дождитесь его сообщения.")
    if lead.source not in SENDERS:
        return (f"Ответ в канал «{lead.get_source_display()}» из CRM пока не отправляется: "
                "ответьте клиенту напрямую и отметьте это в заметках.")
    return ""


def _integration(kind: str) -> IntegrationSettings | None:
    return (
        IntegrationSettings.objects.filter(type=kind, purpose=Purpose.SALES, is_active=True).order_by("id").first()
    )


@transaction.atomic
def lead_reply(*, lead: Lead, text: str, token: str, actor) -> OutboundMessage:
    text = (text or "").strip()
    if not text:
        raise BusinessError("Напишите текст ответа.", code="reply_empty", fields={"text": ["Обязательное поле."]})
    if len(text) > MAX_REPLY:
        raise BusinessError(f"Ответ длиннее {MAX_REPLY} символов.", code="reply_too_long",
                            fields={"text": [f"Не больше {MAX_REPLY} символов."]})
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    problem = reply_channel_problem(lead)
    if problem:
        raise BusinessError(problem, code="reply_channel_unavailable")
    message, created = outbound_enqueue(
        channel=lead.source,
        integration=_integration(lead.source),
        key=f"lead-reply:{lead.pk}:{token}",
        chat_id=lead.contact_telegram,
        text=text,
        lead_pk=lead.pk,
    )
    if created:
        LeadMessage.objects.create(
            lead=lead, channel=lead.source, direction=MessageDirection.OUTGOING, text=text,
            external_id=f"outbound:{message.pk}", received_at=timezone.now(),
        )
    return message


def lead_outbound(lead: Lead) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(lead_pk=lead.pk).order_by("-id")[:30])
