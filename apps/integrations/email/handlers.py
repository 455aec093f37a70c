"""E-mail → lead: subject + text (HTML converted) + sender + attachments; and the mailbox poll."""

import base64
import hashlib
import logging

from django.utils import timezone

from apps.integrations import ingest as door
from apps.integrations.email import client, parsing
from apps.integrations.errors import ChannelError
from apps.integrations.inbox import HandlerResult, inbox_process, inbox_store
from apps.integrations.models import Channel, InboxItem, IntegrationSettings

logger = logging.getLogger("travelcrm.integrations.email")
MAX_MESSAGE_BYTES = 50 * 1024 * 1024


def handle_item(item: InboxItem) -> HandlerResult:
    raw = base64.b64decode((item.payload or {}).get("raw_b64", ""))
    mail = parsing.parse(raw)
    text = "\n\n".join(part for part in (f"Тема: {mail.subject}" if mail.subject else "", mail.text) if part)
    attachments = [
        door.attachment(name=f.name, content_type=f.content_type, content=f.content, size=len(f.content))
        for f in mail.files
    ]
    if not mail.sender_email and not text and not attachments:
        return HandlerResult(ignored=True, notes=["Пустое письмо без отправителя — пропущено."])
    integration = item.integration
    result = door.ingest(
        channel="email",
        external_id=item.external_id,
        sender={key: value for key, value in {"email": mail.sender_email, "name": mail.sender_name}.items() if value},
        text=text,
        payload={
            "integration_id": integration.pk if integration else None,
            "purpose": integration.purpose if integration else "",
            "subject": mail.subject,
            "message_id": mail.message_id,
            "mailbox": integration.imap_user if integration else "",
        },
        attachments=attachments,
        received_at=mail.date if mail.date and timezone.is_aware(mail.date) else None,
    )
    return HandlerResult(lead=result.lead, created=result.created)


def external_id_for(raw: bytes, uidvalidity, uid: int) -> str:
    """Message-ID when present (dedup across re-deliveries), else the mailbox position."""
    mail_id = parsing.parse(raw).message_id
    if mail_id:
        return mail_id if len(mail_id) <= 255 else "sha256:" + hashlib.sha256(mail_id.encode()).hexdigest()
    return f"uid:{uidvalidity}:{uid}"


def mailbox_poll(*, integration: IntegrationSettings, limit: int = 200) -> dict[str, int]:
    """Take new messages of one mailbox into the inbox, then process them. Each is taken once."""
    counts = {"fetched": 0, "duplicates": 0, "failed": 0}
    try:
        with client.connect(integration) as conn:
            uidvalidity = client.select(conn, integration.imap_folder)
            if uidvalidity != integration.imap_uidvalidity:
                integration.imap_uidvalidity, integration.imap_last_uid = uidvalidity, 0
            for uid in client.new_uids(conn, integration.imap_last_uid)[:limit]:
                _take(conn, integration, uidvalidity, uid, counts)
    except ChannelError as error:
        IntegrationSettings.objects.filter(pk=integration.pk).update(last_error=error.detail)
        raise
    integration.last_connected_at = timezone.now()
    integration.last_error = ""
    integration.save(
        update_fields=["imap_uidvalidity", "imap_last_uid", "last_connected_at", "last_error", "updated_at"]
    )
    return counts


def _take(conn, integration: IntegrationSettings, uidvalidity, uid: int, counts: dict) -> None:
    raw = client.fetch(conn, uid)
    if raw is None:
        return
    if len(raw) > MAX_MESSAGE_BYTES:
        raw = raw[:MAX_MESSAGE_BYTES]
    item, created = inbox_store(
        channel=Channel.EMAIL,
        integration=integration,
        external_id=external_id_for(raw, uidvalidity, uid),
        payload={"raw_b64": base64.b64encode(raw).decode("ascii"), "uid": uid, "uidvalidity": uidvalidity},
    )
    # The raw message is committed: from here on it cannot be lost, so mark it taken.
    client.mark_seen(conn, uid)
    integration.imap_last_uid = uid
    IntegrationSettings.objects.filter(pk=integration.pk).update(imap_last_uid=uid, imap_uidvalidity=uidvalidity)
    if not created:
        counts["duplicates"] += 1
        return
    counts["fetched"] += 1
    processed = inbox_process(item)
    if processed is not None and processed.status == "failed":
        counts["failed"] += 1
