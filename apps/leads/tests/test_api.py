import datetime as dt
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError
from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.core.storage import ensure_bucket
from apps.leads.models import Lead
from apps.leads.services import IncomingAttachment, lead_ingest
from apps.leads.tests.factories import make_client
from conftest import fetch_download

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads/"


@pytest.fixture(autouse=True, scope="module")
def _bucket():
    try:
        ensure_bucket()
    except ClientError:
        pass


def incoming(external_id, channel="web", **sender):
    sender = sender or {"name": "Гость", "phone": f"+7916{int(external_id):07d}"}
    return lead_ingest(channel=channel, external_id=external_id, sender=sender, text="Хочу тур").lead


def test_list_filters_by_status_source_operator_and_date(operator_api, operator):
    web = incoming("1")
    telegram = incoming("2", channel="telegram", telegram_id="777")
    operator_api.post(f"{URL}{telegram.pk}/take/")
    Lead.objects.filter(pk=web.pk).update(created_at=timezone.now() - dt.timedelta(days=10))

    def numbers(query):
        response = operator_api.get(URL + query)
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    assert numbers("?status=new") == {web.number}
    assert numbers("?status=new&status=in_progress") == {web.number, telegram.number}
    assert numbers("?source=telegram") == {telegram.number}
    assert numbers(f"?operator={operator.pk}") == {telegram.number}
    today = timezone.localdate().isoformat()
    assert numbers(f"?created_from={today}") == {telegram.number}
    assert numbers(f"?created_to={(timezone.localdate() - dt.timedelta(days=5)).isoformat()}") == {web.number}
    assert operator_api.get(URL + "?status=nonsense").status_code == 400


def test_list_runs_a_constant_number_of_queries(operator_api, django_assert_max_num_queries):
    client = make_client(phone="+79990000000")
    for n in range(3):
        incoming(str(n))
    with django_assert_max_num_queries(6):
        assert operator_api.get(URL).status_code == 200
    for n in range(3, 30):
        lead = incoming(str(n))
        Lead.objects.filter(pk=lead.pk).update(client=client)
    with django_assert_max_num_queries(6):
        response = operator_api.get(URL + "?page_size=50")
    assert response.json()["count"] == 30


