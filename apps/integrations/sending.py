"""One send attempt per channel: the text (with its buttons), then each file, part by part.

Every delivered part is committed (`outbound_progress`) before the next one leaves, so a message
interrupted after its text and first file continues with the second file when it is sent again.
E-mail is one part (one letter with its MIME attachments). Errors are the channel clients'
ChannelError family; the job (tasks.send_outbound) turns them into retry / failed / unconfirmed.
"""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

from asgiref.sync import sync_to_async
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage

from apps.integrations import outbound
from apps.integrations.email import smtp
from apps.integrations.errors import ChannelError, ChannelRejected
from apps.integrations.outbound import Outgoing
from apps.integrations.telegram import client as telegram
from apps.integrations.whatsapp import client as whatsapp

WHATSAPP_BUTTON_BODY = 1024  # Cloud API limit of an interactive message's body
CONSENT_BUTTON_PROMPT = "Нажмите кнопку, чтобы дать согласие на обработку персональных данных."


def read_file(spec: dict) -> bytes:
    """An attachment's bytes from object storage (decrypted by the storage backend)."""
    missing = ChannelRejected(f"Файл «{spec.get('name', '')}» не найден в хранилище.", code="file_missing")
    try:
        with default_storage.open(spec["key"], "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise missing from None
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise missing from None
        raise ChannelError("Хранилище файлов недоступно.", code="storage_unavailable") from None
    except OSError:  # read before the part is sent: nothing left, a retry is safe
        raise ChannelError("Хранилище файлов недоступно.", code="storage_unavailable") from None


async def deliver(out: Outgoing) -> str:
    """Send what is left of the message; returns the external id of its last part."""
    if out.channel == "telegram":
        return await _telegram(out)
    if out.channel == "whatsapp":
        return await sync_to_async(_whatsapp)(out)
    if out.channel == "email":
        return await sync_to_async(_email)(out)
    raise ChannelRejected(f"Канал «{out.channel}» не умеет отправлять.", code="no_sender")


async def _telegram(out: Outgoing) -> str:
    done, last = out.parts_done, ""
    parts: list = []
    if out.text:
        parts.append(("text", None))
    parts += [("file", spec) for spec in out.attachments]
    for index, (kind, spec) in enumerate(parts):
        if index < done:
            continue
        if kind == "text":
            last = str(await telegram.send_message_async(out.token, out.chat_id, out.text, buttons=out.buttons))
        else:
            content = await sync_to_async(read_file)(spec)
            last = str(await telegram.send_document_async(out.token, out.chat_id, content, spec["name"]))
        if len(parts) > 1:
            await sync_to_async(outbound.outbound_progress)(out.id, index + 1)
    return last


def _whatsapp(out: Outgoing) -> str:
    token, number, to = out.token, out.integration.phone_number_id, out.meta.get("to", "")
    if not to:
        raise ChannelRejected("Нет номера WhatsApp получателя.", code="no_recipient")
    parts: list = []
    if out.buttons and len(out.text) <= WHATSAPP_BUTTON_BODY:
        parts.append(lambda: whatsapp.send_buttons(token, number, to, out.text, out.buttons))
    else:
        if out.text:
            parts.append(lambda: whatsapp.send_text(token, number, to, out.text))
        if out.buttons:  # the text is too long for a button message: the buttons follow it
            parts.append(lambda: whatsapp.send_buttons(token, number, to, CONSENT_BUTTON_PROMPT, out.buttons))
    for spec in out.attachments:
        parts.append(lambda spec=spec: _whatsapp_file(token, number, to, spec))
    last = ""
    for index, part in enumerate(parts):
        if index < out.parts_done:
            continue
        last = part()
        if len(parts) > 1:
            outbound.outbound_progress(out.id, index + 1)
    return last


def _whatsapp_file(token: str, number: str, to: str, spec: dict) -> str:
    media_id = whatsapp.upload_media(token, number, read_file(spec), spec.get("content_type") or
                                     "application/octet-stream", spec["name"])
    return whatsapp.send_document(token, number, to, media_id, spec["name"])


def email_message(out: Outgoing) -> EmailMessage:
    """The letter: threaded to the customer's last message (In-Reply-To, References), «Re: …»."""
    integration, meta = out.integration, out.meta
    message = EmailMessage()
    message["From"] = email.utils.formataddr((integration.bot_name or "", integration.sender_address))
    message["To"] = meta["to"]
    message["Subject"] = meta.get("subject") or "Ответ на ваше обращение"
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = meta["message_id"]  # fixed at enqueue: a resend is the same letter
    if meta.get("in_reply_to"):
        message["In-Reply-To"] = meta["in_reply_to"]
        message["References"] = " ".join(meta.get("references") or [meta["in_reply_to"]])
    message.set_content(out.text)
    for spec in out.attachments:
        maintype, _, subtype = (spec.get("content_type") or "application/octet-stream").partition("/")
        message.add_attachment(read_file(spec), maintype=maintype, subtype=subtype or "octet-stream",
                               filename=spec["name"])
    return message


def _email(out: Outgoing) -> str:
    if not out.meta.get("to"):
        raise ChannelRejected("Нет адреса получателя.", code="no_recipient")
    smtp.send(out.integration, email_message(out), recipient=out.meta["to"])
    return out.meta["message_id"]
