"""WhatsApp Cloud API message → lead (text and media; statuses never reach here)."""

from apps.integrations import consent, media
from apps.integrations import ingest as door
from apps.integrations.inbox import HandlerResult
from apps.integrations.models import InboxItem

MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
TOO_BIG_NOTE = "Файл слишком большой, не загружен из WhatsApp."


def _text(message: dict) -> str:
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body", "")
    if kind in MEDIA_KINDS:
        return (message.get(kind) or {}).get("caption", "")
    if kind == "contacts":
        lines = []
        for contact in message.get("contacts") or []:
            name = (contact.get("name") or {}).get("formatted_name", "")
            phones = ", ".join(p.get("phone", "") for p in contact.get("phones") or [])
            lines.append(f"Контакт: {name} {phones}".strip())
        return "\n".join(lines)
    if kind == "location":
        loc = message.get("location") or {}
        return f"Местоположение: {loc.get('name', '')} {loc.get('latitude')}, {loc.get('longitude')}".strip()
    if kind == "interactive":  # a press of our reply button: its title is what the customer "said"
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("title") or "")
    if kind == "button":  # a template's quick-reply button
        return str((message.get("button") or {}).get("text") or "")
    return ""


def _button_id(message: dict) -> str:
    interactive = message.get("interactive") or {} if message.get("type") == "interactive" else {}
    return str((interactive.get("button_reply") or {}).get("id") or "")


def _attachment(message: dict):
    """The media as ingest stores it now, without content: a job downloads it (media.py)."""
    kind = message.get("type")
    if kind not in MEDIA_KINDS:
        return None
    info = message.get(kind) or {}
    content_type = info.get("mime_type") or "application/octet-stream"
    extension = content_type.split("/")[-1].split(";")[0]
    name = info.get("filename") or f"{kind}_{info['id']}.{extension}"
    return door.attachment(name=name, content_type=content_type, content=None, size=0, note=media.PENDING_NOTE)


def handle_item(item: InboxItem) -> HandlerResult:
    data = item.payload or {}
    message = data.get("message") or {}
    integration = item.integration
    attachment = _attachment(message)
    text = _text(message)
    if not text and attachment is None:
        return HandlerResult(ignored=True, notes=[f"Сообщение типа «{message.get('type')}» не поддерживается."])
    wa_id = message.get("from", "")
    profile = next((c for c in data.get("contacts") or [] if c.get("wa_id") == wa_id), {})
    sender = {
        "whatsapp_id": wa_id,
        "phone": f"+{wa_id}" if wa_id.isdigit() else "",
        "name": (profile.get("profile") or {}).get("name", ""),
    }
    result = door.ingest(
        channel="whatsapp",
        external_id=message["id"],
        sender={key: value for key, value in sender.items() if value},
        text=text,
        payload={
            "integration_id": integration.pk,
            "purpose": integration.purpose,
            "phone_number_id": (data.get("metadata") or {}).get("phone_number_id"),
            "message_id": message["id"],
            "type": message.get("type"),
        },
        attachments=[attachment] if attachment else [],
    )
    button = _button_id(message)
    if not result.duplicate and button.startswith(consent.CALLBACK_PREFIX):
        # Our consent button: counts for the lead it names only when wa_id is that lead's sender.
        consent.consent_from_button(data=button, channel="whatsapp", sender_id=wa_id,
                                    evidence=f"whatsapp:{message['id']}")
    elif not result.duplicate and consent.is_agreement(text):
        # «Согласен» from the verified wa_id: the sender's consent (152-FZ).
        consent.consent_from_lead(lead=result.lead, channel="whatsapp", message_id=f"whatsapp:{message['id']}")
    if attachment is not None and not result.duplicate:
        kind = message["type"]
        media.media_enqueue(
            message=result.message, channel="whatsapp", integration_id=integration.pk, refs=[message[kind]["id"]]
        )
    return HandlerResult(lead=result.lead, created=result.created)
