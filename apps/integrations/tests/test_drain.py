"""The replies drain (apps/integrations/drain.py): one job sends every waiting Telegram text reply."""

import threading
import time

import pytest
from django.db import connection, transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.integrations import drain, queries
from apps.integrations.models import OutboundMessage, OutboundStatus
from apps.integrations.outbound import UNCONFIRMED_DEAD, outbound_enqueue
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs

DRAIN = "integrations.drain_replies"


def _reply(bot, n: int, **extra):
    return outbound_enqueue(channel="telegram", integration=bot, key=f"drain:{n}", chat_id=700000 + n,
                            text=f"ответ {n}", **extra)[0]


def test_many_replies_one_waiting_drain_job_all_sent_once(telegram_bot, fake_telegram):
    for n in range(40):
        with transaction.atomic():
            _reply(telegram_bot, n)
    assert ProcrastinateJob.objects.filter(task_name=DRAIN).count() == 1  # the queueing lock: one waiting
    run_jobs()
    left = list(OutboundMessage.objects.exclude(status=OutboundStatus.SENT).values_list("key", "status", "error"))
    assert left == []
    assert sorted(m["text"] for m in fake_telegram.sent) == sorted(f"ответ {n}" for n in range(40))
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}
    assert not ProcrastinateJob.objects.filter(task_name="integrations.send_outbound").exists()


def test_only_telegram_text_goes_to_the_drain(telegram_bot, fake_telegram):
    text = _reply(telegram_bot, 1)
    with_file = _reply(telegram_bot, 2, attachments=[{"key": "k", "name": "a.pdf", "content_type": "x", "size": 1}])
    assert text.by_drain and not with_file.by_drain
    jobs = sorted(ProcrastinateJob.objects.values_list("task_name", "args"))
    assert jobs == [(DRAIN, {}), ("integrations.send_outbound", {"message_id": with_file.pk})]


def test_a_reply_committing_while_the_drain_ends_is_not_left_behind(telegram_bot, fake_telegram):
    """The race the barrier closes: a request stores a reply while a drain job waits (so it defers
    none), the drain starts and finds nothing before the request commits. The drain must not end
    before that commit — it sends the reply."""
    _reply(telegram_bot, 1)  # committed: a drain job is waiting
    stored, commit = threading.Event(), threading.Event()

    def request():
        try:
            with transaction.atomic():
                _reply(telegram_bot, 2)  # a drain is waiting: no new job
                stored.set()
                commit.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=request)
    thread.start()
    assert stored.wait(10)
    assert ProcrastinateJob.objects.filter(task_name=DRAIN).count() == 1
    threading.Timer(0.5, commit.set).start()
    started = time.monotonic()
    run_jobs()
    thread.join(10)
    assert time.monotonic() - started >= 0.4  # the drain waited for the commit
    assert sorted(m["text"] for m in fake_telegram.sent) == ["ответ 1", "ответ 2"]


def test_claims_of_a_dead_drain_become_unconfirmed_the_rest_is_sent(telegram_bot, fake_telegram):
    """A drain killed mid-batch: what it had claimed (in flight) is not sent blindly again; what it
    had not claimed is sent by the next drain."""
    in_flight, waiting = _reply(telegram_bot, 1), _reply(telegram_bot, 2)
    with connection.cursor() as cursor:  # what the dead drain (job 999999, gone) left behind
        cursor.execute("UPDATE integrations_outboundmessage SET status = 'sending', attempts = 1, "
                       "drain_job_id = 999999 WHERE id = %s", [in_flight.pk])
    run_jobs()
    in_flight.refresh_from_db()
    waiting.refresh_from_db()
    assert (in_flight.status, in_flight.error) == (OutboundStatus.UNCONFIRMED, UNCONFIRMED_DEAD)
    assert waiting.status == OutboundStatus.SENT
    assert [m["text"] for m in fake_telegram.sent] == ["ответ 2"]


def test_claims_of_a_running_drain_are_left_alone(telegram_bot, fake_telegram):
    message = _reply(telegram_bot, 1)
    with connection.cursor() as cursor:  # another worker's drain, alive, is sending it
        cursor.execute("INSERT INTO procrastinate_jobs (queue_name, task_name, status, args) "
                       "VALUES ('replies', 'integrations.drain_replies', 'doing', '{}') RETURNING id")
        running = cursor.fetchone()[0]
        cursor.execute("UPDATE integrations_outboundmessage SET status = 'sending', drain_job_id = %s "
                       "WHERE id = %s", [running, message.pk])
    run_jobs()
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENDING and fake_telegram.sent == []


def test_a_drain_that_ran_its_time_hands_over_to_a_fresh_job(telegram_bot, fake_telegram, monkeypatch, settings):
    settings.JOB_DELETE_SUCCESSFUL = False  # count the drain jobs that ran
    monkeypatch.setattr(drain, "DRAIN_SECONDS", 0.0)
    monkeypatch.setattr(drain, "DRAIN_BATCH", 2)
    for n in range(5):
        _reply(telegram_bot, n)
    run_jobs()  # each drain sends one batch and defers the next; run_jobs runs them all
    assert len(fake_telegram.sent) == 5
    assert ProcrastinateJob.objects.filter(task_name=DRAIN).count() >= 3
    assert len(set(OutboundMessage.objects.values_list("drain_job_id", flat=True))) == 3  # 2 + 2 + 1


def test_the_insert_defers_the_drain_as_procrastinate_would(telegram_bot):
    """The hand-written INSERT into procrastinate_jobs writes what drain_replies.defer() writes."""
    from apps.integrations.tasks import drain_replies

    _reply(telegram_bot, 1)
    ours = ProcrastinateJob.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    drain_replies.defer()
    theirs = ProcrastinateJob.objects.get()
    fields = ("queue_name", "task_name", "priority", "lock", "queueing_lock", "args", "status", "scheduled_at")
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]


def test_the_barrier_is_held_by_a_storing_transaction_until_it_commits(telegram_bot):
    with transaction.atomic():
        _reply(telegram_bot, 1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' "
                           "AND objid = %s AND pid = pg_backend_pid()", [queries.DRAIN_BARRIER_KEY])
            assert cursor.fetchone()[0] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                       "AND pid = pg_backend_pid()", [queries.DRAIN_BARRIER_KEY])
        assert cursor.fetchone()[0] == 0


def test_one_chats_replies_leave_in_the_order_they_were_written(telegram_bot, fake_telegram):
    for n in range(6):
        outbound_enqueue(channel="telegram", integration=telegram_bot, key=f"order:{n}", chat_id=555777,
                         text=f"по порядку {n}")
        _reply(telegram_bot, n)  # other chats in the same batches
    run_jobs()
    assert [m["text"] for m in fake_telegram.sent_to(555777)] == [f"по порядку {n}" for n in range(6)]

