"""Jobs of the integrations app (autodiscovered by Procrastinate; see docs/development.md «Jobs»)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from apps.integrations import ingest as door
from apps.integrations import media, outbound
from apps.integrations.email.handlers import mailbox_poll
from apps.integrations.errors import ChannelError, ChannelRejected
from apps.integrations.inbox import inbox_reprocess
from apps.integrations.models import IntegrationSettings, IntegrationType
from apps.integrations.telegram import client as telegram
from apps.integrations.telegram.handlers import TOO_BIG_NOTE as TELEGRAM_TOO_BIG_NOTE
from apps.integrations.whatsapp import client as whatsapp
from apps.integrations.whatsapp.handlers import TOO_BIG_NOTE as WHATSAPP_TOO_BIG_NOTE
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
    except ChannelRejected as error:
        await sync_to_async(outbound.outbound_mark_attempt)(message_id, error.detail, final=True)
        raise PermanentError(error.code) from None
    except ChannelError as error:
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


# --- Media downloads --------------------------------------------------------------------------

MEDIA_RETRY = Backoff(max_attempts=8, base=5, cap=900)  # ~20 minutes of tries


@app.task(name="integrations.fetch_media", queue="intake", retry=MEDIA_RETRY, pass_context=True)
def fetch_media(context, *, attachment_id: int, channel: str, integration_id: int, ref: str) -> str:
    """Download one file of an incoming message and attach it to the lead. A file the channel will
    never give (too big, unknown id, bot removed) or the last failed try leaves a note instead."""
    integration = IntegrationSettings.objects.filter(pk=integration_id).first()
    final = context.job.attempts + 1 >= MEDIA_RETRY.max_attempts
    try:
        if integration is None:
            raise ChannelRejected("интеграция удалена")
        content, note = _download(channel, integration.api_token_encrypted, ref)
        door.attachment_fill(attachment_id=attachment_id, content=content, note=note)
    except Exception as error:
        if not final and not isinstance(error, ChannelRejected):
            raise  # retried with backoff: network, the channel's 5xx, object storage down
        reason = error.detail if isinstance(error, ChannelError) else "хранилище файлов недоступно"
        door.attachment_fill(attachment_id=attachment_id, content=None, note=media.FAILED_NOTE.format(reason=reason))
        return "failed"
    return "stored" if content is not None else "noted"


def _download(channel: str, token: str, ref: str) -> tuple[bytes | None, str]:
    if channel == "telegram":
        try:
            return telegram.download_file(token, ref), ""
        except telegram.FileTooBig:
            return None, TELEGRAM_TOO_BIG_NOTE
    _info, content = whatsapp.download_media(token, ref)
    return content, ("" if content is not None else WHATSAPP_TOO_BIG_NOTE)
