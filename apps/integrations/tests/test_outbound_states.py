"""The states of an outgoing message (issue 15: never sent twice, never lost): an attempt is
committed as `sending` before the call; a run that finds one left by a dead attempt makes it
«доставка не подтверждена» instead of sending blindly; what provably delivered nothing retries."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.core.storage import random_key
from apps.integrations import outbound
from apps.integrations.models import OutboundMessage, OutboundStatus
from apps.integrations.outbound import outbound_claim, outbound_enqueue, outbound_resend
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs


def _enqueue(bot, key="s:1", text="Здравствуйте!", **extra):
    message, _ = outbound_enqueue(channel="telegram", integration=bot, key=key, chat_id=555001, text=text, **extra)
    return message


def _due_now() -> None:
    """The retry's backoff elapsed (Procrastinate's Django models are read-only)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = NULL WHERE status = 'todo'")


def _status(message) -> str:
    message.refresh_from_db()
    return message.status


def test_claim_commits_sending_and_a_rerun_after_a_dead_attempt_marks_unconfirmed(telegram_bot, fake_telegram):
    message = _enqueue(telegram_bot)
    state, out = outbound_claim(message.pk)  # the attempt started... and its worker died here
    assert state == "send" and out.text == "Здравствуйте!"
    assert _status(message) == OutboundStatus.SENDING and message.attempt_started_at is not None
    run_jobs()  # the job runs again (stalled-job retry after the restart)
    assert fake_telegram.sent == []  # not sent blindly
    assert _status(message) == OutboundStatus.UNCONFIRMED
    assert "Отправить ещё раз" in message.error
    assert not ProcrastinateJob.objects.filter(status__in=["todo", "doing"]).exists()  # no retry on its own

    assert outbound_resend(message_id=message.pk) is not None  # the manager decides
    run_jobs()
    assert [m["text"] for m in fake_telegram.sent] == ["Здравствуйте!"]
    assert _status(message) == OutboundStatus.SENT and message.error == ""
    assert outbound_resend(message_id=message.pk) is None  # a sent message is not resent


def test_answer_lost_after_the_request_left_is_unconfirmed_not_retried(telegram_bot, fake_telegram):
    fake_telegram.answer_drop = 1  # Telegram delivers, the connection dies before the answer
    message = _enqueue(telegram_bot)
    run_jobs()
    assert len(fake_telegram.sent) == 1
    assert _status(message) == OutboundStatus.UNCONFIRMED and "не ответил" in message.error
    run_jobs()
    assert len(fake_telegram.sent) == 1  # no second copy


def test_no_connection_delivers_nothing_and_is_retried(telegram_bot, fake_telegram, settings):
    import socket

    with socket.socket() as sock:  # a port nobody listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    url, settings.TELEGRAM_API_BASE_URL = settings.TELEGRAM_API_BASE_URL, closed
    message = _enqueue(telegram_bot)
    run_jobs()
    assert _status(message) == OutboundStatus.PENDING and "Нет связи" in message.error
    job = ProcrastinateJob.objects.get(task_name="integrations.send_outbound")  # the drain's attempt failed
    assert job.status == "todo" and job.attempts == 0 and job.scheduled_at
    settings.TELEGRAM_API_BASE_URL = url
    _due_now()
    run_jobs()
    assert len(fake_telegram.sent) == 1 and _status(message) == OutboundStatus.SENT


def test_5xx_answer_is_retried(telegram_bot, fake_telegram):
    fake_telegram.fail_send = True
    message = _enqueue(telegram_bot)
    run_jobs()
    assert _status(message) == OutboundStatus.PENDING
    fake_telegram.fail_send = False
    _due_now()
    run_jobs()
    assert len(fake_telegram.sent) == 1 and _status(message) == OutboundStatus.SENT and message.attempts == 2


