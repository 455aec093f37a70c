"""Admin: generate for an order, download, mark sent, upload a template version (through services)."""

import pytest

from apps.documents.models import Document, DocumentTemplateVersion

pytestmark = pytest.mark.django_db


def test_operator_generates_downloads_and_marks_sent(order, operator, admin_client_as):
    client = admin_client_as(operator)
    page = client.get(f"/admin/documents/document/generate/?order={order.pk}&type=invoice")
    assert page.status_code == 200 and "Сформировать" in page.content.decode()
    response = client.post("/admin/documents/document/generate/", {"order": order.pk, "type": "invoice"})
    assert response.status_code == 302
    document = Document.objects.get(order=order, type="invoice")

    changelist = client.get("/admin/documents/document/")
    assert changelist.status_code == 200 and document.number in changelist.content.decode()

    download = client.get(f"/admin/documents/document/{document.pk}/download/")
    assert download.status_code == 302 and download["Location"].startswith("/files/")  # decrypted by the app

    client.post("/admin/documents/document/", {"action": "mark_sent", "_selected_action": [document.pk]})
    document.refresh_from_db()
    assert document.status == "sent"


def test_generate_form_shows_business_errors(order, operator, admin_client_as):
    DocumentTemplateVersion.objects.filter(template__type="act").update(is_active=False)
    response = admin_client_as(operator).post("/admin/documents/document/generate/", {"order": order.pk, "type": "act"})
    assert response.status_code == 200
    assert "нет активного шаблона" in response.content.decode()


def test_supervisor_uploads_version_in_admin_and_broken_is_refused(templates, supervisor, admin_client_as):
    client = admin_client_as(supervisor)
    before = DocumentTemplateVersion.objects.filter(template__type="offer").count()
    form = client.get("/admin/documents/documenttemplateversion/add/?type=offer")
    assert form.status_code == 200 and "Коммерческое предложение" in form.content.decode()
    broken = client.post("/admin/documents/documenttemplateversion/add/",
                         {"type": "offer", "body": "<p>\n{{ order.__class__ }}</p>", "css": "", "activate": "on"})
    assert broken.status_code == 200 and "строка 2" in broken.content.decode()
    ok = client.post("/admin/documents/documenttemplateversion/add/",
                     {"type": "offer", "body": "<p>{{ client.full_name }}</p>", "css": "", "comment": "коротко",
                      "activate": "on"})
    assert ok.status_code == 302
    active = DocumentTemplateVersion.objects.get(template__type="offer", is_active=True)
    assert (active.version, active.uploaded_by, active.comment) == (before + 1, supervisor, "коротко")


def test_accountant_cannot_open_generate(order, accountant, admin_client_as):
    response = admin_client_as(accountant).get(f"/admin/documents/document/generate/?order={order.pk}")
    assert response.status_code == 403



def test_document_list_filters_by_order(order, operator, admin_client_as):
    from apps.documents import services

    services.document_generate(order=order, doc_type="invoice")
    listing = admin_client_as(operator).get(f"/admin/documents/document/?order={order.pk}")
    assert listing.status_code == 200 and order.number in listing.content.decode()


def test_several_documents_from_the_order_page_and_back_to_the_order(order, operator, admin_client_as):
    client = admin_client_as(operator)
    order_page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    url = f"/admin/documents/document/generate/?order={order.pk}"
    assert url in order_page and "Сформировать документы" in order_page
    page = client.get(url).content.decode()
    assert f"Заказ {order.number}" in page and "Номер заказа" not in page  # no id or number to type
    for label in ("Коммерческое предложение", "Договор", "Счёт", "Акт", "бланк согласия клиента"):
        assert label in page, label
    response = client.post(url, {"order": order.pk, "type": ["offer", "contract", "invoice"], "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == f"/admin/orders/order/{order.pk}/change/"
    assert set(Document.objects.filter(order=order).values_list("type", flat=True)) == {"offer", "contract", "invoice"}


def test_generation_without_an_order_asks_for_its_number_not_an_id(order, operator, admin_client_as):
    client = admin_client_as(operator)
    page = client.get("/admin/documents/document/generate/").content.decode()
    assert "Номер заказа" in page and "ID заказа" not in page
    unknown = client.post("/admin/documents/document/generate/", {"number": "1999-1", "type": "invoice"})
    assert unknown.status_code == 200 and "Заказ не найден" in unknown.content.decode()
    serial = int(order.number.split("-")[1])
    made = client.post("/admin/documents/document/generate/",
                       {"number": f"{order.number.split('-')[0]}-{serial}", "type": "invoice"})
    assert made.status_code == 302 and Document.objects.filter(order=order, type="invoice").exists()


def test_timeline_titles_agree_with_the_document(order, operator):
    from apps.documents import services
    from apps.orders.models import OrderEvent

    offer = services.document_generate(order=order, doc_type="offer", actor=operator, confirm=True)
    services.document_generate(order=order, doc_type="invoice", actor=operator, confirm=True)
    services.document_mark(document=offer, status="sent", actor=operator)
    titles = list(OrderEvent.objects.filter(order=order, kind__startswith="document").values_list("title", flat=True))
    assert f"Сформировано коммерческое предложение № {offer.number}" in titles
    assert any(title.startswith("Сформирован счёт на оплату № ") for title in titles)
    assert f"Отправлено коммерческое предложение № {offer.number}" in titles
