"""Jobs of the integrations app (autodiscovered by Procrastinate; see docs/development.md «Jobs»)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from apps.integrations import outbound
from apps.integrations.email.handlers import mailbox_poll
from apps.integrations.errors import ChannelError
from apps.integrations.inbox import inbox_reprocess
from apps.integrations.models import IntegrationSettings, IntegrationType
from apps.integrations.telegram import client as telegram
from apps.jobs.retry import Backoff, PermanentError, RetryLater
from apps.jobs.schedules import periodic

REPLY_RETRY = Backoff(max_attempts=10, base=2, cap=300)


@app.task(name="integrations.send_outbound", queue="replies", retry=REPLY_RETRY, pass_context=True)
async def send_outbound(context, *, message_id: int) -> str:
    """Send one OutboundMessage. Already sent → nothing (a re-run after a crash between the send
    and the commit of `sent` is the only way to send twice, a window of one UPDATE)."""
    loaded = await sync_to_async(outbound.outbound_load)(message_id)
    if loaded is None:
        return "skipped"
    _channel, token, chat_id, text = loaded
    final = context.job.attempts + 1 >= REPLY_RETRY.max_attempts
    try:
        external_id = await telegram.send_message_async(token, chat_id, text)
    except telegram.RateLimited as error:
        await sync_to_async(outbound.outbound_mark_attempt)(message_id, error.detail, final=final)
        raise RetryLater(error.retry_after, "telegram 429") from None
    except telegram.ChannelRejected as error:
        await sync_to_async(outbound.outbound_mark_attempt)(message_id, error.detail, final=True)
        raise PermanentError(error.code) from None
    except telegram.ChannelError as error:
        await sync_to_async(outbound.outbound_mark_attempt)(message_id, error.detail, final=final)
        raise
    await sync_to_async(outbound.outbound_mark_sent)(message_id, str(external_id))
    return "sent"


# --- Periodic intake work ---------------------------------------------------------------------


@periodic("mail_poll")
@app.task(name="integrations.poll_mailboxes", queue="default", queueing_lock="integrations.poll_mailboxes")
def poll_mailboxes(timestamp: int) -> int:
    """Every minute: one poll job per active mailbox. `lock` runs the polls of one mailbox one
    after another (never two IMAP sessions on one mailbox); `queueing_lock` keeps at most one
    waiting, so a slow mailbox does not pile up polls."""
    queued = 0
    for mailbox_id in IntegrationSettings.objects.filter(type=IntegrationType.EMAIL, is_active=True).values_list(
        "pk", flat=True
    ):
        try:
            with transaction.atomic():
                poll_mailbox.configure(lock=f"mailbox:{mailbox_id}", queueing_lock=f"mailbox:{mailbox_id}").defer(
                    integration_id=mailbox_id
                )
            queued += 1
        except AlreadyEnqueued:
            continue
    return queued


@app.task(name="integrations.poll_mailbox", queue="intake", retry=False)
def poll_mailbox(*, integration_id: int) -> dict:
    """Take the new e-mails of one mailbox (a failure is recorded on the mailbox; the next minute's
    poll is the retry)."""
    mailbox = IntegrationSettings.objects.filter(pk=integration_id, type=IntegrationType.EMAIL, is_active=True).first()
    if mailbox is None:
        return {}
    try:
        return mailbox_poll(integration=mailbox, limit=settings.MAIL_POLL_LIMIT)
    except ChannelError as error:  # kept on the mailbox (admin, API); the next minute retries
        return {"error": error.code}


@periodic("inbox_retry")
@app.task(name="integrations.reprocess_inbox", queue="default", queueing_lock="integrations.reprocess_inbox")
def reprocess_inbox(timestamp: int) -> dict:
    """Retry the inbox items that failed (S3 or a channel was down), at most 20 times each."""
    return inbox_reprocess(limit=500, max_attempts=20)
