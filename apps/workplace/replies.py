"""A manager's reply to the customer from the lead, in the channel the customer wrote from.

Telegram (chat id), WhatsApp (inside the 24-hour customer-service window counted from the
customer's last incoming message) and e-mail (SMTP of the mailbox the customer wrote to, threaded
with In-Reply-To / References, «Re: …»), with files: uploaded ones or documents generated for the
lead's order. The reply joins the lead's conversation (an outgoing LeadMessage) and is sent by the
integrations' job queue (apps.integrations.outbound: stored and enqueued in this transaction,
retried, never sent twice — the form's one-time token is the idempotency key). The first message
to a sender without a consent carries the consent link (and a button in the messengers).
"""

from __future__ import annotations

import email.utils
import uuid
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.core.errors import BusinessError
from apps.core.masking import mask_email, mask_phone
from apps.core.storage import random_key
from apps.documents.models import Document
from apps.documents.selectors import documents_visible_to, download_name, require_download_right
from apps.integrations import consent
from apps.integrations.models import IntegrationSettings, IntegrationType, OutboundMessage, OutboundStatus, Purpose
from apps.integrations.outbound import outbound_enqueue, outbound_resend
from apps.leads.models import Lead, LeadMessage, LeadSource, MessageDirection

WHATSAPP_WINDOW = timedelta(hours=24)
MAX_REPLY = 3500  # Telegram and WhatsApp take 4096 characters; the consent paragraph may follow
MAX_FILES = 5
MAX_FILES_BYTES = 20 * 1024 * 1024  # in total: under every channel's limit (Telegram bots 50 MB, mail ~25 MB)
REFERENCES_KEPT = 10


def new_reply_token() -> str:
    return uuid.uuid4().hex


def _last_incoming(lead: Lead) -> LeadMessage | None:
    return (
        LeadMessage.objects.filter(lead=lead, direction=MessageDirection.INCOMING)
        .order_by("-received_at", "-id").first()
    )


def reply_channel_problem(lead: Lead, last_incoming: LeadMessage | None = None) -> str:
    """Why a reply cannot go out from the CRM now ("" when it can)."""
    if lead.source == LeadSource.TELEGRAM:
        if not lead.contact_telegram:
            return "У заявки нет Telegram-идентификатора отправителя: ответить в Telegram нельзя."
        if _integration(lead, IntegrationType.TELEGRAM) is None:
            return "Нет активной интеграции Telegram для продаж: руководитель включает её в «Интеграции»."
        return ""
    if lead.source == LeadSource.WHATSAPP:
        if not lead.contact_whatsapp:
            return "У заявки нет номера WhatsApp отправителя: ответить в WhatsApp нельзя."
        last_incoming = last_incoming or _last_incoming(lead)
        if last_incoming is None or timezone.now() - last_incoming.received_at > WHATSAPP_WINDOW:
            return ("Клиент писал в WhatsApp больше 24 часов назад: WhatsApp разрешает ответить только в "
                    "течение 24 часов после его сообщения. Позвоните клиенту или дождитесь его сообщения.")
        if _integration(lead, IntegrationType.WHATSAPP) is None:
            return "Нет активной интеграции WhatsApp для продаж: руководитель включает её в «Интеграции»."
        return ""
    if lead.source == LeadSource.EMAIL:
        if not lead.contact_email:
            return "У заявки нет e-mail отправителя: ответить письмом нельзя."
        if _integration(lead, IntegrationType.EMAIL) is None:
            return ("Нет почтовой интеграции с настройками SMTP: руководитель заполняет SMTP-сервер, логин и "
                    "пароль в «Интеграции».")
        return ""
    return (f"Ответ в канал «{lead.get_source_display()}» из CRM не отправляется: "
            "ответьте клиенту напрямую и отметьте это в заметках.")


def _integration(lead: Lead, kind: str) -> IntegrationSettings | None:
    """The integration the customer wrote to (their last message's), else the first active sales one."""
    active = IntegrationSettings.objects.filter(type=kind, is_active=True)
    if kind == IntegrationType.EMAIL:
        active = active.exclude(smtp_host="")
    last = _last_incoming(lead)
    wrote_to = (last.payload or {}).get("integration_id") if last is not None else None
    found = active.filter(pk=wrote_to).first() if wrote_to else None
    return found or active.filter(purpose=Purpose.SALES).order_by("id").first()


def reply_documents(lead: Lead, user) -> list[Document]:
    """Documents of the lead's order the user may attach (the newest first)."""
    if not lead.order_id:
        return []
    return list(documents_visible_to(user).filter(order_id=lead.order_id).order_by("-generated_at", "-id")[:20])


def _stored_files(files, documents: list[Document]) -> list[dict]:
    """Uploads go to object storage (encrypted, random keys); documents are referenced as they are."""
    if len(files) + len(documents) > MAX_FILES:
        raise BusinessError(f"Не больше {MAX_FILES} файлов в одном ответе.", code="reply_too_many_files",
                            fields={"files": [f"Не больше {MAX_FILES} файлов."]})
    total = sum(f.size for f in files) + sum(d.size for d in documents)
    if total > MAX_FILES_BYTES:
        raise BusinessError("Файлы ответа больше 20 МБ вместе.", code="reply_files_too_big",
                            fields={"files": ["Не больше 20 МБ вместе."]})
    specs = [{"key": d.file.name, "name": download_name(d), "content_type": "application/pdf", "size": d.size,
              "document_id": d.pk} for d in documents]
    for upload in files:
        key = default_storage.save(random_key("outbound", upload.name), upload)
        specs.append({"key": key, "name": upload.name[:200], "size": upload.size,
                      "content_type": upload.content_type or "application/octet-stream"})
    return specs


