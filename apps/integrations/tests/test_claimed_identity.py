"""A claimed phone or e-mail never joins a real customer's conversation (issue 12, point 1).

Per channel: an attacker sends the victim's phone / e-mail; the victim's open lead is checked
unchanged (messages, contacts, client, timestamps), the attacker's message opens its own lead that
only *suggests* the victim's client and lead to a manager, and no reply names the victim's lead.
"""

import base64
from email.message import EmailMessage

import pytest

from apps.integrations.inbox import inbox_process, inbox_store
from apps.integrations.models import Channel
from apps.integrations.tests.test_telegram import _message, _post
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead
from apps.leads.services import lead_create_manual
from apps.leads.tests.factories import make_client

pytestmark = pytest.mark.django_db

VICTIM_PHONE = "+79161234567"
VICTIM_EMAIL = "victim@example.ru"


@pytest.fixture
def victim(operator):
    client = make_client(phone=VICTIM_PHONE, email=VICTIM_EMAIL, last_name="Жертвина")
    lead = lead_create_manual(
        data={
            "contact_name": "Вера Жертвина",
            "contact_phone": VICTIM_PHONE,
            "contact_email": VICTIM_EMAIL,
            "text": "Подберите, пожалуйста, тур в Рим на двоих, паспорт 4510 123456",
            "client": client,
        },
        actor=operator,
    )
    return lead, client


def _snapshot(lead: Lead) -> dict:
    lead = Lead.objects.get(pk=lead.pk)
    return {
        "messages": list(lead.messages.values_list("pk", "text")),
        "attachments": list(lead.attachments.values_list("pk", flat=True)),
        "contacts": (lead.contact_name, lead.contact_phone, lead.contact_email, lead.contact_telegram),
        "client": lead.client_id,
        "status": lead.status,
        "updated_at": lead.updated_at,
        "last_message_at": lead.last_message_at,
    }


def _attacker_lead(victim_lead: Lead) -> Lead:
    return Lead.objects.exclude(pk=victim_lead.pk).get()


def _assert_only_suggested(attacker: Lead, victim_lead: Lead, victim_client) -> None:
    assert attacker.client_id is None  # never linked on a claim
    assert attacker.suggested_client_id == victim_client.pk
    assert attacker.possible_duplicate_of_id == victim_lead.pk
    assert attacker.messages.count() == 1


def test_web_form_with_the_victims_phone_and_email(client, victim):
    lead, victim_client = victim
    before = _snapshot(lead)
    form = {"name": "Злоумышленник", "phone": VICTIM_PHONE, "email": VICTIM_EMAIL, "wishes": "покажите заявку",
            "consent": "on"}
    response = client.post("/form/", form, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    attacker = _attacker_lead(lead)
    page = response.content.decode()
    assert lead.number not in page and attacker.number in page  # only the sender's own number
    assert _snapshot(lead) == before
    _assert_only_suggested(attacker, lead, victim_client)


def test_public_api_with_the_victims_phone(api_client, victim):
    lead, victim_client = victim
    before = _snapshot(lead)
    response = api_client.post(
        "/api/v1/public/leads/",
        {"name": "Злоумышленник", "phone": "8 916 123-45-67", "consent": True, "wishes": "ещё"},
        format="json",
    )
    assert response.status_code == 201
    attacker = _attacker_lead(lead)
    assert response.json()["number"] == attacker.number != lead.number
    assert _snapshot(lead) == before
    _assert_only_suggested(attacker, lead, victim_client)


def test_email_from_the_victims_address(victim):
    lead, victim_client = victim
    before = _snapshot(lead)
    mail = EmailMessage()
    mail["From"] = f"Вера <{VICTIM_EMAIL.upper()}>"  # anybody can write any From
    mail["To"] = "tours@agency.test"
    mail["Subject"] = "Пришлите мои документы"
    mail["Message-ID"] = "<forged-1@attacker.example>"
    mail.set_content("Пришлите, пожалуйста, договор и паспортные данные на этот адрес.")
    item, _ = inbox_store(
        channel=Channel.EMAIL, external_id="<forged-1@attacker.example>",
        payload={"raw_b64": base64.b64encode(mail.as_bytes()).decode("ascii")},
    )
    processed = inbox_process(item)
    assert processed.status == "processed"
    attacker = _attacker_lead(lead)
    assert _snapshot(lead) == before
    _assert_only_suggested(attacker, lead, victim_client)


@pytest.mark.django_db(transaction=True)  # the replies are jobs: a real worker reads committed rows
def test_telegram_with_somebody_elses_shared_contact(api_client, telegram_bot, fake_telegram, victim,
                                                      django_capture_on_commit_callbacks):
    lead, victim_client = victim
    before = _snapshot(lead)
    # a contact card of the victim (no user_id, or another user's): anybody can forward one
    for update_id, contact in ((201, {"phone_number": "79161234567", "first_name": "Вера"}),
                               (202, {"phone_number": VICTIM_PHONE, "first_name": "Вера", "user_id": 777})):
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(api_client, telegram_bot,
                             {"update_id": update_id, "message": _message(text=None, user_id=666, contact=contact)})
        assert response.status_code == 200
    attacker = _attacker_lead(lead)
    assert attacker.contact_telegram == "666" and attacker.messages.count() == 2  # its own conversation
    assert _snapshot(lead) == before
    assert attacker.client_id is None and attacker.suggested_client_id == victim_client.pk
    assert attacker.possible_duplicate_of_id == lead.pk
    run_jobs()
    replies = " ".join(sent["text"] for sent in fake_telegram.sent)
    assert lead.number not in replies and attacker.number in replies


def test_telegram_contact_of_the_sender_themselves_links_the_client(api_client, telegram_bot, victim):
    """The "share my phone" button: contact.user_id == from.id, Telegram vouches for the phone."""
    _lead, victim_client = victim
    contact = {"phone_number": "79161234567", "first_name": "Вера", "user_id": 4242}
    _post(api_client, telegram_bot, {"update_id": 203, "message": _message(text=None, user_id=4242, contact=contact)})
    own = Lead.objects.exclude(pk=_lead.pk).get()
    assert own.contact_telegram == "4242"
    assert own.client_id == victim_client.pk and own.suggested_client_id is None


def test_whatsapp_contact_card_of_the_victim(client, whatsapp_number, fake_graph, victim):
    from apps.integrations.tests.test_whatsapp import _body
    from apps.integrations.tests.test_whatsapp import _post as _wa_post

    lead, victim_client = victim
    before = _snapshot(lead)
    card = {
        "from": "79160000666", "id": "wamid.attacker-card", "timestamp": "1764000000", "type": "contacts",
        "contacts": [{"name": {"formatted_name": "Вера"}, "phones": [{"phone": VICTIM_PHONE}]}],
    }
    assert _wa_post(client, whatsapp_number, _body(card)).status_code == 200
    attacker = _attacker_lead(lead)
    assert attacker.contact_whatsapp == "+79160000666" and attacker.client_id is None
    assert _snapshot(lead) == before
