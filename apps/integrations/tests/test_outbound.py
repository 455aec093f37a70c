"""Replies to customers are jobs: same transaction as their cause, retried, never sent twice."""

import time

import pytest
from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.integrations import outbound
from apps.integrations.models import OutboundMessage, OutboundStatus
from apps.integrations.outbound import outbound_enqueue
from apps.integrations.tasks import send_outbound
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs


def _enqueue(bot, key="t:1", text="Ваша заявка № 1 получена."):
    return outbound_enqueue(channel="telegram", integration=bot, key=key, chat_id=555001, text=text)


def test_committed_reply_is_sent_once_by_the_worker(telegram_bot, fake_telegram):
    message, created = _enqueue(telegram_bot)
    assert created
    run_jobs()
    assert [m["text"] for m in fake_telegram.sent_to(555001)] == ["Ваша заявка № 1 получена."]
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT and message.sent_at and message.external_id


def test_rolled_back_request_sends_nothing(telegram_bot, fake_telegram):
    with pytest.raises(RuntimeError), transaction.atomic():
        _enqueue(telegram_bot)
        raise RuntimeError("the request failed after the reply was enqueued")
    run_jobs()
    assert fake_telegram.sent == []
    assert not OutboundMessage.objects.exists()
    assert list(ProcrastinateJob.objects.values_list("task_name", "status")) == []


def test_same_key_twice_is_one_message(telegram_bot, fake_telegram):
    first, created = _enqueue(telegram_bot)
    second, created_again = _enqueue(telegram_bot, text="другой текст")
    assert created and not created_again and first.pk == second.pk
    run_jobs()
    assert len(fake_telegram.sent) == 1


def test_statements_of_the_reply_and_of_its_job(telegram_bot, fake_telegram, django_assert_max_num_queries):
    """Issue 15: the reply runs beside the web server on the same cores. Enqueueing: one statement,
    INSERT … ON CONFLICT DO NOTHING RETURNING with the defer of the replies drain (an existing key:
    that statement + reading the message back, no job), plus BEGIN / COMMIT here (in a request they
    are the request's). A message's own job (a retry, a resend, a file): the claim (one UPDATE …
    FROM … RETURNING, committed by itself) and the outcome (one UPDATE)."""
    with django_assert_max_num_queries(3):
        message, created = _enqueue(telegram_bot)
    with django_assert_max_num_queries(4):
        again, created_again = _enqueue(telegram_bot)
    assert created and not created_again and again.pk == message.pk and message.by_drain
    with django_assert_max_num_queries(1):
        state, out = outbound.outbound_claim(message.pk)
    assert state == "send" and out.text == "Ваша заявка № 1 получена." and out.token == telegram_bot.api_token_encrypted
    assert out.integration.pk == telegram_bot.pk and out.chat_id == "555001" and out.parts_done == 0
    with django_assert_max_num_queries(1):
        outbound.outbound_mark_sent(message.pk, "77")
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT and message.attempts == 1 and message.attempt_started_at
    assert list(ProcrastinateJob.objects.values_list("task_name", flat=True)) == ["integrations.drain_replies"]


def test_rerun_of_a_finished_job_does_not_send_again(telegram_bot, fake_telegram):
    message, _ = _enqueue(telegram_bot)
    run_jobs()
    send_outbound.defer(message_id=message.pk)  # e.g. a job put back after its worker was declared dead
    run_jobs()
    assert len(fake_telegram.sent) == 1


def test_429_is_retried_after_retry_after(telegram_bot, fake_telegram):
    """The drain's attempt is answered 429: the reply leaves the drain for its own job, scheduled
    after Telegram's retry_after, which sends it."""
    fake_telegram.throttle_count = 1
    fake_telegram.retry_after = 1
    message, _ = _enqueue(telegram_bot)
    run_jobs()
    assert fake_telegram.sent == [] and fake_telegram.throttled == 1
    job = ProcrastinateJob.objects.get(task_name="integrations.send_outbound")
    assert job.status == "todo" and job.args == {"message_id": message.pk}
    assert job.scheduled_at is not None  # not before Telegram's retry_after
    message.refresh_from_db()
    assert message.status == OutboundStatus.PENDING and "подождать" in message.error and not message.by_drain
    time.sleep(1.1)
    run_jobs()
    assert len(fake_telegram.sent) == 1
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT and message.attempts == 2


def test_rejected_reply_fails_at_once_and_says_why(telegram_bot, fake_telegram):
    outbound_enqueue(channel="telegram", integration=telegram_bot, key="t:2", chat_id="", text="x")
    run_jobs()
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.FAILED and "chat not found" in message.error.lower()
    # visible on the message (the lead's conversation), not retried: no job of its own
    assert not ProcrastinateJob.objects.filter(task_name="integrations.send_outbound").exists()


def test_rejected_file_reply_fails_its_own_job_at_once(telegram_bot, fake_telegram):
    """A message with files is not the drain's: its own job fails at once, visible in the admin."""
    outbound_enqueue(channel="telegram", integration=telegram_bot, key="t:3", chat_id="", text="x",
                     attachments=[{"key": "missing", "name": "a.pdf", "content_type": "application/pdf", "size": 1}])
    run_jobs()
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.FAILED and not message.by_drain
    assert ProcrastinateJob.objects.get().status == "failed"
