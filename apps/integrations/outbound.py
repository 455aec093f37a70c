"""Messages to customers (and managers' notices): stored and enqueued in the caller's transaction, sent by a job.

`outbound_enqueue` is the one way to send on a channel (the bot's receipt, a manager's reply from
the lead, a new-lead notice). It writes an OutboundMessage under an idempotency key and defers
`send_outbound` in the same transaction: a rolled-back request sends nothing, a committed one
always sends (the job survives worker restarts), and a second call with the same key is a no-op.

Never twice — the states of one message:

    pending ──claim (committed before the call)──▶ sending ──answer──▶ sent
       ▲                                             │ └──refused──▶ failed
       └──── not delivered (no connection, 429, 5xx) ┘
    sending, found by a later run (its worker died mid-call) ──▶ unconfirmed
    unconfirmed | failed ──«Отправить ещё раз» (a person)──▶ pending

Telegram, WhatsApp and SMTP take no idempotency key, so a message whose attempt was cut between
the request and the answer cannot be known to be delivered. It is not re-sent blindly: it shows
as «доставка не подтверждена» in the lead's conversation and the manager decides.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from apps.integrations import queries
from apps.integrations.models import IntegrationSettings, OutboundMessage, OutboundStatus

logger = logging.getLogger("travelcrm.integrations.outbound")

SENDERS = {"telegram", "whatsapp", "email"}  # channels a job can send through
UNCONFIRMED_DEAD = (
    "Попытка отправки прервалась до ответа канала (процесс остановлен): клиент мог получить сообщение, "
    "а мог и нет. Уточните у клиента или нажмите «Отправить ещё раз»."
)


@transaction.atomic(savepoint=False)  # joins the caller's transaction: no SAVEPOINT on the hot path
def outbound_enqueue(
    *,
    channel: str,
    integration: IntegrationSettings,
    key: str,
    chat_id: int | str,
    text: str,
    lead_pk: int | None = None,
    buttons: list[dict] | None = None,
    attachments: list[dict] | None = None,
    meta: dict | None = None,
    created_by=None,
) -> tuple[OutboundMessage, bool]:
    """Store the message and enqueue its sending. Returns (message, created); an existing key
    returns the stored message and enqueues nothing."""
    if channel not in SENDERS:
        raise ValueError(f"no sender for channel {channel!r}")
    key = key[:200]
    message = OutboundMessage(
        channel=channel, integration=integration, key=key, chat_id=str(chat_id)[:64], text=text, lead_pk=lead_pk,
        buttons=buttons or [], attachments=attachments or [], meta=meta or {},
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    # One statement: INSERT … ON CONFLICT DO NOTHING and, only when it wrote the row, the job's
    # defer (the issue-15 webhook benchmark: one round trip and no Procrastinate Python per reply) —
    # the replies drain's (drain.py) for a Telegram text, the message's own send_outbound otherwise.
    # A key already stored (or being stored by a concurrent transaction, which this waits for)
    # returns no row: nothing new is enqueued and the stored message is read back.
    if drains(channel, attachments):
        message.by_drain = True
        pk = queries.outbound_insert_draining(message, drain_job())
    else:
        pk = queries.outbound_insert_deferring(message, send_job())
    if pk is None:
        return OutboundMessage.objects.get(key=key), False
    message.pk = pk
    message._state.adding, message._state.db = False, "default"
    return message, True


def drains(channel: str, attachments: list | None) -> bool:
    """Whether a new message's first attempt belongs to the replies drain (drain.py): a Telegram
    text (with buttons). Files and the other channels keep a job per message — their sending goes
    through the ORM's thread anyway (object storage, the synchronous WhatsApp and SMTP clients)."""
    return channel == "telegram" and not attachments


@functools.cache
def send_job() -> queries.JobSpec:
    """The job send_outbound.defer() writes (queue, name, priority, locks), read from the task once."""
    from apps.integrations.tasks import send_outbound

    return _spec(send_outbound.configure().job)


@functools.cache
def drain_job() -> queries.JobSpec:
    """The job drain_replies.defer() writes (its queueing lock keeps at most one waiting)."""
    from apps.integrations.tasks import drain_replies

    return _spec(drain_replies.configure().job)


def _spec(job) -> queries.JobSpec:
    return queries.JobSpec(
        queue=job.queue, task_name=job.task_name, priority=job.priority, lock=job.lock,
        queueing_lock=job.queueing_lock,
    )


