"""Every kind of stored personal file is ciphertext in S3: scans, lead attachments, documents, imports."""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.audit.tests.conftest import JPEG
from apps.clients.models import ClientFile
from apps.core.envelope import MAGIC
from apps.core.storage import random_key, s3_client
from apps.leads.models import LeadAttachment

pytestmark = pytest.mark.django_db

CSV = "Фамилия;Имя;Паспорт\nИванов;Иван;4510 123456\n".encode()


def _raw(key: str) -> bytes:
    return s3_client().get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read()


def test_no_plaintext_reaches_object_storage(subject):
    scan = ClientFile.objects.get(pk=subject["scan"].pk)
    attachment = LeadAttachment.objects.get(lead=subject["lead"])
    document = subject["document"]
    pending_import = default_storage.save(random_key("imports/pending", ".csv"), ContentFile(CSV))
    objects = {
        "client scan": (scan.file.name, b"\xff\xd8\xff"),
        "lead attachment": (attachment.file.name, b"\xff\xd8\xff"),
        "generated document": (document.file.name, b"%PDF"),
        "pending import": (pending_import, "Иванов".encode()),
    }
    for what, (key, plaintext_marker) in objects.items():
        raw = _raw(key)
        assert raw.startswith(MAGIC), what
        assert plaintext_marker not in raw, what
        assert b"scan-of-a-passport" not in raw and b"4510 123456" not in raw, what
    with default_storage.open(scan.file.name, "rb") as handle:
        assert handle.read() == JPEG
    with default_storage.open(document.file.name, "rb") as handle:
        assert handle.read(4) == b"%PDF"
    default_storage.delete(pending_import)


def test_notes_and_attachment_names_are_encrypted_and_masked(subject, accountant_api, operator_api):
    from django.db import connection

    from apps.clients.models import Client
    from apps.clients.services import client_update

    client = subject["client"]
    client_update(client=Client.objects.get(pk=client.pk), data={"notes": "Аллергия на орехи, VIP"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM clients_client WHERE id = %s", [client.pk])
        (stored_notes,) = cursor.fetchone()
        cursor.execute("SELECT name FROM leads_leadattachment WHERE lead_id = %s", [subject["lead"].pk])
        (stored_name,) = cursor.fetchone()
    assert "Аллергия" not in stored_notes and stored_notes.startswith("gAAAAA")
    assert "anna" not in stored_name and stored_name.startswith("gAAAAA")
    assert operator_api.get(f"/api/v1/clients/{client.pk}/").json()["notes"] == "Аллергия на орехи, VIP"
    assert accountant_api.get(f"/api/v1/clients/{client.pk}/").json()["notes"] == "***"
    from auditlog.models import LogEntry

    assert "Аллергия" not in str(list(LogEntry.objects.filter(object_pk=str(client.pk)).values("changes")))
