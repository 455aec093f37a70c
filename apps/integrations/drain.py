"""The replies drain: one job sends every Telegram text reply that is waiting, several at once.

Why: a job per reply cost the worker ~4 ms of CPU (Procrastinate fetching and finishing the job,
two hops to the ORM's thread, the claim and the outcome) on the same cores as the web server, and
the Telegram webhook got slower under load (issue 15). The drain pays that once per batch: a reply
costs its HTTP call and a share of two statements.

How a reply travels:

- `outbound_enqueue` stores a Telegram text reply with `by_drain = True` and, in the same
  statement, defers an `integrations.drain_replies` job unless one is already waiting (queueing
  lock). A rolled-back request stores nothing and enqueues nothing; a committed one is always
  taken by a drain — the waiting one, or the running one (below).
- A drain claims up to DRAIN_BATCH waiting replies (`pending` → `sending`, committed before any
  call, stamped with its job id), sends them concurrently (one chat's replies one after another,
  oldest first) and records the outcomes, until none is waiting. One drain runs at a time (the
  job's lock), so a customer's replies never overtake each other, and requests mostly find the
  next drain job already waiting and write none (each job costs its own fetch, events and
  finish). That waiting job starts at the worker's next poll after the running one ends
  (`apps.jobs.worker.FETCH_POLL_SECONDS`), unless a reply's NOTIFY comes first.
- The first attempt is the drain's; when it delivers nothing (no connection, 429, 5xx) the message
  leaves the drain and gets its own `send_outbound` job, scheduled after the backoff (Telegram's
  retry_after for a 429) — one statement, so it is never pending without a job. A refusal fails
  it, a request without an answer makes it «доставка не подтверждена», as for any message.
- A drain killed mid-batch leaves its claims in `sending`, and its lock: replies wait until its
  worker misses its heartbeats (`JOB_STALLED_SECONDS`) and `jobs.retry_stalled` (every minute)
  ends it (the next drain is waiting) or puts it back. Every drain starts by marking unconfirmed
  the claims of drain jobs that no longer run and of its own earlier run — in flight when the
  worker died, so never sent blindly again. Replies it had not claimed are still `pending` and
  are sent.

The race a drain must not lose: a request stores a reply while a drain job is waiting, so it
defers none; that drain starts and finds nothing before the request commits. So each request
holds a shared advisory lock (queries.DRAIN_BARRIER_KEY) from its INSERT to its commit — taken in
the database function integrations_defer_reply_drain before it looks for a waiting drain, with a
snapshot taken after the lock — and a drain with nothing to claim ends only when that lock is
free: every reply that could have counted on it is committed and claimed by then. The drain only
tests the lock (taken and let go within one statement): a waiting or held exclusive lock would
hold the next requests up.
"""

from __future__ import annotations

import asyncio
import logging
import time

from apps.integrations import queries, sending
from apps.integrations.errors import ChannelError, ChannelRejected, DeliveryUnknown
from apps.integrations.outbound import UNCONFIRMED_DEAD, Outgoing, drain_job, send_job

logger = logging.getLogger("travelcrm.integrations.drain")

DRAIN_BATCH = 16  # replies sent at once by one drain (Bot API: 30 messages a second per bot)
DRAIN_SECONDS = 30.0  # a drain hands over to a fresh job after this long (the worker can stop between)
BARRIER_PAUSE = 0.005  # seconds before the first new look for requests still committing...
BARRIER_PAUSE_MAX = 0.05  # ...doubling up to this
INTERNAL_ERROR = "Внутренняя ошибка при отправке."


async def drain_replies(connector, job_id: int, *, retry_delay) -> dict:
    """Send the waiting drained replies; returns counts. `retry_delay(error)` gives the seconds before
    a handed-over message's own job (RateLimited: its retry_after)."""
    swept = await connector.execute_query_all_async(
        queries.drain_sweep_statement(), job=job_id, error=UNCONFIRMED_DEAD)
    if swept:
        logger.warning("drained replies left in flight by a dead attempt", extra={"count": len(swept)})
    counts = {"sent": 0, "handed_over": 0, "failed": 0, "unconfirmed": len(swept)}
    deadline = time.monotonic() + DRAIN_SECONDS
    pause = BARRIER_PAUSE
    while True:
        batch = await _claim(connector, job_id)
        if not batch:
            if not await _no_request_committing(connector):
                # Busy web server: some request is always between its INSERT and its COMMIT. Look
                # again less and less often rather than spin (a reply waits at most BARRIER_PAUSE_MAX).
                await asyncio.sleep(pause)
                pause = min(pause * 2, BARRIER_PAUSE_MAX)
                continue
            batch = await _claim(connector, job_id)
            if not batch:
                return counts
        pause = BARRIER_PAUSE
        await _send_batch(connector, batch, counts, retry_delay)
        if time.monotonic() > deadline:
            await _follow_up(connector)
            return counts


