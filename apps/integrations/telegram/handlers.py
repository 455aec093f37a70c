"""Telegram update → lead: text, contact, photo, document (and other files) messages."""

from apps.integrations import consent, media
from apps.integrations import ingest as door
from apps.integrations.inbox import HandlerResult
from apps.integrations.models import InboxItem
from apps.integrations.outbound import outbound_enqueue
from apps.integrations.telegram import client

FILE_KINDS = {
    # kind: (default name, default content type)
    "document": ("document", "application/octet-stream"),
    "video": ("video.mp4", "video/mp4"),
    "audio": ("audio.mp3", "audio/mpeg"),
    "voice": ("voice.ogg", "audio/ogg"),
}
TOO_BIG_NOTE = "Файл больше 20 МБ: Telegram не отдаёт такие файлы боту, попросите клиента прислать его иначе."
REPLY_NEW = "Ваша заявка № {number} получена. Менеджер свяжется с вами в ближайшее время."
REPLY_APPEND = "Ваше сообщение добавлено к заявке № {number}. Спасибо!"


def _sender(message: dict) -> dict:
    person = message.get("from") or {}
    name = " ".join(part for part in (person.get("first_name"), person.get("last_name")) if part)
    sender = {"name": name, "telegram_id": str(person.get("id", "")), "telegram_username": person.get("username", "")}
    contact = message.get("contact")
    if contact and contact.get("phone_number"):
        sender["phone"] = contact["phone_number"]
    return {key: value for key, value in sender.items() if value}


def _verified(message: dict) -> set[str]:
    """What Telegram vouches for beyond from.id: a shared contact is the sender's own phone only
    when its user_id is the sender's id (the "share my phone" button); anybody's contact can be
    forwarded, and that phone is only claimed."""
    contact = message.get("contact") or {}
    sender_id = (message.get("from") or {}).get("id")
    if contact.get("phone_number") and contact.get("user_id") is not None and contact.get("user_id") == sender_id:
        return {"phone"}
    return set()


def _text(message: dict) -> str:
    parts = [message.get("text") or message.get("caption") or ""]
    contact = message.get("contact")
    if contact:
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        parts.append(f"Контакт: {name} {contact.get('phone_number', '')}".strip())
    return "\n".join(part for part in parts if part)


def _files(message: dict) -> list[dict]:
    files = []
    if message.get("photo"):
        largest = max(message["photo"], key=lambda size: size.get("file_size") or size.get("width", 0))
        files.append(
            {
                "file_id": largest["file_id"],
                "name": f"photo_{largest.get('file_unique_id', 'telegram')}.jpg",
                "content_type": "image/jpeg",
                "size": largest.get("file_size") or 0,
            }
        )
    for kind, (default_name, default_type) in FILE_KINDS.items():
        data = message.get(kind)
        if data:
            files.append(
                {
                    "file_id": data["file_id"],
                    "name": data.get("file_name") or default_name,
                    "content_type": data.get("mime_type") or default_type,
                    "size": data.get("file_size") or 0,
                }
            )
    return files


def _announced(spec: dict):
    """The attachment as ingest stores it now: no content yet (a job downloads it), or — over the
    Bot API's 20 MB — never, with a note saying so."""
    note = TOO_BIG_NOTE if spec["size"] > client.MAX_DOWNLOAD_BYTES else media.PENDING_NOTE
    return door.attachment(
        name=spec["name"], content_type=spec["content_type"], content=None, size=spec["size"], note=note
    )


CONSENT_THANKS = "Спасибо! Согласие на обработку персональных данных получено."
CONSENT_REFUSED = "Эта кнопка относится к обращению другого человека."


def _callback(item: InboxItem, callback: dict) -> HandlerResult:
    """A press of our inline button: the consent button is the only one today."""
    from apps.integrations.tasks import answer_callback

    sender_id = (callback.get("from") or {}).get("id")
    message = callback.get("message") or {}
    chat_id = (message.get("chat") or {}).get("id")
    data = str(callback.get("data") or "")
    lead, given = None, None
    # A private chat with the bot has chat.id == from.id; a button pressed elsewhere does not count.
    if sender_id is not None and (chat_id is None or chat_id == sender_id):
        lead, given = consent.consent_from_button(
            data=data, channel="telegram", sender_id=str(sender_id),
            evidence=f"telegram:callback:{callback.get('id')}:message:{chat_id}:{message.get('message_id')}",
        )
    if callback.get("id"):
        answer_callback.defer(integration_id=item.integration_id, callback_query_id=str(callback["id"]),
                              text=CONSENT_THANKS if given else CONSENT_REFUSED)
    if given is None:
        return HandlerResult(ignored=True, notes=["Нажатие кнопки не от отправителя заявки — согласие не записано."])
    return HandlerResult(lead=lead, notes=["Согласие на обработку ПДн получено кнопкой в Telegram."])


def handle_item(item: InboxItem) -> HandlerResult:
    update = item.payload or {}
    if isinstance(update.get("callback_query"), dict):
        return _callback(item, update["callback_query"])
    message = update.get("message")
    if not message or not (message.get("from") or {}).get("id"):
        return HandlerResult(ignored=True, notes=["Обновление без сообщения клиента — пропущено."])
    integration = item.integration
    files = _files(message)
    attachments = [_announced(spec) for spec in files]
    text = _text(message)
    if not text and not attachments:
        return HandlerResult(ignored=True, notes=["Сообщение без текста и файлов — пропущено."])
    chat_id = (message.get("chat") or {}).get("id")
    result = door.ingest(
        channel="telegram",
        external_id=f"{integration.pk}:{update.get('update_id')}",
        sender=_sender(message),
        text=text,
        payload={
            "integration_id": integration.pk,
            "bot": integration.bot_name,
            "purpose": integration.purpose,
            "update_id": update.get("update_id"),
            "chat_id": chat_id,
            "message_id": message.get("message_id"),
        },
        attachments=attachments,
        verified=_verified(message),
    )
    downloads = [spec["file_id"] for spec, a in zip(files, attachments, strict=True) if a.note == media.PENDING_NOTE]
    if downloads and not result.duplicate:
        media.media_enqueue(message=result.message, channel="telegram", integration_id=integration.pk, refs=downloads)
    if not result.duplicate and consent.is_agreement(text):
        # «Согласен» in the chat: a confirming action from the verified from.id (152-FZ).
        consent.consent_from_lead(lead=result.lead, channel="telegram",
                                  message_id=f"telegram:{chat_id}:{message.get('message_id')}")
    if chat_id is not None and not result.duplicate:
        template = REPLY_NEW if result.created else REPLY_APPEND
        reply, buttons = template.format(number=door.lead_number(result.lead)), []
        if result.created:  # the first reply to the sender: the consent link and button
            reply, buttons = consent.consent_offer(result.lead, "telegram", reply)
        # Sent by a job enqueued in this transaction: one reply per lead message, never lost.
        outbound_enqueue(
            channel="telegram",
            integration=integration,
            key=f"telegram:reply:{result.message.pk}",
            chat_id=chat_id,
            text=reply,
            lead_pk=result.lead.pk,
            buttons=buttons,
        )
    notes = [a.note for a in attachments if a.note and a.note != media.PENDING_NOTE]
    return HandlerResult(lead=result.lead, created=result.created, notes=notes)
