"""152-FZ subject requests: export everything held, anonymise while keeping the books, the act."""

import io
import json
import subprocess
import zipfile

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.files.storage import default_storage

from apps.audit.models import AccessLogEntry, DestructionRecord
from apps.clients.models import Client, ClientContact, ClientFile, ClientPassport
from apps.clients.selectors import clients_by_contacts
from apps.documents.models import Document
from apps.finance.models import Payment
from apps.leads.models import Lead, LeadAttachment, LeadMessage
from apps.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def _finish(order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)


def test_export_holds_everything_and_is_recorded(supervisor_api, supervisor, subject, django_assert_max_num_queries):
    client = subject["client"]
    with django_assert_max_num_queries(30):
        response = supervisor_api.get(f"/api/v1/clients/{client.pk}/personal-data/")
    assert response.status_code == 200
    data = response.json()
    assert data["client"]["id"] == client.pk
    assert {c["kind"] for c in data["client"]["contacts"]} >= {"phone", "email"}
    assert data["client"]["passports"] and data["files"][0]["name"] == "passport.jpg"
    (lead,) = data["leads"]
    assert lead["messages"][0]["text"].startswith("Хочу в Турцию")
    assert lead["attachments"][0]["name"] == "anna-passport.jpg"
    assert data["orders"][0]["number"] == subject["order"].number and data["orders"][0]["services"]
    assert data["payments"][0]["amount"] == "1000.00"
    assert {d["type"] for d in data["documents"]} == {"contract"}
    assert LogEntry.objects.filter(additional_data__event="subject_export", object_pk=str(client.pk),
                                   actor=supervisor).exists()
    assert AccessLogEntry.objects.filter(channel="subject_export", client_ids=[client.pk]).exists()


