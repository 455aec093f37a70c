"""Messages to customers: stored and enqueued in the caller's transaction, sent by a job.

`outbound_enqueue` is the one way to answer a customer on a channel (the bot's receipt, a
manager's reply from the lead). It writes an OutboundMessage under an idempotency key and defers
`send_outbound` in the same transaction: a rolled-back request sends nothing, a committed one
always sends (the job survives worker restarts), and a second call with the same key is a no-op.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.integrations.models import IntegrationSettings, OutboundMessage, OutboundStatus

logger = logging.getLogger("travelcrm.integrations.outbound")

SENDERS = {"telegram"}  # channels a job can send through today


@transaction.atomic(savepoint=False)  # joins the caller's transaction: no SAVEPOINT on the hot path
def outbound_enqueue(
    *,
    channel: str,
    integration: IntegrationSettings,
    key: str,
    chat_id: int | str,
    text: str,
    lead_pk: int | None = None,
) -> tuple[OutboundMessage, bool]:
    """Store the message and enqueue its sending. Returns (message, created); an existing key
    returns the stored message and enqueues nothing."""
    if channel not in SENDERS:
        raise ValueError(f"no sender for channel {channel!r}")
    key = key[:200]
    # Callers hold a lock on the cause (the inbox item, the lead), so read-then-insert does not
    # race; if it ever did, the unique key fails the caller's transaction and nothing is sent.
    existing = OutboundMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    message = OutboundMessage.objects.create(
        channel=channel, integration=integration, key=key, chat_id=str(chat_id), text=text, lead_pk=lead_pk
    )
    from apps.integrations.tasks import send_outbound

    send_outbound.defer(message_id=message.pk)
    return message, True


def outbound_load(message_id: int) -> tuple[str, str, str, str] | None:
    """(channel, token, chat_id, text) of a message still to send, or None when sent / failed / gone."""
    message = (
        OutboundMessage.objects.select_related("integration")
        .filter(pk=message_id, status=OutboundStatus.PENDING)
        .first()
    )
    if message is None:
        return None
    return message.channel, message.integration.api_token_encrypted, message.chat_id, message.text


def outbound_mark_sent(message_id: int, external_id: str) -> None:
    OutboundMessage.objects.filter(pk=message_id).update(
        status=OutboundStatus.SENT, sent_at=timezone.now(), external_id=external_id[:64], attempts=F("attempts") + 1
    )


def outbound_mark_attempt(message_id: int, error: str, *, final: bool) -> None:
    """Record a failed attempt; `final` marks the message failed (the job gives up)."""
    updates = {"error": error[:500], "attempts": F("attempts") + 1}
    if final:
        updates["status"] = OutboundStatus.FAILED
    OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.PENDING).update(**updates)
    if final:
        logger.warning("outbound message failed for good", extra={"outbound_id": message_id})