async def _claim(connector, job_id: int) -> list[Outgoing]:
    rows = await connector.execute_query_all_async(queries.drain_claim_statement(), job=job_id, limit=DRAIN_BATCH)
    batch = []
    for row in rows:
        message, integration = queries.drain_claimed(row)
        batch.append(Outgoing(
            id=message["id"], channel="telegram", integration=integration, chat_id=message["chat_id"],
            text=message["text"], buttons=list(message["buttons"] or []), parts_done=message["parts_done"],
        ))
    return batch


async def _no_request_committing(connector) -> bool:
    row = await connector.execute_query_one_async(queries.DRAIN_BARRIER_FREE, key=queries.DRAIN_BARRIER_KEY)
    return bool(row["free"])


async def _send_batch(connector, batch: list[Outgoing], counts: dict, retry_delay) -> None:
    """Different chats at once; the replies of one chat one after another, oldest first, so a
    customer reads them in the order they were written (one drain runs at a time)."""
    chats: dict[tuple, list[Outgoing]] = {}
    for out in batch:
        chats.setdefault((out.integration.pk, out.chat_id), []).append(out)
    outcomes = await asyncio.gather(*(_attempt_in_order(replies) for replies in chats.values()))
    sent_ids, external_ids = [], []
    for out, result in (pair for chat in outcomes for pair in chat):
        if isinstance(result, str):
            sent_ids.append(out.id)
            external_ids.append(result[:255])
        else:
            await _settle_failure(connector, out, result, counts, retry_delay)
    if sent_ids:
        await connector.execute_query_async(queries.drain_sent_statement(), ids=sent_ids, external_ids=external_ids)
        counts["sent"] += len(sent_ids)


async def _attempt_in_order(replies: list[Outgoing]) -> list[tuple[Outgoing, str | BaseException]]:
    outcomes: list[tuple[Outgoing, str | BaseException]] = []
    for out in replies:
        try:
            outcomes.append((out, str(await sending.deliver(out))))
        except BaseException as error:  # noqa: BLE001 — every outcome is recorded by _settle_failure
            outcomes.append((out, error))
    return outcomes


async def _settle_failure(connector, out: Outgoing, error: BaseException, counts: dict, retry_delay) -> None:
    if isinstance(error, DeliveryUnknown):
        await _settle(connector, out.id, "unconfirmed", error.detail)
        counts["unconfirmed"] += 1
    elif isinstance(error, ChannelRejected):
        await _settle(connector, out.id, "failed", error.detail)
        logger.warning("outbound message failed for good", extra={"outbound_id": out.id})
        counts["failed"] += 1
    elif isinstance(error, ChannelError):  # nothing delivered: no connection, 429 (RateLimited), 5xx
        job = send_job()
        await connector.execute_query_async(
            queries.drain_hand_over_statement(), id=out.id, error=error.detail[:500], queue=job.queue,
            task=job.task_name, priority=job.priority, lock=job.lock, queueing_lock=job.queueing_lock,
            delay=float(retry_delay(error)))
        counts["handed_over"] += 1
    else:
        # A bug or a cancellation mid-call: whether anything left is unknown — a person decides.
        await _settle(connector, out.id, "unconfirmed", INTERNAL_ERROR)
        counts["unconfirmed"] += 1
        if not isinstance(error, Exception):
            raise error
        logger.error("drained reply failed with an internal error", exc_info=error, extra={"outbound_id": out.id})


async def _settle(connector, message_id: int, status: str, error: str) -> None:
    await connector.execute_query_async(queries.drain_settle_statement(), id=message_id, status=status,
                                        error=error[:500])
    if status == "unconfirmed":
        logger.warning("outbound message delivery unconfirmed", extra={"outbound_id": message_id})


async def _follow_up(connector) -> None:
    """The drain ran its time with replies still coming: a fresh drain job takes over (unless one
    is already waiting), so a stopping worker is not held and the queue keeps moving."""
    job = drain_job()
    await connector.execute_query_async(
        queries.DRAIN_FOLLOW_UP, barrier=queries.DRAIN_BARRIER_KEY, queue=job.queue, task=job.task_name,
        priority=job.priority, lock=job.lock, queueing_lock=job.queueing_lock)