def test_export_zip_has_the_files(supervisor_api, subject):
    response = supervisor_api.get(f"/api/v1/clients/{subject['client'].pk}/personal-data/", {"format": "zip"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert "personal-data.json" in names
    assert any(n.startswith("files/") for n in names) and any(n.startswith("leads/") for n in names)
    scan = next(n for n in names if n.startswith("files/"))
    assert archive.read(scan).startswith(b"\xff\xd8\xff")
    assert json.loads(archive.read("personal-data.json"))["client"]["id"] == subject["client"].pk


@pytest.mark.parametrize("fixture", ["operator_api", "accountant_api"])
def test_only_supervisors(request, subject, fixture):
    api = request.getfixturevalue(fixture)
    client = subject["client"]
    assert api.get(f"/api/v1/clients/{client.pk}/personal-data/").status_code == 403
    assert api.post(f"/api/v1/clients/{client.pk}/anonymize/", {"reason": "x"}, format="json").status_code == 403


def test_missing_client_and_bad_body(supervisor_api, subject):
    assert supervisor_api.get("/api/v1/clients/99999999/personal-data/").status_code == 404
    assert supervisor_api.post("/api/v1/clients/99999999/anonymize/", {"reason": "x"}, format="json").status_code == 404
    response = supervisor_api.post(f"/api/v1/clients/{subject['client'].pk}/anonymize/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["fields"]


def test_refused_while_an_order_is_in_progress(supervisor_api, subject):
    client = subject["client"]
    response = supervisor_api.post(f"/api/v1/clients/{client.pk}/anonymize/", {"reason": "Отзыв"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "orders_in_progress" and subject["order"].number in body["orders"]
    assert Client.objects.get(pk=client.pk).last_name != "Клиент удалён (152-ФЗ)"
    assert not DestructionRecord.objects.exists()


def test_anonymize_erases_the_person_and_keeps_the_books(
    supervisor_api, supervisor, subject, django_capture_on_commit_callbacks
):
    client, order, lead = subject["client"], subject["order"], subject["lead"]
    phone = ClientContact.objects.filter(client=client, kind="phone").first().value
    stored_keys = [subject["scan"].file.name, subject["document"].file.name,
                   *LeadAttachment.objects.filter(lead=lead).values_list("file", flat=True)]
    total_before = Order.objects.get(pk=order.pk).total_amount
    _finish(order)
    inbox_model = apps.get_model("integrations", "InboxItem")
    inbox = inbox_model.objects.create(channel="telegram", external_id="tg-1", lead_pk=lead.pk,
                                       payload={"message": {"text": "мой паспорт 4510 123456"}})

    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor_api.post(f"/api/v1/clients/{client.pk}/anonymize/",
                                       {"reason": "Отзыв согласия по заявлению от 01.12.2026"}, format="json")
    assert response.status_code == 201, response.content
    record = DestructionRecord.objects.get(pk=response.json()["id"])

    erased = Client.all_objects.get(pk=client.pk)
    assert erased.full_name == f"Клиент удалён (152-ФЗ) #{client.pk}"
    assert erased.birth_date is None and erased.notes == ""
    for model in (ClientContact, ClientPassport, ClientFile):
        assert not model.objects.filter(client_id=client.pk).exists()
    assert clients_by_contacts(phones=[phone]) == []
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.contact_name == "" and lead.telegram_index == "" and lead.payload == {}
    assert all(m.text == "" for m in LeadMessage.objects.filter(lead=lead))
    assert not LeadAttachment.objects.filter(lead=lead).exists()
    assert inbox_model.objects.get(pk=inbox.pk).payload is None
    # The books stay: the order, its total, the payment, the document row and number.
    assert Order.objects.get(pk=order.pk).total_amount == total_before
    assert Payment.objects.filter(pk=subject["payment"].pk, amount="1000.00").exists()
    document = Document.objects.get(pk=subject["document"].pk)
    assert document.number == subject["document"].number and not document.file
    for key in stored_keys:
        assert not default_storage.exists(key), key
    # The audit log keeps that things happened, not the name.
    for entry in LogEntry.objects.filter(content_type__model="client", object_pk=str(client.pk)):
        assert "Иванов" not in entry.object_repr and client.last_name not in str(entry.changes)
    assert record.performed_by == supervisor and "Отзыв согласия" in record.reason
    assert record.details["contacts"] >= 1 and record.details["lead_messages"] == 1
    again = supervisor_api.post(f"/api/v1/clients/{client.pk}/anonymize/", {"reason": "ещё раз"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_anonymized"


def test_force_anonymizes_with_an_order_in_progress(supervisor_api, subject):
    response = supervisor_api.post(f"/api/v1/clients/{subject['client'].pk}/anonymize/",
                                   {"reason": "Требование субъекта", "force": True}, format="json")
    assert response.status_code == 201
    assert Order.objects.get(pk=subject["order"].pk).client_id == subject["client"].pk


def test_destruction_act_pdf(supervisor_api, subject, tmp_path):
    _finish(subject["order"])
    record_id = supervisor_api.post(f"/api/v1/clients/{subject['client'].pk}/anonymize/",
                                    {"reason": "Истёк срок хранения"}, format="json").json()["id"]
    response = supervisor_api.get(f"/api/v1/audit/destructions/{record_id}/act/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pdf = tmp_path / "act.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    for words in ("Акт об уничтожении персональных данных", "Истёк срок хранения", "Способ уничтожения",
                  f"#{subject['client'].pk}"):
        assert words in text.replace("\n", " "), words


def test_admin_action_asks_for_a_reason_then_anonymizes(admin_user, subject):
    from django.test import Client as BrowserClient

    _finish(subject["order"])
    client = subject["client"]
    browser = BrowserClient()
    browser.force_login(admin_user)
    form = {"action": "anonymize_clients", "_selected_action": [client.pk]}
    page = browser.post("/admin/clients/client/", form)
    assert page.status_code == 200 and "Причина уничтожения" in page.content.decode()
    assert not DestructionRecord.objects.exists()
    browser.post("/admin/clients/client/", {**form, "confirm": "1", "reason": "Заявление субъекта"})
    record = DestructionRecord.objects.get(client_id=client.pk)
    act = browser.get(f"/admin/audit/destructionrecord/{record.pk}/act/")
    assert act.status_code == 200 and act.content.startswith(b"%PDF")


def test_export_zip_streams_a_big_file_in_constant_memory(supervisor_api, subject, tmp_path):
    """A 24 MB scan (random: it does not compress) goes through the zip chunk by chunk: decrypted,
    compressed and sent without ever being whole in memory, and nothing is spooled."""
    import hashlib
    import os
    import tracemalloc

    from django.core.files.base import ContentFile

    size = 24 * 1024 * 1024
    content = b"\xff\xd8\xff\xe0" + os.urandom(size - 4)
    digest = hashlib.sha256(content).hexdigest()
    key = default_storage.save("clients/big-scan.jpg", ContentFile(content))
    del content
    ClientFile.objects.create(client=subject["client"], file=key, original_name="big-scan.jpg",
                              content_type="image/jpeg", size=size)
    target = tmp_path / "export.zip"
    tracemalloc.start()
    try:
        response = supervisor_api.get(f"/api/v1/clients/{subject['client'].pk}/personal-data/", {"format": "zip"})
        assert response.status_code == 200 and response.streaming
        with open(target, "wb") as out:
            for chunk in response.streaming_content:
                out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 6, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB file"
    with zipfile.ZipFile(target) as archive:
        name = next(n for n in archive.namelist() if n.endswith("big-scan.jpg"))
        with archive.open(name) as member:
            assert hashlib.file_digest(member, "sha256").hexdigest() == digest
    default_storage.delete(key)
