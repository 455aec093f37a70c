"""Consent by a confirming action in the channel (issue 14 point 1): Telegram's inline button
(callback_query), WhatsApp's reply button; a press from another chat gives no consent."""

import pytest

from apps.clients.models import Consent
from apps.documents.demo import ensure_requisites
from apps.integrations.models import OutboundMessage
from apps.integrations.tests.test_telegram import _message, _post
from apps.integrations.tests.test_whatsapp import _body, _text
from apps.integrations.tests.test_whatsapp import _post as _wa_post
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)


def _callback(lead_pk, *, from_id=555001, chat_id=555001, callback_id="cb-1"):
    return {
        "id": callback_id, "chat_instance": "42", "data": f"consent:{lead_pk}",
        "from": {"id": from_id, "is_bot": False, "first_name": "Иван"},
        "message": {"message_id": 1000, "date": 1764000000, "chat": {"id": chat_id, "type": "private"}},
    }


def test_telegram_first_reply_has_the_button_and_pressing_it_records_the_consent(api_client, telegram_bot,
                                                                                  fake_telegram):
    ensure_requisites()
    assert _post(api_client, telegram_bot, {"update_id": 1, "message": _message()}).status_code == 200
    lead = Lead.objects.get()
    (receipt,) = OutboundMessage.objects.all()
    assert receipt.buttons == [{"text": "Даю согласие", "data": f"consent:{lead.pk}"}]
    run_jobs()
    assert fake_telegram.sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"consent:{lead.pk}"

    assert _post(api_client, telegram_bot, {"update_id": 2, "callback_query": _callback(lead.pk)}).status_code == 200
    given = Consent.objects.get()
    assert (given.channel, given.lead_id, given.subject_kind) == ("telegram", lead.pk, "telegram")
    assert given.evidence_message_id == "telegram:callback:cb-1:message:555001:1000"
    run_jobs()  # answerCallbackQuery: the customer's spinner stops with a thank-you
    assert fake_telegram.answered == [{"callback_query_id": "cb-1", "text": "Спасибо! Согласие на обработку "
                                                                             "персональных данных получено."}]
    # A second message of the sender: no button any more.
    _post(api_client, telegram_bot, {"update_id": 3, "message": {**_message("Ещё вопрос"), "message_id": 12}})
    assert OutboundMessage.objects.order_by("pk").last().buttons == []


def test_telegram_press_from_another_user_or_chat_gives_no_consent(api_client, telegram_bot, fake_telegram):
    ensure_requisites()
    _post(api_client, telegram_bot, {"update_id": 1, "message": _message()})
    lead = Lead.objects.get()
    # Another user forges the callback data of this lead's button...
    spoofed = _callback(lead.pk, from_id=666002, chat_id=666002, callback_id="cb-x")
    assert _post(api_client, telegram_bot, {"update_id": 2, "callback_query": spoofed}).status_code == 200
    # ...or the right user id appears in a group chat (not the private chat with the bot).
    group = _callback(lead.pk, chat_id=-100500, callback_id="cb-g")
    _post(api_client, telegram_bot, {"update_id": 3, "callback_query": group})
    # ...or the data names a lead that does not exist.
    _post(api_client, telegram_bot, {"update_id": 4, "callback_query": {**_callback(999999), "id": "cb-n"}})
    assert not Consent.objects.exists()
    run_jobs()
    assert {a["callback_query_id"] for a in fake_telegram.answered} == {"cb-x", "cb-g", "cb-n"}
    assert all("другого человека" in a["text"] for a in fake_telegram.answered)


def _button_reply(wamid, wa_id, lead_pk):
    message = {"from": wa_id, "id": wamid, "timestamp": "1764000100", "type": "interactive",
               "context": {"from": "79000000000", "id": "wamid.ours"},
               "interactive": {"type": "button_reply", "button_reply": {"id": f"consent:{lead_pk}",
                                                                         "title": "Даю согласие"}}}
    return _body(message)


def test_whatsapp_button_reply_records_the_consent_of_its_sender_only(client, whatsapp_number):
    ensure_requisites()
    _wa_post(client, whatsapp_number, _body(_text()))
    lead = Lead.objects.get()
    # Another WhatsApp user presses a button naming this lead: the consent is not this sender's.
    raw = _button_reply("wamid.spoof", "79990000001", lead.pk)
    raw = raw.replace(b'"wa_id": "79161112233"', b'"wa_id": "79990000001"')
    assert _wa_post(client, whatsapp_number, raw).status_code == 200
    assert not Consent.objects.filter(lead_id=lead.pk).exists()

    assert _wa_post(client, whatsapp_number, _button_reply("wamid.yes", "79161112233", lead.pk)).status_code == 200
    given = Consent.objects.get(lead_id=lead.pk)
    assert (given.channel, given.subject_kind, given.evidence_message_id) == ("whatsapp", "whatsapp",
                                                                              "whatsapp:wamid.yes")
    assert "Даю согласие" in lead.messages.order_by("-id").first().text