def test_buttons_and_files_and_a_resend_continues_after_the_delivered_parts(telegram_bot, fake_telegram):
    key = default_storage.save(random_key("outbound", "offer.pdf"), ContentFile(b"%PDF-1.7 offer"))
    message = _enqueue(telegram_bot, buttons=[{"text": "Даю согласие", "data": "consent:1"}],
                       attachments=[{"key": key, "name": "КП 2026-000001.pdf", "content_type": "application/pdf"},
                                    {"key": "outbound/missing.pdf", "name": "нет.pdf"}])
    run_jobs()
    (text,) = fake_telegram.sent
    assert text["reply_markup"] == {"inline_keyboard": [[{"text": "Даю согласие", "callback_data": "consent:1"}]]}
    assert [(d["name"], d["content"]) for d in fake_telegram.documents] == [("КП 2026-000001.pdf",
                                                                             b"%PDF-1.7 offer")]
    assert _status(message) == OutboundStatus.FAILED and "не найден" in message.error
    assert message.parts_done == 2  # the text and the first file are delivered

    OutboundMessage.objects.filter(pk=message.pk).update(
        attachments=[message.attachments[0], {"key": key, "name": "второй.pdf"}])
    outbound_resend(message_id=message.pk)
    run_jobs()
    assert len(fake_telegram.sent) == 1  # the text is not sent again
    assert [d["name"] for d in fake_telegram.documents] == ["КП 2026-000001.pdf", "второй.pdf"]
    assert _status(message) == OutboundStatus.SENT


def test_mark_sent_wins_over_unconfirmed(telegram_bot):
    """A slow attempt answered after a re-run gave it up: the customer has it, the row says so."""
    message = _enqueue(telegram_bot)
    outbound_claim(message.pk)
    assert outbound_claim(message.pk) == ("unconfirmed", None)
    outbound.outbound_mark_sent(message.pk, "1001")
    assert _status(message) == OutboundStatus.SENT


def test_anonymising_the_person_erases_what_was_sent_to_them(telegram_bot):
    from apps.integrations.erasure import erase_subject

    key = default_storage.save(random_key("outbound", "passport.pdf"), ContentFile(b"%PDF-1.7 scan"))
    message = _enqueue(telegram_bot, text="Иван, ваш паспорт 4510 123456", lead_pk=42,
                       attachments=[{"key": key, "name": "Паспорт Иванова.pdf"}], meta={"to": "ivan@mail.test"})
    assert erase_subject(client_id=1, lead_ids=[42])["outbound_messages"] == 1
    message.refresh_from_db()
    assert (message.text, message.meta, message.attachments, message.chat_id) == ("", {}, [], "—")
    assert not default_storage.exists(key)


def test_retention_removes_reply_files_no_message_names(telegram_bot, monkeypatch):
    """A reply's files are uploaded before its message is stored: when that request rolls back, the
    files (they may hold a passport scan) are orphans, removed by the daily retention purge."""
    import datetime as dt
    import uuid

    from django.utils import timezone

    from apps.integrations import erasure

    prefix = f"outbound-test-{uuid.uuid4().hex[:8]}"  # the bucket is shared with parallel tests
    monkeypatch.setattr(erasure, "REPLY_PREFIX", f"{prefix}/")
    kept = default_storage.save(random_key(prefix, "offer.pdf"), ContentFile(b"%PDF-1.7 offer"))
    orphan = default_storage.save(random_key(prefix, "passport.jpg"), ContentFile(b"scan"))
    _enqueue(telegram_bot, attachments=[{"key": kept, "name": "КП.pdf"}])
    later = timezone.now() + dt.timedelta(days=2)

    assert erasure.purge_orphan_reply_files(before=timezone.now() - dt.timedelta(days=1), dry_run=False) == 0
    assert erasure.purge_orphan_reply_files(before=later, dry_run=True) == 1 and default_storage.exists(orphan)
    assert erasure.purge_orphan_reply_files(before=later, dry_run=False) == 1
    assert not default_storage.exists(orphan) and default_storage.exists(kept)
    default_storage.delete(kept)
