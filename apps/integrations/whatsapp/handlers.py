"""WhatsApp Cloud API message → lead (text and media; statuses never reach here)."""

from apps.integrations import ingest as door
from apps.integrations.inbox import HandlerResult
from apps.integrations.models import InboxItem
from apps.integrations.whatsapp import client

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
    if kind in ("button", "interactive"):
        return str(message.get(kind))
    return ""


def _attachment(token: str, message: dict):
    kind = message.get("type")
    if kind not in MEDIA_KINDS:
        return None
    media = message.get(kind) or {}
    info, content = client.download_media(token, media["id"])
    content_type = media.get("mime_type") or info.get("mime_type") or "application/octet-stream"
    extension = content_type.split("/")[-1].split(";")[0]
    name = media.get("filename") or f"{kind}_{media['id']}.{extension}"
    size = int(info.get("file_size") or (len(content) if content else 0))
    note = "" if content is not None else TOO_BIG_NOTE
    return door.attachment(name=name, content_type=content_type, content=content, size=size, note=note)


def handle_item(item: InboxItem) -> HandlerResult:
    data = item.payload or {}
    message = data.get("message") or {}
    integration = item.integration
    attachment = _attachment(integration.api_token_encrypted, message)
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
    notes = [attachment.note] if attachment and attachment.note else []
    return HandlerResult(lead=result.lead, created=result.created, notes=notes)
