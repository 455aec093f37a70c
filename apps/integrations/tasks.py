"""Jobs of the integrations app (autodiscovered by Procrastinate; see docs/development.md «Jobs»)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from procrastinate.contrib.django import app

from apps.integrations import outbound
from apps.integrations.telegram import client as telegram
from apps.jobs.retry import Backoff, PermanentError, RetryLater

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