def _email_meta(lead: Lead, integration: IntegrationSettings) -> dict:
    incoming = list(
        LeadMessage.objects.filter(lead=lead, direction=MessageDirection.INCOMING, channel=LeadSource.EMAIL)
        .order_by("received_at", "id").values_list("payload", flat=True)
    )
    ids = [p.get("message_id") for p in incoming if (p or {}).get("message_id")]
    subject = next((p.get("subject") for p in reversed(incoming) if (p or {}).get("subject")), "")
    if subject and not subject.lower().startswith(("re:", "re :")):
        subject = f"Re: {subject}"
    domain = integration.sender_address.rpartition("@")[2] or "travelcrm.local"
    return {
        "to": lead.contact_email, "subject": subject or f"Ваша заявка № {lead.number}",
        "in_reply_to": ids[-1] if ids else "", "references": ids[-REFERENCES_KEPT:],
        "message_id": email.utils.make_msgid(domain=domain),
    }


@transaction.atomic
def lead_reply(*, lead: Lead, text: str, token: str, actor, files=(), document_ids=()) -> OutboundMessage:
    text = (text or "").strip()
    files = list(files)
    if not text and not files and not document_ids:
        raise BusinessError("Напишите текст ответа.", code="reply_empty", fields={"text": ["Обязательное поле."]})
    if len(text) > MAX_REPLY:
        raise BusinessError(f"Ответ длиннее {MAX_REPLY} символов.", code="reply_too_long",
                            fields={"text": [f"Не больше {MAX_REPLY} символов."]})
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    problem = reply_channel_problem(lead)
    if problem:
        raise BusinessError(problem, code="reply_channel_unavailable")
    key = f"lead-reply:{lead.pk}:{token}"
    existing = OutboundMessage.objects.filter(key=key).first()
    if existing is not None:  # a double click: the first one is on its way
        return existing
    documents = _documents(lead, actor, document_ids)
    integration = _integration(lead, lead.source)
    sent_text, buttons = text, []
    if not OutboundMessage.objects.filter(lead_pk=lead.pk).exists():
        sent_text, buttons = consent.consent_offer(lead, lead.source, text)
        sent_text = sent_text.strip()  # a reply of files only: the consent paragraph alone
    chat_id, meta = _recipient(lead, integration)
    message, created = outbound_enqueue(
        channel=lead.source, integration=integration, key=key, chat_id=chat_id, text=sent_text,
        lead_pk=lead.pk, buttons=buttons, attachments=_stored_files(files, documents), meta=meta, created_by=actor,
    )
    if created:
        LeadMessage.objects.create(
            lead=lead, channel=lead.source, direction=MessageDirection.OUTGOING, text=sent_text,
            external_id=f"outbound:{message.pk}", received_at=timezone.now(),
            payload={"outbound_id": message.pk, "files": [a["name"] for a in message.attachments]},
        )
    return message


def _documents(lead: Lead, actor, document_ids) -> list[Document]:
    ids = {int(pk) for pk in document_ids if str(pk).isdigit()}
    if not ids:
        return []
    documents = [d for d in reply_documents(lead, actor) if d.pk in ids]
    if len(documents) != len(ids):
        raise BusinessError("Документ не относится к заказу этой заявки.", code="reply_document_invalid",
                            fields={"documents": ["Выберите документ заказа заявки."]})
    for document in documents:
        require_download_right(actor, document)
    return documents


def _recipient(lead: Lead, integration: IntegrationSettings) -> tuple[str, dict]:
    """(what the row shows as the recipient, the encrypted recipient and headers)."""
    if lead.source == LeadSource.TELEGRAM:
        return lead.contact_telegram, {}
    if lead.source == LeadSource.WHATSAPP:
        wa_id = "".join(ch for ch in lead.contact_whatsapp if ch.isdigit())
        return mask_phone(f"+{wa_id}"), {"to": wa_id}
    return mask_email(lead.contact_email), _email_meta(lead, integration)


def reply_resend(*, lead: Lead, message_id: int, actor) -> OutboundMessage:
    """«Отправить ещё раз» for an unconfirmed or failed reply of this lead."""
    message = outbound_resend(message_id=message_id, lead_pk=lead.pk)
    if message is None:
        raise BusinessError("Это сообщение уже отправлено или стоит в очереди.", code="reply_not_resendable")
    return message


def lead_outbound(lead: Lead) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(lead_pk=lead.pk).order_by("-id")[:30])


def delivery_statuses(lead_id: int) -> dict:
    """{"outbound:<id>": "отправлено 05.12 14:03" | "не отправлено: причина" | …} for the conversation."""
    statuses = {}
    rows = OutboundMessage.objects.filter(lead_pk=lead_id).values_list("pk", "status", "error", "sent_at")
    for pk, status, error, sent_at in rows:
        label = OutboundStatus(status).label
        if sent_at is not None and status == OutboundStatus.SENT:
            label += f" {timezone.localtime(sent_at):%d.%m.%Y %H:%M}"
        elif error and status != OutboundStatus.SENT:
            label += f": {error}"
        statuses[f"outbound:{pk}"] = label
    return statuses