def _defer(message_id: int) -> None:
    from apps.integrations.tasks import send_outbound

    send_outbound.defer(message_id=message_id)


@dataclass(frozen=True)
class Outgoing:
    """What a send attempt needs, read once when it starts."""

    id: int
    channel: str
    integration: IntegrationSettings
    chat_id: str
    text: str
    buttons: list = field(default_factory=list)
    attachments: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    parts_done: int = 0

    @property
    def token(self) -> str:
        return self.integration.api_token_encrypted


def outbound_claim(message_id: int) -> tuple[str, Outgoing | None]:
    """Start an attempt: pending → sending, committed before anything leaves.

    Returns ("send", outgoing); or ("unconfirmed", None) when an earlier attempt was left in flight
    (its worker died between the request and the answer: not sent again); or ("skipped", None)
    when the message is sent, failed, unconfirmed or gone.

    One statement on the worker's autocommit connection (it commits by itself, like the
    transaction it replaced): UPDATE … FROM the integration … RETURNING what the attempt needs.
    """
    claimed = _claim_returning(message_id)
    if claimed is None:
        # Only a dead attempt leaves `sending` behind: a live one ends in sent / pending / failed /
        # unconfirmed before its job returns, and a job runs on one worker at a time.
        left = OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.SENDING).update(
            status=OutboundStatus.UNCONFIRMED, error=UNCONFIRMED_DEAD
        )
        if left:
            logger.warning("outbound message left in flight by a dead attempt", extra={"outbound_id": message_id})
            return "unconfirmed", None
        return "skipped", None
    return "send", claimed


def _claim_returning(message_id: int) -> Outgoing | None:
    claimed = queries.outbound_claim_pending(message_id, timezone.now())
    if claimed is None:
        return None
    message, integration = claimed
    return Outgoing(
        id=message_id, channel=message["channel"], integration=integration, chat_id=message["chat_id"],
        text=message["text"], buttons=list(message["buttons"] or []), attachments=list(message["attachments"] or []),
        meta=dict(message["meta"] or {}), parts_done=message["parts_done"],
    )


def outbound_progress(message_id: int, parts_done: int) -> None:
    """A part (the text, one file) was delivered: committed at once, so a resend skips it."""
    OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.SENDING).update(parts_done=parts_done)


def outbound_mark_sent(message_id: int, external_id: str) -> None:
    # From `unconfirmed` too: a slow attempt that answers after a re-run gave it up still wins.
    OutboundMessage.objects.filter(
        pk=message_id, status__in=(OutboundStatus.SENDING, OutboundStatus.UNCONFIRMED)
    ).update(status=OutboundStatus.SENT, sent_at=timezone.now(), external_id=external_id[:255], error="")


def outbound_release(message_id: int, error: str, *, final: bool) -> None:
    """The attempt delivered nothing (no connection, 429, 5xx, a refusal): back to pending for the
    job's retry, or failed for good when `final`."""
    status = OutboundStatus.FAILED if final else OutboundStatus.PENDING
    OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.SENDING).update(
        status=status, error=error[:500]
    )
    if final:
        logger.warning("outbound message failed for good", extra={"outbound_id": message_id})


def outbound_mark_unconfirmed(message_id: int, error: str) -> None:
    """The request left and no answer came: the customer may have it; not retried."""
    OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.SENDING).update(
        status=OutboundStatus.UNCONFIRMED, error=error[:500]
    )
    logger.warning("outbound message delivery unconfirmed", extra={"outbound_id": message_id})


@transaction.atomic
def outbound_resend(*, message_id: int, lead_pk: int | None = None) -> OutboundMessage | None:
    """«Отправить ещё раз»: an unconfirmed or failed message goes back to the queue (a person
    decided that a possible second copy is better than none). Parts already delivered are skipped.
    Returns the message, or None when it cannot be resent (already sent, in the queue, not this lead's)."""
    queryset = OutboundMessage.objects.select_for_update().filter(
        pk=message_id, status__in=(OutboundStatus.UNCONFIRMED, OutboundStatus.FAILED)
    )
    if lead_pk is not None:
        queryset = queryset.filter(lead_pk=lead_pk)
    message = queryset.first()
    if message is None:
        return None
    # Out of the drain for good: a resend is the message's own job.
    message.status, message.error, message.by_drain = OutboundStatus.PENDING, "", False
    message.save(update_fields=["status", "error", "by_drain"])
    _defer(message.pk)
    return message