def test_manual_lead_is_created_with_source_manual(operator_api, operator):
    client = make_client(email="buyer@example.com")
    response = operator_api.post(
        URL,
        {"contact_name": "Ольга", "contact_email": "Buyer@Example.com", "text": "Пришла в офис"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "manual" and body["status"] == "new" and body["number"].startswith("L-")
    assert body["client"] == client.pk and body["client_name"] == client.full_name
    assert body["operator"] == operator.pk
    assert body["contact_email"] == "buyer@example.com"
    assert [m["text"] for m in body["messages"]] == ["Пришла в офис"]


def test_manual_lead_with_a_bad_phone_is_a_field_error(operator_api):
    response = operator_api.post(URL, {"contact_name": "Ольга", "contact_phone": "12-34"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "contact_phone" in body["fields"]
    empty = operator_api.post(URL, {}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "validation_error"


def test_detail_has_messages_and_attachment_links(operator_api):
    lead = lead_ingest(
        channel="telegram", external_id="9", sender={"telegram_id": "1"}, text="Файл",
        attachments=[IncomingAttachment("ticket.pdf", "application/pdf", b"%PDF-1", 6)],
    ).lead
    body = operator_api.get(f"{URL}{lead.pk}/").json()
    assert [m["text"] for m in body["messages"]] == ["Файл"]
    attachment = body["attachments"][0]
    assert attachment["name"] == "ticket.pdf" and attachment["size"] == 6
    assert attachment["url"].startswith("/files/")  # stored encrypted: the app decrypts and streams (issue 14)


def test_messages_and_attachments_are_hidden_without_the_personal_data_right(accountant_api, operator_api):
    lead = lead_ingest(
        channel="telegram", external_id="9", sender={"telegram_id": "1"},
        text="Мой паспорт 4510 123012, родился 01.03.1985, тел. восемь девятьсот шестнадцать",
        attachments=[IncomingAttachment("passport_ivanov.jpg", "image/jpeg", b"\xff\xd8\xff\xe0", 4)],
    ).lead
    response = accountant_api.get(f"{URL}{lead.pk}/")
    assert response.status_code == 200
    raw = response.content.decode()
    assert "4510" not in raw and "1985" not in raw and "passport_ivanov" not in raw and "Signature" not in raw
    body = response.json()
    assert [(m["text"], m["external_id"]) for m in body["messages"]] == [(None, None)]
    assert body["attachments"][0]["name"] == "скрыто" and body["attachments"][0]["url"] is None
    assert body["attachments"][0]["size"] == 4  # what was sent stays visible, not what it says
    seen = operator_api.get(f"{URL}{lead.pk}/").json()
    assert "4510 123012" in seen["messages"][0]["text"]
    assert seen["attachments"][0]["name"] == "passport_ivanov.jpg" and seen["attachments"][0]["url"]


def test_attachment_type_comes_from_its_bytes_and_its_link_is_an_attachment(operator_api):
    lead = lead_ingest(
        channel="telegram", external_id="9", sender={"telegram_id": "1"}, text="Фото",
        attachments=[IncomingAttachment("фото.jpg", "image/jpeg", b"<html><script>alert(1)</script></html>", 38),
                     IncomingAttachment("Билет Москва.pdf", "application/pdf", b"%PDF-1.7 ticket", 15)],
    ).lead
    attachments = {a["name"]: a for a in operator_api.get(f"{URL}{lead.pk}/").json()["attachments"]}
    assert attachments["фото.jpg"]["content_type"] == "application/octet-stream"  # not what the sender said
    ticket = attachments["Билет Москва.pdf"]
    assert ticket["content_type"] == "application/pdf"
    content, headers = fetch_download(ticket["url"])
    assert content == b"%PDF-1.7 ticket"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1]) == "Билет Москва.pdf"


def test_take_and_reject_actions_and_forbidden_transition(operator_api, operator):
    lead = incoming("1")
    taken = operator_api.post(f"{URL}{lead.pk}/take/")
    assert taken.status_code == 200 and taken.json()["status"] == "in_progress"
    assert taken.json()["operator"] == operator.pk
    no_reason = operator_api.post(f"{URL}{lead.pk}/reject/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    rejected = operator_api.post(f"{URL}{lead.pk}/reject/", {"reason": "Передумал"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["rejection_reason"] == "Передумал"
    again = operator_api.post(f"{URL}{lead.pk}/take/")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition" and again.json()["detail"]


def test_patch_assigns_operator_and_client(operator_api, supervisor):
    lead = incoming("1")
    client = make_client(phone="+79995554433")
    response = operator_api.patch(f"{URL}{lead.pk}/", {"operator": supervisor.pk, "client": client.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["operator"] == supervisor.pk and response.json()["client"] == client.pk
    missing = operator_api.patch(f"{URL}{lead.pk}/", {"client": 999999}, format="json")
    assert missing.status_code == 400 and "client" in missing.json()["fields"]


def test_accountant_reads_masked_data_and_cannot_write(accountant_api):
    lead = incoming("1", name="Гость", phone="+79161234567", email="guest@example.com")
    body = accountant_api.get(f"{URL}{lead.pk}/").json()
    assert body["contact_phone"] == "+7 *** ***-45-67"
    assert body["contact_email"] == "g***@example.com"
    assert body["payload"] is None
    assert accountant_api.post(URL, {"contact_name": "X"}, format="json").status_code == 403
    assert accountant_api.post(f"{URL}{lead.pk}/take/").status_code == 403
    assert accountant_api.patch(f"{URL}{lead.pk}/", {"operator": None}, format="json").status_code == 403


def test_personal_data_unmasked_only_with_the_permission(make_user, client_as):
    lead = incoming("1", phone="+79161234567")
    user = make_user("accountant")
    api = client_as(user)
    assert api.get(f"{URL}{lead.pk}/").json()["contact_phone"] != "+79161234567"
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    api = client_as(type(user).objects.get(pk=user.pk))
    assert api.get(f"{URL}{lead.pk}/").json()["contact_phone"] == "+79161234567"


def test_delete_is_for_supervisors(operator_api, supervisor_api):
    lead = incoming("1")
    assert operator_api.delete(f"{URL}{lead.pk}/").status_code == 403
    assert supervisor_api.delete(f"{URL}{lead.pk}/").status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()


def test_anonymous_is_refused(api_client):
    assert api_client.get(URL).status_code == 401


def test_audit_log_has_no_contact_data_in_plaintext(operator_api):
    from auditlog.models import LogEntry

    response = operator_api.post(
        URL, {"contact_name": "Секретов", "contact_phone": "+79161234567", "contact_email": "s@example.com"},
        format="json",
    )
    lead_id = response.json()["id"]
    operator_api.post(f"{URL}{lead_id}/take/")
    entries = LogEntry.objects.filter(content_type__model="lead", object_pk=str(lead_id))
    assert entries.count() == 2
    dumped = " ".join(f"{entry.changes} {entry.changes_text} {entry.object_repr}" for entry in entries)
    for plaintext in ("79161234567", "s@example.com", "Секретов"):
        assert plaintext not in dumped
    assert "in_progress" in dumped and entries.filter(actor__isnull=False).count() == 2


def test_accountant_cannot_reject(accountant_api):
    lead = incoming("1")
    assert accountant_api.post(f"{URL}{lead.pk}/reject/", {"reason": "x"}, format="json").status_code == 403


def _claimed_pair():
    """A WhatsApp customer's lead, then a web-form lead claiming the same phone (a suggestion)."""
    client = make_client(phone="+79165550011")
    own = lead_ingest(channel="whatsapp", external_id="wa-1", sender={"whatsapp_id": "79165550011"},
                      text="Нужен тур").lead
    claimed = lead_ingest(channel="web", external_id="web-1", sender={"name": "Кто-то", "phone": "+79165550011"},
                          text="Тоже тур").lead
    return client, own, claimed


def test_suggestions_are_shown_and_linked_after_a_look(operator_api, accountant_api):
    client, own, claimed = _claimed_pair()
    row = operator_api.get(f"{URL}{claimed.pk}/").json()
    assert row["client"] is None and row["suggested_client"] == client.pk
    assert row["suggested_client_name"] == client.full_name
    assert row["possible_duplicate_of"] == own.pk and row["possible_duplicate_of_number"] == own.number
    assert accountant_api.post(f"{URL}{claimed.pk}/link-client/", {}).status_code == 403
    linked = operator_api.post(f"{URL}{claimed.pk}/link-client/", {})
    assert linked.status_code == 200, linked.content
    assert linked.json()["client"] == client.pk and linked.json()["suggested_client"] is None
    again = operator_api.post(f"{URL}{claimed.pk}/link-client/", {})  # nothing suggested any more
    assert again.status_code == 400 and again.json()["code"] == "no_suggested_client"


def test_merge_into_the_possible_duplicate(operator_api, accountant_api):
    _client, own, claimed = _claimed_pair()
    own_messages = set(own.messages.values_list("pk", flat=True))
    assert accountant_api.post(f"{URL}{claimed.pk}/merge-into/", {}).status_code == 403
    response = operator_api.post(f"{URL}{claimed.pk}/merge-into/", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == own.pk and len(body["messages"]) == 2 and body["possible_duplicate_of"] is None
    assert own_messages < {message["id"] for message in body["messages"]}
    claimed.refresh_from_db()
    assert claimed.status == "rejected" and own.number in claimed.rejection_reason
    assert claimed.messages.count() == 0 and claimed.possible_duplicate_of_id == own.pk
    # a closed lead cannot be merged again; a lead without a hint needs a target; not into itself
    assert operator_api.post(f"{URL}{claimed.pk}/merge-into/", {}).json()["code"] == "lead_closed"
    assert operator_api.post(f"{URL}{own.pk}/merge-into/", {}).json()["code"] == "no_merge_target"
    itself = operator_api.post(f"{URL}{own.pk}/merge-into/", {"target": own.pk})
    assert itself.status_code == 400 and itself.json()["code"] == "merge_into_itself"
    missing = operator_api.post(f"{URL}{own.pk}/merge-into/", {"target": 999999})
    assert missing.status_code == 400 and "target" in missing.json()["fields"]


def test_list_with_suggestions_keeps_its_query_budget(operator_api, django_assert_max_num_queries):
    for n in range(3):
        _claimed_pair() if n == 0 else lead_ingest(
            channel="web", external_id=f"web-x{n}", sender={"phone": "+79165550011"}, text="ещё"
        )
    with django_assert_max_num_queries(6):
        rows = operator_api.get(URL).json()["results"]
    assert sum(1 for row in rows if row["possible_duplicate_of_number"]) == 3
