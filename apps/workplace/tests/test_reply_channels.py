"""Replying from the lead on WhatsApp (Graph fake, 24-hour window, 429/5xx retried, files) and by
e-mail (a real SMTP server: STARTTLS, login, threading, files, 4xx retried, an unanswered DATA is
«доставка не подтверждена»); the offer PDF of the lead's order as an attachment; resending."""

import email.utils
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as WebClient
from django.utils import timezone

from apps.documents.demo import build_demo_order, ensure_requisites
from apps.documents.services import default_templates_refresh, document_generate, load_default_templates
from apps.integrations.models import IntegrationSettings, OutboundMessage, OutboundStatus
from apps.integrations.testing.fake_smtp import PASSWORD, USER, SmtpServer
from apps.integrations.tests.conftest import (  # noqa: F401 - fixtures
    _settings,
    fake_graph,
    fake_telegram,
    telegram_bot,
    whatsapp_number,
)
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead, LeadMessage
from apps.leads.services import lead_ingest

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reads committed jobs
WA_ID = "79161234567"


@pytest.fixture(autouse=True)
def settings_for_integrations(_settings):  # noqa: F811
    return _settings


@pytest.fixture
def smtp_server():
    server = SmtpServer("starttls").start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(db, smtp_server, settings) -> IntegrationSettings:
    settings.IMAP_CA_FILE = str(smtp_server.cert)
    return IntegrationSettings.objects.create(
        type="email", purpose="sales", bot_name="Турагентство", is_active=True, imap_host="127.0.0.1",
        imap_user=USER, imap_password="x", smtp_host="127.0.0.1", smtp_port=smtp_server.port,
        smtp_security="starttls", smtp_user=USER, smtp_password=PASSWORD,
    )


def _web(user):
    client = WebClient()
    client.force_login(user)
    return client


def _reply(web, lead, text="", **data):
    page = web.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    token = page.split('name="token" value="')[1].split('"')[0]
    return web.post(f"/admin/leads/lead/{lead.pk}/reply/", {"text": text, "token": token, **data}, follow=True)


def _due_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = NULL WHERE status = 'todo'")


def _wa_lead(number, hours_ago=1):
    return lead_ingest(channel="whatsapp", external_id="wamid.in1", sender={"whatsapp_id": WA_ID, "name": "Ян"},
                       text="Здравствуйте, хотим в Анталью", payload={"integration_id": number.pk},
                       received_at=timezone.now() - timedelta(hours=hours_ago)).lead


def test_whatsapp_reply_with_the_consent_button_then_plain_text(operator, whatsapp_number, fake_graph):  # noqa: F811
    lead = _wa_lead(whatsapp_number)
    _reply(_web(operator), lead, "Здравствуйте! Подберём варианты.")
    run_jobs()
    (first,) = fake_graph.sent
    assert first["to"] == WA_ID and first["type"] == "interactive"
    assert first["interactive"]["body"]["text"].startswith("Здравствуйте! Подберём варианты.")
    assert "/consent/" in first["interactive"]["body"]["text"]
    assert first["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": f"consent:{lead.pk}", "title": "Даю согласие"}}]
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.SENT and message.external_id == first["id"]
    assert WA_ID not in message.chat_id  # masked on the row; the number itself is encrypted in meta

    _reply(_web(operator), lead, "Второй ответ")
    run_jobs()
    assert fake_graph.sent[1]["type"] == "text" and fake_graph.sent[1]["text"]["body"] == "Второй ответ"


def test_whatsapp_429_and_5xx_are_retried_and_sent_once(operator, whatsapp_number, fake_graph):  # noqa: F811
    lead = _wa_lead(whatsapp_number)
    fake_graph.fail_next = [429, 503]
    _reply(_web(operator), lead, "Ответ")
    run_jobs()
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.PENDING and "подождать" in message.error
    for _ in range(2):
        _due_now()
        run_jobs()
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT and message.attempts == 3
    assert len(fake_graph.sent) == 1


def test_whatsapp_window_closed_at_graph_fails_with_a_russian_reason(
    operator, whatsapp_number, fake_graph  # noqa: F811
):
    lead = _wa_lead(whatsapp_number)
    fake_graph.window_closed.add(WA_ID)
    _reply(_web(operator), lead, "Ответ")
    run_jobs()
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.FAILED and "24 часов" in message.error
    page = _web(operator).get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "не отправлено" in page and "Отправить ещё раз" in page


def test_whatsapp_outside_the_window_queues_nothing(operator, whatsapp_number):  # noqa: F811
    lead = _wa_lead(whatsapp_number, hours_ago=25)
    web = _web(operator)
    assert "больше 24 часов назад" in web.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    page = web.post(f"/admin/leads/lead/{lead.pk}/reply/", {"text": "Ответ", "token": "t"},
                    follow=True).content.decode()
    assert "больше 24 часов назад" in page
    assert not OutboundMessage.objects.exists()


def test_whatsapp_file_is_uploaded_then_sent_as_a_document(operator, whatsapp_number, fake_graph):  # noqa: F811
    lead = _wa_lead(whatsapp_number)
    upload = SimpleUploadedFile("Программа тура.pdf", b"%PDF-1.7 tour", content_type="application/pdf")
    _reply(_web(operator), lead, "Программа во вложении", files=upload)
    run_jobs()
    kinds = [m["type"] for m in fake_graph.sent]
    assert kinds == ["interactive", "document"]
    document = fake_graph.sent[1]["document"]
    assert document["filename"] == "Программа тура.pdf"
    assert fake_graph.uploads[document["id"]]["content"] == b"%PDF-1.7 tour"
    assert OutboundMessage.objects.get().parts_done == 2


