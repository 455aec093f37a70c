"""Jobs of the integrations app (autodiscovered by Procrastinate; see docs/development.md «Jobs»)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, transaction
from django.urls import reverse
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from apps.integrations import drain, media, outbound, sending
from apps.integrations import ingest as door
from apps.integrations.email.handlers import mailbox_poll
from apps.integrations.errors import ChannelError, ChannelRejected, DeliveryUnknown, RateLimited
from apps.integrations.inbox import inbox_reprocess
from apps.integrations.models import IntegrationSettings, IntegrationType, Purpose
from apps.integrations.telegram import client as telegram
from apps.integrations.telegram.handlers import TOO_BIG_NOTE as TELEGRAM_TOO_BIG_NOTE
from apps.integrations.whatsapp import client as whatsapp
from apps.integrations.whatsapp.handlers import TOO_BIG_NOTE as WHATSAPP_TOO_BIG_NOTE
from apps.jobs.retry import Backoff, PermanentError, RetryLater
from apps.jobs.schedules import periodic
from apps.jobs.worker import own_connections

REPLY_RETRY = Backoff(max_attempts=10, base=2, cap=300)


@own_connections
@app.task(name="integrations.send_outbound", queue="replies", retry=REPLY_RETRY, pass_context=True)
async def send_outbound(context, *, message_id: int) -> str:
    """Send one OutboundMessage (see outbound.py for its states).

    The attempt is committed as `sending` before the call. Whatever provably delivered nothing
    (no connection, 429, 5xx, a 4xx refusal of an SMTP step) puts it back to pending and the job
    retries with backoff (429: after the channel's retry_after); a refusal fails it; a request
    that left without an answer — or an attempt killed in the middle, found here on the re-run —
    makes it «доставка не подтверждена», never a blind second send.

    The database is touched in two hops to the ORM's thread, one before the call (fresh
    connection + claim) and one after it (the outcome + connection hygiene), not five: this job
    runs once per reply, on the same cores as the web server.
    """
    state, out = await sync_to_async(_claim)(message_id)
    if out is None:
        return state
    final = context.job.attempts + 1 >= REPLY_RETRY.max_attempts
    try:
        external_id = await sending.deliver(out)
    except DeliveryUnknown as error:
        await sync_to_async(_after)(outbound.outbound_mark_unconfirmed, message_id, error.detail)
        return "unconfirmed"
    except RateLimited as error:
        await sync_to_async(_after)(outbound.outbound_release, message_id, error.detail, final=final)
        raise RetryLater(error.retry_after, "rate limited") from None
    except ChannelRejected as error:
        await sync_to_async(_after)(outbound.outbound_release, message_id, error.detail, final=True)
        raise PermanentError(error.code) from None
    except ChannelError as error:
        await sync_to_async(_after)(outbound.outbound_release, message_id, error.detail, final=final)
        raise
    except BaseException:
        # A bug or a cancellation mid-call: whether anything left is unknown — a person decides.
        await sync_to_async(_after)(outbound.outbound_mark_unconfirmed, message_id, "Внутренняя ошибка при отправке.")
        raise
    await sync_to_async(_after)(outbound.outbound_mark_sent, message_id, str(external_id))
    return "sent"


@periodic("reply_drain")
@app.task(name="integrations.drain_replies", queue="replies", lock="integrations.drain_replies",
          queueing_lock="integrations.drain_replies", retry=Backoff(max_attempts=20, base=1, cap=60),
          pass_context=True)
async def drain_replies(context, timestamp: int | None = None) -> dict:
    """Send every Telegram text reply that is waiting, several at once (apps/integrations/drain.py).
    Deferred with the reply that needs it; also every minute, to sweep up after a drain that died
    or failed all its runs (a database outage)."""
    return await drain.drain_replies(context.app.connector, context.job.id, retry_delay=_first_retry_delay)


def _first_retry_delay(error: ChannelError) -> int:
    """When a reply the drain could not deliver gets its first own attempt (429: retry_after)."""
    reason = RetryLater(error.retry_after) if isinstance(error, RateLimited) else error
    return REPLY_RETRY.seconds_after(reason, attempts=0)


def _claim(message_id: int):
    """The job's first hop: what the worker's connection middleware does before a job, then the claim
    (a claim that fails on a broken connection leaves the message pending: the job is retried)."""
    close_old_connections()
    try:
        return outbound.outbound_claim(message_id)
    except BaseException:
        close_old_connections()
        raise


def _after(record, *args, **kwargs) -> None:
    """The job's last hop: record the outcome, then what the middleware does after a job."""
    try:
        record(*args, **kwargs)
    finally:
        close_old_connections()


@app.task(name="integrations.answer_callback", queue="replies", retry=Backoff(max_attempts=3, base=1, cap=5))
def answer_callback(*, integration_id: int, callback_query_id: str, text: str) -> None:
    """answerCallbackQuery after a button press (the customer's spinner stops; a toast shows `text`).
    Telegram forgets a callback after a short while, so only a few quick tries."""
    integration = IntegrationSettings.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    try:
        telegram.answer_callback_query(integration.api_token_encrypted, callback_query_id, text)
    except ChannelRejected:
        return  # too old or already answered: nothing to do


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


# --- New-lead notices to managers -----------------------------------------------------------------

NEW_LEAD_NOTICE = "Новая заявка № {number} ({source}){whose}. Открыть: {url}"


@app.task(name="integrations.notify_new_lead", queue="default", retry=Backoff(max_attempts=5, base=5, cap=120))
def notify_new_lead(*, lead_id: int) -> int:
    """A new lead: a message from the operators' Telegram bot to its responsible manager, or to every
    manager (the operator role) when nobody is assigned — those who set a Telegram chat id on their
    profile. Each notice is an OutboundMessage (one per lead and manager, never twice). No personal
    data in the text: the number, the channel and a link."""
    from apps.accounts.models import Role, User
    from apps.leads.models import Lead

    bot = IntegrationSettings.objects.filter(
        type=IntegrationType.TELEGRAM, purpose=Purpose.OPERATORS, is_active=True
    ).order_by("id").first()
    lead = Lead.objects.filter(pk=lead_id).first()
    if bot is None or lead is None:
        return 0
    users = User.objects.filter(is_active=True).exclude(telegram_chat_id="")
    users = users.filter(pk=lead.operator_id) if lead.operator_id else users.filter(role=Role.OPERATOR)
    path = reverse("admin:leads_lead_change", args=[lead.pk])
    url = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}" if settings.PUBLIC_BASE_URL else path
    text = NEW_LEAD_NOTICE.format(number=lead.number, source=lead.get_source_display(), url=url,
                                  whose=", вы ответственный" if lead.operator_id else ", без ответственного")
    sent = 0
    with transaction.atomic():
        for user in users:
            _message, created = outbound.outbound_enqueue(
                channel="telegram", integration=bot, key=f"lead-notice:{lead.pk}:{user.pk}",
                chat_id=user.telegram_chat_id, text=text,
            )
            sent += created
    return sent

