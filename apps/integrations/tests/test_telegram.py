"""Telegram: webhook (secret header, dedup, files, reply), polling, nothing lost, no token in logs."""

import io
import logging
import time
from contextlib import redirect_stdout

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.integrations import media, services
from apps.integrations.models import InboxItem, InboxStatus, IntegrationSettings, OutboundMessage, OutboundStatus
from apps.integrations.tests.conftest import ADMIN_PASSWORD, BOT_TOKEN
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead, LeadAttachment, LeadMessage

pytestmark = pytest.mark.django_db

SECRET_HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"


def _sent(fake) -> list[dict]:
    """Replies are jobs: run a real worker over the waiting jobs first (tests that call this are
    transactional, so the worker's own connection sees the committed jobs)."""
    run_jobs()
    return fake.sent


def _message(text="Хотим в Сочи на майские, двое взрослых", user_id=555001, **extra):
    message = {
        "message_id": 11,
        "date": 1764000000,
        "chat": {"id": user_id, "type": "private", "first_name": "Иван"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Иван", "last_name": "Петров", "username": "ivan_p"},
    }
    if text:
        message["text"] = text
    message.update(extra)
    return message


def _post(api_client, bot, update, secret=None):
    headers = {SECRET_HEADER: bot.webhook_secret if secret is None else secret}
    return api_client.post(f"/api/v1/integrations/telegram/{bot.pk}/webhook/", update, format="json", **headers)


def test_wrong_or_missing_secret_is_refused_and_nothing_stored(api_client, telegram_bot):
    update = {"update_id": 1, "message": _message()}
    assert _post(api_client, telegram_bot, update, secret="wrong").status_code == 403
    response = api_client.post(f"/api/v1/integrations/telegram/{telegram_bot.pk}/webhook/", update, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert InboxItem.objects.count() == 0
    assert Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # the worker reads committed jobs
def test_text_message_becomes_a_lead_and_the_bot_answers(
    api_client, telegram_bot, fake_telegram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api_client, telegram_bot, {"update_id": 100, "message": _message()})
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert lead.source == "telegram"
    assert lead.messages.get().text == "Хотим в Сочи на майские, двое взрослых"
    assert lead.contact_telegram
    _sent(fake_telegram)
    replies = fake_telegram.sent_to(555001)
    assert len(replies) == 1
    assert replies[0]["text"].startswith(f"Ваша заявка № {lead.number} получена")
    item = InboxItem.objects.get()
    assert (item.status, item.lead_pk, item.lead_number) == (InboxStatus.PROCESSED, lead.pk, lead.number)


@pytest.mark.django_db(transaction=True)  # the worker reads committed jobs
def test_retried_update_makes_no_duplicate(api_client, telegram_bot, fake_telegram, django_capture_on_commit_callbacks):
    update = {"update_id": 101, "message": _message()}
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(api_client, telegram_bot, update).status_code == 200
        assert _post(api_client, telegram_bot, update).status_code == 200
    assert Lead.objects.count() == 1
    assert LeadMessage.objects.count() == 1
    assert InboxItem.objects.count() == 1
    assert len(_sent(fake_telegram)) == 1


@pytest.mark.django_db(transaction=True)  # committed for real: BEGIN/COMMIT counted as in production
def test_statements_per_update_through_the_webhook(api_client, telegram_bot, fake_telegram):
    """The database work of one update is a budget (issue 7: p95 <= 100 ms with 8 senders)."""
    def update(update_id, user_id):
        return {"update_id": update_id, "message": _message(user_id=user_id)}

    _post(api_client, telegram_bot, update(400, 900001))  # warm-up
    with CaptureQueriesContext(connection) as new:
        assert _post(api_client, telegram_bot, update(401, 900002)).status_code == 200
    with CaptureQueriesContext(connection) as append:
        assert _post(api_client, telegram_bot, update(402, 900002)).status_code == 200
    with CaptureQueriesContext(connection) as retry:
        assert _post(api_client, telegram_bot, update(402, 900002)).status_code == 200
    _sent(fake_telegram)
    # integration; INSERT inbox (committed by itself); BEGIN; advisory locks (one
    # statement); message known?; sender's open lead FOR UPDATE; client by contacts; INSERT lead (an
    # append: UPDATE of the changed columns); INSERT audit entry; INSERT message; the reply: INSERT
    # outbound message ON CONFLICT DO NOTHING RETURNING id with its job's defer in the same
    # statement; UPDATE inbox; COMMIT. A new lead's first reply also asks whether the sender has consented already (one
    # query, issue 14), and whether a new-lead notice could be sent at all (an active operators' bot
    # and a manager with a chat id: one EXISTS, instead of a job for every lead — issue 15).
    assert len(new) <= 15, [query["sql"][:80] for query in new.captured_queries]
    assert len(append) <= 13, [query["sql"][:80] for query in append.captured_queries]
    assert not any("SAVEPOINT" in query["sql"] for query in [*new.captured_queries, *append.captured_queries])
    # A retry: the integration and INSERT inbox ... ON CONFLICT DO NOTHING, nothing else.
    assert len(retry) == 2, [query["sql"][:80] for query in retry.captured_queries]
    assert Lead.objects.count() == 2 and LeadMessage.objects.count() == 3 and InboxItem.objects.count() == 3
    assert len(fake_telegram.sent) == 3


@pytest.mark.django_db(transaction=True)  # the worker reads committed jobs
def test_next_message_of_the_sender_appends_to_the_open_lead(
    api_client, telegram_bot, fake_telegram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(api_client, telegram_bot, {"update_id": 102, "message": _message()})
        _post(api_client, telegram_bot, {"update_id": 103, "message": _message("И ещё ребёнок 5 лет")})
    lead = Lead.objects.get()
    assert lead.messages.count() == 2
    assert _sent(fake_telegram)[1]["text"] == f"Ваше сообщение добавлено к заявке № {lead.number}. Спасибо!"


def test_contact_message_gives_the_phone(api_client, telegram_bot):
    contact = {"phone_number": "+79161234567", "first_name": "Иван", "user_id": 555001}
    _post(api_client, telegram_bot, {"update_id": 104, "message": _message(text=None, contact=contact)})
    lead = Lead.objects.get()
    assert lead.contact_phone == "+79161234567"
    assert "Контакт: Иван +79161234567" in lead.messages.get().text


@pytest.mark.django_db(transaction=True)  # the downloads are jobs: a real worker reads committed rows
def test_photo_and_document_are_fetched_and_stored_in_s3(api_client, telegram_bot, fake_telegram):
    photo_small = fake_telegram.add_file(b"small-jpeg", name="s.jpg")
    photo_big = fake_telegram.add_file(b"\xff\xd8big-jpeg-bytes", name="b.jpg")
    document = fake_telegram.add_file(b"%PDF-1.4 passport scan", name="passport.pdf")
    photo = [
        {"file_id": photo_small, "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 10},
        {"file_id": photo_big, "file_unique_id": "u2", "width": 800, "height": 600, "file_size": 17},
    ]
    _post(api_client, telegram_bot, {"update_id": 105, "message": _message(text=None, caption="Фото", photo=photo)})
    doc = {
        "file_id": document,
        "file_unique_id": "u3",
        "file_name": "passport.pdf",
        "mime_type": "application/pdf",
        "file_size": 22,
    }
    _post(api_client, telegram_bot, {"update_id": 106, "message": _message(text=None, document=doc)})
    # The lead is there at once; the files are announced and fetched by jobs, not in the request.
    assert Lead.objects.count() == 1
    assert [(a.is_stored, a.note) for a in LeadAttachment.objects.all()] == [(False, media.PENDING_NOTE)] * 2
    assert ("getFile", BOT_TOKEN) not in fake_telegram.calls
    run_jobs()
    attachments = {a.name: a for a in LeadAttachment.objects.all()}
    assert set(attachments) == {"photo_u2.jpg", "passport.pdf"}
    assert {a.note for a in attachments.values()} == {""}
    with default_storage.open(attachments["passport.pdf"].file.name) as stored:
        assert stored.read() == b"%PDF-1.4 passport scan"
    with default_storage.open(attachments["photo_u2.jpg"].file.name) as stored:
        assert stored.read() == b"\xff\xd8big-jpeg-bytes"


@pytest.mark.django_db(transaction=True)
def test_file_over_20_mb_is_recorded_with_a_note(api_client, telegram_bot, fake_telegram):
    huge = fake_telegram.add_file(None, size=25 * 1024 * 1024, name="video.mp4")
    doc = {"file_id": huge, "file_unique_id": "u9", "file_name": "video.mp4", "mime_type": "video/mp4"}  # size unknown
    response = _post(api_client, telegram_bot, {"update_id": 107, "message": _message(text=None, document=doc)})
    assert response.status_code == 200
    run_jobs()
    attachment = LeadAttachment.objects.get()
    assert attachment.name == "video.mp4"
    assert not attachment.file
    assert "20 МБ" in attachment.note
    assert InboxItem.objects.get().status == InboxStatus.PROCESSED


@pytest.mark.django_db(transaction=True)  # the worker reads committed jobs
def test_failed_reply_does_not_lose_the_lead(
    api_client, telegram_bot, fake_telegram, django_capture_on_commit_callbacks
):
    fake_telegram.fail_send = True
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api_client, telegram_bot, {"update_id": 108, "message": _message()})
    assert _sent(fake_telegram) == []
    assert response.status_code == 200
    assert Lead.objects.count() == 1
    assert InboxItem.objects.get().status == InboxStatus.PROCESSED
    reply = OutboundMessage.objects.get()  # kept, retried later with backoff
    assert (reply.status, reply.attempts) == (OutboundStatus.PENDING, 1)
    assert "Telegram" in reply.error


def test_update_without_customer_message_is_ignored(api_client, telegram_bot):
    response = _post(api_client, telegram_bot, {"update_id": 109, "edited_message": _message()})
    assert response.status_code == 200
    assert InboxItem.objects.get().status == InboxStatus.IGNORED
    assert Lead.objects.count() == 0


def test_malformed_body_is_a_clear_400(api_client, telegram_bot):
    response = api_client.post(
        f"/api/v1/integrations/telegram/{telegram_bot.pk}/webhook/",
        "not json",
        content_type="application/json",
        **{SECRET_HEADER: telegram_bot.webhook_secret},
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"code", "detail", "fields"}
    assert _post(api_client, telegram_bot, {"message": _message()}).status_code == 400


def test_inactive_bot_webhook_is_404(api_client, telegram_bot, supervisor):
    services.integration_deactivate(actor=supervisor, integration=telegram_bot)
    assert _post(api_client, telegram_bot, {"update_id": 110, "message": _message()}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_s3_down_the_lead_appears_and_the_file_arrives_when_s3_is_back(
    api_client, telegram_bot, fake_telegram, settings
):
    document = fake_telegram.add_file(b"%PDF-1.4 voucher", name="voucher.pdf")
    doc = {"file_id": document, "file_unique_id": "u5", "file_name": "voucher.pdf", "file_size": 16}
    storages = {**settings.STORAGES}
    broken = {
        **storages["default"],
        "OPTIONS": {**storages["default"]["OPTIONS"], "endpoint_url": "http://127.0.0.1:9"},
    }
    settings.STORAGES = {**storages, "default": broken}  # the S3 server "stops"

    response = _post(api_client, telegram_bot, {"update_id": 111, "message": _message(text="Ваучер", document=doc)})

    assert response.status_code == 200
    assert InboxItem.objects.get().status == InboxStatus.PROCESSED  # the lead does not wait for S3
    assert Lead.objects.get().messages.get().text == "Ваучер"
    run_jobs()  # the download fails on S3 and is retried later
    job = ProcrastinateJob.objects.get(task_name="integrations.fetch_media")
    assert job.status == "todo" and job.attempts == 1
    assert not LeadAttachment.objects.get().is_stored

    settings.STORAGES = storages  # S3 is back
    time.sleep(max(0.0, (job.scheduled_at - timezone.now()).total_seconds()) + 0.2)  # the backoff (5 s)
    run_jobs()
    attachment = LeadAttachment.objects.get()
    assert attachment.note == ""
    with default_storage.open(attachment.file.name) as stored:
        assert stored.read() == b"%PDF-1.4 voucher"


@pytest.mark.django_db(transaction=True)
def test_file_telegram_never_gives_is_noted_on_the_lead(api_client, telegram_bot, fake_telegram):
    doc = {"file_id": "no-such-file", "file_unique_id": "u6", "file_name": "visa.pdf", "file_size": 10}
    _post(api_client, telegram_bot, {"update_id": 112, "message": _message(text="Виза", document=doc)})
    run_jobs()
    attachment = LeadAttachment.objects.get()
    assert not attachment.is_stored
    assert "Не удалось загрузить файл" in attachment.note and "прислать его ещё раз" in attachment.note
    assert not ProcrastinateJob.objects.filter(status="todo").exists()  # not retried: it cannot help


def test_telegram_poll_uses_get_updates_with_offsets(telegram_bot, fake_telegram, supervisor):
    services.integration_deactivate(actor=supervisor, integration=telegram_bot)  # no webhook → polling mode
    fake_telegram.queue_update(BOT_TOKEN, _message(user_id=700001))
    fake_telegram.queue_update(BOT_TOKEN, _message(text="Нужна виза", user_id=700002))
    out = io.StringIO()
    call_command("telegram_poll", "--bot", str(telegram_bot.pk), "--once", stdout=out)
    assert "received=2" in out.getvalue()
    assert Lead.objects.count() == 2
    telegram_bot.refresh_from_db()
    assert telegram_bot.telegram_offset == 3

    call_command("telegram_poll", "--bot", str(telegram_bot.pk), "--once", stdout=io.StringIO())
    assert Lead.objects.count() == 2
    assert LeadMessage.objects.count() == 2
    assert fake_telegram.updates[BOT_TOKEN] == []  # confirmed through the offset


@pytest.mark.django_db(transaction=True)  # the worker reads committed jobs
def test_token_never_reaches_the_logs(
    supervisor_api, api_client, fake_telegram, caplog, capsys, django_capture_on_commit_callbacks
):
    """Everything logged during add → activate → webhook → reply (any logger, DEBUG up)."""
    caplog.set_level(logging.DEBUG)
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        added = supervisor_api.post(
            "/api/v1/settings/integrations/add",
            {"type": "telegram", "api_token": BOT_TOKEN, "admin_password": ADMIN_PASSWORD},
            format="json",
        )
        bot_id = added.json()["id"]
        supervisor_api.post("/api/v1/settings/integrations/activate", {"id": bot_id}, format="json")
        bot = IntegrationSettings.objects.get(pk=bot_id)
        with django_capture_on_commit_callbacks(execute=True):
            _post(api_client, bot, {"update_id": 200, "message": _message()})
        _sent(fake_telegram)
        fake_telegram.fail_send = True  # the failure path logs too
        with django_capture_on_commit_callbacks(execute=True):
            _post(api_client, bot, {"update_id": 201, "message": _message("ещё")})
        _sent(fake_telegram)
        call_command("telegram_poll", "--bot", str(bot_id), "--once")  # refused: webhook active
    assert len(_sent(fake_telegram)) == 1
    captured = capsys.readouterr()
    everything = "\n".join(
        [caplog.text, stdout.getvalue(), captured.out, captured.err] + [str(r.__dict__) for r in caplog.records]
    )
    assert caplog.records  # the cycle did log
    token_secret_part = BOT_TOKEN.split(":", 1)[1]
    assert token_secret_part not in everything
    assert ADMIN_PASSWORD not in everything
    assert bot.webhook_secret not in everything


@pytest.fixture
def inbox_rejects_inserts(db):
    """The database refuses to store inbox rows (as with a full disk): a real PostgreSQL error."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION integrations_test_reject() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER integrations_test_reject BEFORE INSERT ON integrations_inboxitem "
            "FOR EACH ROW EXECUTE FUNCTION integrations_test_reject()"
        )


def test_raw_item_not_stored_means_5xx_so_telegram_retries(api_client, telegram_bot, inbox_rejects_inserts):
    response = _post(api_client, telegram_bot, {"update_id": 300, "message": _message()})
    assert response.status_code == 503
    assert response.json()["code"] == "inbox_unavailable"
    assert InboxItem.objects.count() == 0
    assert Lead.objects.count() == 0
