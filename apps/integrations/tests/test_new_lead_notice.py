"""A new lead notifies its responsible manager — or every manager when unassigned — in the admin's
header and, when configured, through the operators' Telegram bot (a job; never twice)."""

import pytest
from django.db import connection
from django.test import Client as WebClient
from django.test.utils import CaptureQueriesContext
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.accounts.models import Role
from apps.integrations.models import IntegrationSettings, OutboundMessage
from apps.integrations.tasks import notify_new_lead
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead
from apps.leads.services import lead_ingest

pytestmark = pytest.mark.django_db(transaction=True)
OPERATORS_TOKEN = "7000002:AAHoperatorsBotToken_abcdefghijklmnopqr"


@pytest.fixture
def operators_bot(db, fake_telegram) -> IntegrationSettings:
    fake_telegram.add_bot(OPERATORS_TOKEN, username="agency_operators_bot", bot_id=7000002)
    return IntegrationSettings.objects.create(type="telegram", purpose="operators", is_active=True,
                                              api_token_encrypted=OPERATORS_TOKEN, bot_name="agency_operators_bot")


def _ingest(external_id="wa:n1", whatsapp_id="79160000001"):
    return lead_ingest(channel="whatsapp", external_id=external_id,
                       sender={"whatsapp_id": whatsapp_id, "name": "Пётр Секретов"}, text="Хочу в Дубай").lead


def test_unassigned_lead_notifies_every_manager_with_a_chat_id(make_user, operators_bot, fake_telegram):
    first = make_user(Role.OPERATOR, telegram_chat_id="1001")
    make_user(Role.OPERATOR, telegram_chat_id="1002")
    make_user(Role.OPERATOR)  # no chat id: the admin's header only
    make_user(Role.SUPERVISOR, telegram_chat_id="1009")  # not a manager of new leads
    make_user(Role.OPERATOR, telegram_chat_id="1003", is_active=False)
    lead = _ingest()
    run_jobs()  # the notice job, then the two sends
    run_jobs()
    sent = {m["chat_id"]: m for m in fake_telegram.sent}
    assert set(sent) == {"1001", "1002"} and {m["token"] for m in sent.values()} == {OPERATORS_TOKEN}
    text = sent["1001"]["text"]
    assert lead.number in text and "без ответственного" in text
    assert f"/admin/leads/lead/{lead.pk}/change/" in text
    assert "Пётр" not in text and "79160000001" not in text  # no personal data in the notice

    notify_new_lead.defer(lead_id=lead.pk)  # a re-run sends nothing new
    run_jobs()
    run_jobs()
    assert len(fake_telegram.sent) == 2
    assert OutboundMessage.objects.filter(key__startswith="lead-notice:").count() == 2

    page = WebClient()
    page.force_login(first)
    html = page.get("/admin/").content.decode()
    assert "Новые заявки: 1" in html


def test_assigned_lead_notifies_its_manager_only(make_user, operators_bot, fake_telegram):
    mine = make_user(Role.OPERATOR, telegram_chat_id="2001")
    other = make_user(Role.OPERATOR, telegram_chat_id="2002")
    Lead.objects.create(source="manual", operator=mine, contact_name="Звонок")
    run_jobs()
    run_jobs()
    assert [m["chat_id"] for m in fake_telegram.sent] == ["2001"]
    assert "вы ответственный" in fake_telegram.sent[0]["text"]

    web = WebClient()
    web.force_login(other)
    assert "Новые заявки" not in web.get("/admin/").content.decode()  # another's lead: not in other's header


def test_operators_bot_but_no_manager_with_a_chat_id_enqueues_nothing(make_user, operators_bot, fake_telegram):
    make_user(Role.OPERATOR)  # no chat id
    _ingest("wa:n4")
    assert not ProcrastinateJob.objects.filter(task_name="integrations.notify_new_lead").exists()
    make_user(Role.OPERATOR, telegram_chat_id="4001")
    _ingest("wa:n5", whatsapp_id="79160000005")  # another sender's new lead: now someone can be told
    assert ProcrastinateJob.objects.filter(task_name="integrations.notify_new_lead").count() == 1
    run_jobs()
    run_jobs()
    assert [m["chat_id"] for m in fake_telegram.sent] == ["4001"]


def test_without_the_operators_bot_nothing_is_sent_and_the_header_still_counts(make_user, fake_telegram):
    manager = make_user(Role.OPERATOR, telegram_chat_id="3001")
    _ingest("wa:n3")
    # Nobody could be notified: no job at all (issue 15 — it was a worker run for every lead).
    assert not ProcrastinateJob.objects.filter(task_name="integrations.notify_new_lead").exists()
    run_jobs()
    assert not OutboundMessage.objects.exists() and fake_telegram.sent == []
    web = WebClient()
    web.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        html = web.get("/admin/leads/lead/").content.decode()
    assert "Новые заявки: 1" in html
    badge = [q["sql"] for q in queries.captured_queries if '"leads_lead"' in q["sql"] and "'new'" in q["sql"]
             and "LIMIT 100" in q["sql"]]
    assert len(badge) == 1  # the badge costs one bounded query
