"""Replying to the customer from the lead: Telegram through the job queue (a fake Bot API on
127.0.0.1), the delivery status on the lead's page, WhatsApp's 24-hour window, no double sends."""

from datetime import timedelta

import pytest
from django.test import Client as WebClient
from django.utils import timezone

from apps.integrations.models import OutboundMessage, OutboundStatus
from apps.integrations.tests.conftest import _settings, fake_telegram, telegram_bot  # noqa: F401 - fixtures
from apps.jobs.worker import run_jobs
from apps.leads.models import LeadMessage
from apps.leads.services import lead_ingest

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reads committed jobs


@pytest.fixture(autouse=True)
def settings_for_integrations(_settings):  # noqa: F811
    return _settings


def _web(user):
    client = WebClient()
    client.force_login(user)
    return client


def test_reply_in_telegram_is_sent_once_with_its_status(operator, telegram_bot, fake_telegram):  # noqa: F811
    lead = lead_ingest(channel="telegram", external_id="tg:1", sender={"telegram_id": 777001, "name": "Ирина"},
                       text="Сколько стоит Стамбул?").lead
    web = _web(operator)
    page = web.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "Ответ клиенту (Telegram)" in page
    token = page.split('name="token" value="')[1].split('"')[0]
    for _ in range(2):  # a double click sends once
        response = web.post(f"/admin/leads/lead/{lead.pk}/reply/", {"text": "Здравствуйте! От 45 000 ₽.",
                                                                    "token": token})
        assert response.status_code == 302
    assert OutboundMessage.objects.filter(lead_pk=lead.pk).count() == 1
    assert LeadMessage.objects.filter(lead=lead, direction="out").count() == 1
    assert "ждёт отправки" in web.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    run_jobs()
    (sent,) = fake_telegram.sent_to(777001)
    # The first message to this sender carries the consent link and button (152-FZ).
    assert sent["text"].startswith("Здравствуйте! От 45 000 ₽.") and "/consent/" in sent["text"]
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"consent:{lead.pk}"
    message = OutboundMessage.objects.get(lead_pk=lead.pk)
    assert message.status == OutboundStatus.SENT
    assert "отправлено" in web.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()


def test_empty_reply_and_accountant_are_refused(operator, accountant, telegram_bot):  # noqa: F811
    lead = lead_ingest(channel="telegram", external_id="tg:2", sender={"telegram_id": 777002, "name": "Ира"},
                       text="Привет").lead
    page = _web(operator).post(f"/admin/leads/lead/{lead.pk}/reply/", {"text": "  ", "token": "t"},
                               follow=True).content.decode()
    assert "Напишите текст ответа" in page
    assert _web(accountant).post(f"/admin/leads/lead/{lead.pk}/reply/", {"text": "x", "token": "t"}).status_code == 403
    assert not OutboundMessage.objects.exists()


def test_whatsapp_outside_24_hours_is_a_clear_message(operator):
    lead = lead_ingest(channel="whatsapp", external_id="wa:1", sender={"whatsapp_id": "79161234567", "name": "Ян"},
                       text="Здравствуйте", received_at=timezone.now() - timedelta(hours=30)).lead
    page = _web(operator).get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "больше 24 часов назад" in page
    page = _web(operator).post(f"/admin/leads/lead/{lead.pk}/reply/", {"text": "Ответ", "token": "t"},
                               follow=True).content.decode()
    assert "больше 24 часов назад" in page
    assert not OutboundMessage.objects.exists()
