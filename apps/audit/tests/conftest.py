import datetime as dt

import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.storage import ensure_bucket

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"scan-of-a-passport" * 50
PDF = b"%PDF-1.4\n" + b"signed consent " * 40


@pytest.fixture
def bucket():
    try:
        ensure_bucket()
    except ClientError as error:  # another test process created it a moment ago
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


@pytest.fixture
def subject(bucket, make_user):
    """A client with everything a person leaves behind: contacts, passport, scan, a Telegram lead with a
    message and an attachment, an order they travel on with a payment and a generated document."""
    from apps.clients.models import Client
    from apps.clients.services import client_file_add, passport_add
    from apps.documents.demo import build_demo_order, ensure_requisites
    from apps.documents.services import document_generate, load_default_templates
    from apps.finance.services import payment_create
    from apps.leads.models import Lead
    from apps.leads.services import IncomingAttachment, lead_ingest
    from apps.orders.services import order_transition

    ensure_requisites()
    load_default_templates()
    order = build_demo_order(services=2, unique="4242")
    client = Client.objects.get(pk=order.client_id)
    passport_add(client=client, data={"kind": "foreign", "series": "75", "number": "4242424",
                                      "issue_date": "2020-01-10"})
    scan = client_file_add(client=client, uploaded=SimpleUploadedFile("passport.jpg", JPEG, content_type="image/jpeg"))
    result = lead_ingest(
        channel="telegram", external_id="tg-1", sender={"telegram_id": "777000", "name": "Анна Смирнова"},
        text="Хочу в Турцию, мой паспорт 4510 123456",
        attachments=[IncomingAttachment(name="anna-passport.jpg", content_type="image/jpeg", content=JPEG,
                                        size=len(JPEG))],
    )
    Lead.objects.filter(pk=result.lead.pk).update(client=client)
    order_transition(order=order, action="confirm")  # money moves on confirmed orders only (issue 17)
    payment = payment_create(order_id=order.pk, data={"amount": "1000.00", "currency": "RUB", "method": "cash",
                                                      "date": dt.date(2026, 6, 1), "payer_client": client})
    document = document_generate(order=order, doc_type="contract")
    return {"client": client, "order": order, "lead": result.lead, "scan": scan, "payment": payment,
            "document": document}