def _mail_lead(mailbox):
    first = lead_ingest(channel="email", external_id="<m1@customer.test>", text="Тема: Тур в Турцию\n\nДобрый день",
                        sender={"email": "anna@customer.test", "name": "Анна"},
                        payload={"integration_id": mailbox.pk, "message_id": "<m1@customer.test>",
                                 "subject": "Тур в Турцию"}).lead
    # The customer's second letter in the same conversation (e-mail senders are not verified, so
    # the intake keeps it apart; here it is simply the lead's later message).
    LeadMessage.objects.create(lead=first, channel="email", external_id="<m2@customer.test>", text="Ещё вопрос",
                               received_at=timezone.now() + timedelta(seconds=1),
                               payload={"integration_id": mailbox.pk, "message_id": "<m2@customer.test>",
                                        "subject": "Re: Тур в Турцию"})
    return Lead.objects.get(pk=first.pk)


def test_email_reply_is_threaded_with_the_consent_link_and_a_file(operator, mailbox, smtp_server):
    lead = _mail_lead(mailbox)
    upload = SimpleUploadedFile("Памятка.pdf", b"%PDF-1.7 memo", content_type="application/pdf")
    _reply(_web(operator), lead, "Добрый день! Варианты во вложении.", files=upload)
    run_jobs()
    (letter,) = smtp_server.messages()
    assert letter["To"] == "anna@customer.test"
    assert email.utils.parseaddr(letter["From"])[1] == USER
    assert letter["Subject"] == "Re: Тур в Турцию"
    assert letter["In-Reply-To"] == "<m2@customer.test>"
    assert letter["References"].split() == ["<m1@customer.test>", "<m2@customer.test>"]
    body = letter.get_body(("plain",)).get_content()
    assert body.startswith("Добрый день! Варианты во вложении.") and "/consent/" in body
    (attachment,) = list(letter.iter_attachments())
    assert attachment.get_filename() == "Памятка.pdf" and attachment.get_content() == b"%PDF-1.7 memo"
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.SENT and message.external_id == letter["Message-ID"]
    assert message.buttons == []  # an e-mail's From is not verified: consent by the link only


def test_email_4xx_is_retried_and_an_unanswered_data_is_unconfirmed(operator, mailbox, smtp_server, settings):
    lead = _mail_lead(mailbox)
    smtp_server.refuse_data = 1
    _reply(_web(operator), lead, "Первый")
    run_jobs()
    _due_now()
    run_jobs()
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.SENT and message.attempts == 2  # 451 at DATA: tried again
    assert len(smtp_server.received) == 1

    settings.HTTP_TIMEOUT_SECONDS = 1
    smtp_server.hang_after_data, smtp_server.hang_seconds = 1, 3
    _reply(_web(operator), lead, "Второй")
    run_jobs()
    second = OutboundMessage.objects.order_by("pk").last()
    assert second.status == OutboundStatus.UNCONFIRMED and "не подтвердил" in second.error
    assert len(smtp_server.received) == 2  # the server has it; we could not know — no blind resend
    run_jobs()
    assert len(smtp_server.received) == 2


def test_offer_pdf_of_the_lead_order_goes_with_a_telegram_reply(operator, telegram_bot, fake_telegram):  # noqa: F811
    ensure_requisites()
    load_default_templates()
    default_templates_refresh()
    order = build_demo_order(services=2, actor=None, unique="77", confirm=True)
    offer = document_generate(order=order, doc_type="offer")
    lead = lead_ingest(channel="telegram", external_id="tg:9", sender={"telegram_id": 777009, "name": "Ира"},
                       text="Пришлите КП").lead
    Lead.objects.filter(pk=lead.pk).update(order=order)
    page = _web(operator).get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert f'name="documents" value="{offer.pk}"' in page
    _reply(_web(operator), lead, "КП во вложении", documents=[offer.pk])
    run_jobs()
    (document,) = fake_telegram.documents
    assert document["name"].startswith("Коммерческое предложение") and document["content"].startswith(b"%PDF")
    outgoing = LeadMessage.objects.get(lead=lead, direction="out")
    assert outgoing.payload["files"] == [document["name"]]


def test_unconfirmed_reply_is_shown_and_resent_on_request(operator, telegram_bot, fake_telegram):  # noqa: F811
    lead = lead_ingest(channel="telegram", external_id="tg:10", sender={"telegram_id": 777010, "name": "Ира"},
                       text="Привет").lead
    fake_telegram.answer_drop = 1
    _reply(_web(operator), lead, "Ответ")
    run_jobs()
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.UNCONFIRMED
    page = _web(operator).get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "доставка не подтверждена" in page and f'name="resend" value="{message.pk}"' in page
    conversation = page.split('id="messages-group"')[1].split("</table>")[0]  # the conversation inline
    assert "доставка не подтверждена: Telegram не ответил" in conversation
    page = _web(operator).post(f"/admin/leads/lead/{lead.pk}/reply/", {"resend": message.pk},
                               follow=True).content.decode()
    assert "снова поставлено в очередь" in page
    run_jobs()
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT and len(fake_telegram.sent) == 2  # the manager chose a copy
