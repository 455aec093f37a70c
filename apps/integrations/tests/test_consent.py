"""Consent from messenger senders: the link in the first reply, «Согласен» in the chat, the public page."""

import pytest

from apps.clients.models import Consent
from apps.clients.tests.factories import make_client
from apps.documents.demo import ensure_requisites
from apps.integrations import consent
from apps.integrations.models import OutboundMessage
from apps.integrations.tests.test_telegram import _message, _post
from apps.integrations.tests.test_whatsapp import _body, _text
from apps.integrations.tests.test_whatsapp import _post as _wa_post
from apps.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_first_telegram_reply_links_the_consent_and_agreeing_in_the_chat_records_it(api_client, telegram_bot):
    ensure_requisites()
    assert _post(api_client, telegram_bot, {"update_id": 1, "message": _message()}).status_code == 200
    lead = Lead.objects.get()
    (reply,) = OutboundMessage.objects.all()
    assert "согласие на обработку персональных данных" in reply.text
    token = reply.text.split("/consent/")[1].split("/")[0]
    assert consent.lead_from_token(token) == lead
    assert not Consent.objects.exists()

    agree = {"update_id": 2, "message": {**_message("Согласен"), "message_id": 12}}
    assert _post(api_client, telegram_bot, agree).status_code == 200
    given = Consent.objects.get()
    assert (given.channel, given.lead_id, given.subject_kind) == ("telegram", lead.pk, "telegram")
    assert given.evidence_message_id == "telegram:555001:12"
    last_reply = OutboundMessage.objects.order_by("pk").last()
    assert OutboundMessage.objects.count() == 2 and "/consent/" not in last_reply.text

    client = make_client(telegram=["555001"])
    assert [c["id"] for c in api_client_card(client)] == [given.pk]


def api_client_card(client):
    from apps.clients.consents import consent_to_dict, consents_of_client

    return [consent_to_dict(c) for c in consents_of_client(client.pk)]


def test_second_lead_of_a_consenting_sender_gets_no_link(api_client, telegram_bot):
    ensure_requisites()
    _post(api_client, telegram_bot, {"update_id": 1, "message": _message()})
    _post(api_client, telegram_bot, {"update_id": 2, "message": {**_message("согласна"), "message_id": 12}})
    Lead.objects.update(status="rejected")
    _post(api_client, telegram_bot, {"update_id": 3, "message": {**_message("Ещё тур"), "message_id": 13}})
    assert Lead.objects.count() == 2
    assert "/consent/" not in OutboundMessage.objects.order_by("pk").last().text


def test_public_page_shows_the_text_and_records_the_consent(client, api_client, telegram_bot):
    requisites = ensure_requisites()
    _post(api_client, telegram_bot, {"update_id": 1, "message": _message()})
    lead = Lead.objects.get()
    url = f"/consent/{consent.consent_token(lead)}/"
    page = client.get(url)
    assert page.status_code == 200 and requisites.inn in page.content.decode()
    response = client.post(url, HTTP_USER_AGENT="Mozilla/5.0 test", REMOTE_ADDR="10.20.30.40")
    assert response.status_code == 200 and "Согласие получено" in response.content.decode()
    given = Consent.objects.get()
    assert (given.evidence_ip, given.evidence_user_agent, given.lead_id) == ("10.20.30.40", "Mozilla/5.0 test", lead.pk)
    client.post(url)
    assert Consent.objects.count() == 1  # pressing twice records one consent


def test_bad_or_forged_link_is_404(client):
    assert client.get("/consent/not-a-token/").status_code == 404
    assert client.post("/consent/eyJsZWFkIjoxfQ:forged:sig/").status_code == 404
    assert not Consent.objects.exists()


def test_whatsapp_agreement_records_the_consent(client, whatsapp_number):
    ensure_requisites()
    assert _wa_post(client, whatsapp_number, _body(_text())).status_code == 200
    assert _wa_post(client, whatsapp_number, _body(_text(wamid="wamid.2", body="Согласен"))).status_code == 200
    given = Consent.objects.get()
    assert (given.channel, given.subject_kind) == ("whatsapp", "whatsapp")
    assert given.evidence_message_id == "whatsapp:wamid.2"
