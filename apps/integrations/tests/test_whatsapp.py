"""WhatsApp Cloud API webhook: verification, X-Hub-Signature-256, text and media, statuses, dedup."""

import hashlib
import hmac
import json

import pytest
from django.core.files.storage import default_storage

from apps.integrations.errors import ChannelError, ChannelRejected
from apps.integrations.models import InboxItem, InboxStatus
from apps.integrations.tests.conftest import WA_APP_SECRET, WA_TOKEN, WA_VERIFY
from apps.integrations.whatsapp import client as whatsapp_client
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead, LeadAttachment, LeadMessage

pytestmark = pytest.mark.django_db


def _url(number) -> str:
    return f"/api/v1/integrations/whatsapp/{number.pk}/webhook/"


def _body(*messages, statuses=()) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "79000000000", "phone_number_id": "100200300"},
        "contacts": [{"profile": {"name": "Анна"}, "wa_id": "79161112233"}],
    }
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body, ensure_ascii=False).encode()


def _text(wamid="wamid.HBgLNzkxNjExMTIyMzMVAgASGBQzQTk", body="Здравствуйте, нужен тур в Турцию"):
    return {"from": "79161112233", "id": wamid, "timestamp": "1764000000", "type": "text", "text": {"body": body}}


def _post(client, number, raw: bytes, secret: str = WA_APP_SECRET, signature: str | None = None):
    signature = signature or "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(_url(number), raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


def test_verification_handshake(client, whatsapp_number):
    query = {"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY, "hub.challenge": "1158201444"}
    response = client.get(_url(whatsapp_number), query)
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert client.get(_url(whatsapp_number), {**query, "hub.verify_token": "wrong"}).status_code == 403
    assert client.get(_url(whatsapp_number), {**query, "hub.mode": "unsubscribe"}).status_code == 403


def test_bad_or_missing_signature_is_refused_and_nothing_stored(client, whatsapp_number):
    raw = _body(_text())
    assert _post(client, whatsapp_number, raw, secret="another-secret").status_code == 403
    assert _post(client, whatsapp_number, raw, signature="sha256=").status_code == 403
    assert client.post(_url(whatsapp_number), raw, content_type="application/json").status_code == 403
    # the signature covers the raw bytes: re-serialised JSON does not match
    signed_other = json.dumps(json.loads(raw)).encode()
    sig = "sha256=" + hmac.new(WA_APP_SECRET.encode(), signed_other, hashlib.sha256).hexdigest()
    assert _post(client, whatsapp_number, raw, signature=sig).status_code == 403
    assert InboxItem.objects.count() == 0


def test_text_message_becomes_a_lead_once(client, whatsapp_number):
    raw = _body(_text())
    assert _post(client, whatsapp_number, raw).status_code == 200
    assert _post(client, whatsapp_number, raw).status_code == 200  # Meta retries
    lead = Lead.objects.get()
    assert lead.source == "whatsapp"
    assert lead.contact_name == "Анна"
    assert lead.contact_whatsapp
    assert LeadMessage.objects.get().text == "Здравствуйте, нужен тур в Турцию"
    assert InboxItem.objects.get().status == InboxStatus.PROCESSED


def test_statuses_are_ignored(client, whatsapp_number):
    status = {"id": "wamid.out1", "status": "delivered", "timestamp": "1764000001", "recipient_id": "79161112233"}
    assert _post(client, whatsapp_number, _body(statuses=[status])).status_code == 200
    assert InboxItem.objects.count() == 0
    assert Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # the download is a job: a real worker reads committed rows
def test_media_is_fetched_through_the_graph_media_endpoint(client, whatsapp_number, fake_graph):
    media_id = fake_graph.add_media(b"\x89PNG passport photo", mime_type="image/png")
    image = {
        "from": "79161112233",
        "id": "wamid.IMG1",
        "timestamp": "1764000002",
        "type": "image",
        "image": {"id": media_id, "mime_type": "image/png", "caption": "Паспорт"},
    }
    assert _post(client, whatsapp_number, _body(image)).status_code == 200
    assert fake_graph.downloads == 0 and not LeadAttachment.objects.get().is_stored  # not in the request
    run_jobs()
    attachment = LeadAttachment.objects.get()
    assert attachment.content_type == "image/png"
    with default_storage.open(attachment.file.name) as stored:
        assert stored.read() == b"\x89PNG passport photo"
    assert LeadMessage.objects.get().text == "Паспорт"
    assert fake_graph.downloads == 1


@pytest.mark.django_db(transaction=True)
def test_unknown_media_is_noted_on_the_lead_not_lost(client, whatsapp_number, fake_graph):
    image = {"from": "79161112233", "id": "wamid.IMG2", "type": "image", "image": {"id": "unknown-media"}}
    assert _post(client, whatsapp_number, _body(image)).status_code == 200
    assert InboxItem.objects.get().status == InboxStatus.PROCESSED
    run_jobs()
    attachment = Lead.objects.get().attachments.get()
    assert not attachment.is_stored and "404" in attachment.note


def test_graph_get_retries_a_transient_5xx(fake_graph):
    media_id = fake_graph.add_media(b"\x89PNG photo", mime_type="image/png")
    fake_graph.fail_next = [503, 500]
    info, content = whatsapp_client.download_media(WA_TOKEN, media_id)
    assert content == b"\x89PNG photo" and info["mime_type"] == "image/png"
    assert fake_graph.requests == 4  # lookup: 503, 500, 200; download: 200


def test_graph_get_does_not_retry_a_4xx(fake_graph):
    with pytest.raises(ChannelRejected):
        whatsapp_client.media_info(WA_TOKEN, "unknown-media")
    assert fake_graph.requests == 1
    with pytest.raises(ChannelRejected):
        whatsapp_client.media_info("wrong-token", "unknown-media")
    assert fake_graph.requests == 2


def test_graph_5xx_after_every_attempt_is_a_channel_error(fake_graph, settings):
    settings.HTTP_RETRIES = 2
    fake_graph.fail_next = [502, 502, 502]
    with pytest.raises(ChannelError, match="502"):
        whatsapp_client.check_phone_number(WA_TOKEN, "100200300")
    assert fake_graph.requests == 2
