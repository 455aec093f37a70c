"""Checks before generation (issue 18 points 3, 4, 6): contracts refuse, others warn, acts need a
recorded confirmation, and each finding links to where it is fixed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.clients.models import Client, ClientPassport
from apps.core.errors import BusinessError
from apps.documents import services
from apps.documents.models import Document
from apps.documents.tests.helpers import normalise, pdf_text
from apps.orders.models import Order, OrderEvent, Service, Supplier

pytestmark = pytest.mark.django_db


def _codes(error: BusinessError) -> set[str]:
    return {item["code"] for item in error.extra["checks"]}


def test_contract_refused_without_foreign_passports_for_a_trip_abroad(order):
    wife = order.travellers.get(first_name="Елена")
    ClientPassport.objects.filter(client=wife).update(is_active=False)
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="contract")
    assert caught.value.code == "document_checks_failed" and _codes(caught.value) == {"passport_missing"}
    finding = caught.value.extra["checks"][0]
    assert "Смирнова Елена Игоревна" in finding["message"] and "заграничный" in finding["message"]
    assert finding["fix_url"] == f"/admin/clients/client/{wife.pk}/change/"
    assert not Document.objects.filter(order=order).exists()
    # An invoice is not a contract: generated, the warning kept with it.
    invoice = services.document_generate(order=order, doc_type="invoice")
    assert "passport_missing" in {item["code"] for item in invoice.checks}


def test_contract_refused_without_latin_name(order):
    child = order.travellers.get(first_name="Максим")
    Client.objects.filter(pk=child.pk).update(last_name_latin="", first_name_latin="")
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="contract")
    assert _codes(caught.value) == {"latin_name_missing"}


def test_contract_refused_while_tour_operator_data_is_missing(order):
    supplier = Supplier.objects.get(pk=order.services.exclude(supplier=None).first().supplier_id)
    Supplier.objects.filter(pk=supplier.pk).update(registry_number="", security_kind="", security_amount=None)
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="contract")
    finding = caught.value.extra["checks"][0]
    assert finding["code"] == "tour_operator_incomplete"
    assert "реестровый номер" in finding["message"] and "размер обеспечения" in finding["message"]
    assert finding["fix_url"] == f"/admin/orders/supplier/{supplier.pk}/change/"


def test_amounts_that_disagree_refuse_a_contract_and_warn_an_invoice(order):
    Order.objects.filter(pk=order.pk).update(total_amount=1)
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="contract")
    assert _codes(caught.value) == {"amounts_disagree"}
    invoice = services.document_generate(order=order, doc_type="invoice")
    assert "amounts_disagree" in {item["code"] for item in invoice.checks}


def test_act_needs_the_contract_first(order):
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="act", confirm=True)  # a confirmation does not help
    assert _codes(caught.value) == {"contract_missing"}
    assert caught.value.extra["checks"][0]["fix_url"].endswith(f"?order={order.pk}&type=contract")


def test_act_before_the_last_service_ends_needs_a_recorded_confirmation(order, operator):
    contract = services.document_generate(order=order, doc_type="contract")
    later = timezone.now() + timedelta(days=30)
    last = order.services.order_by("-end_dt").first()
    Service.objects.filter(pk=last.pk).update(start_dt=later, end_dt=later + timedelta(hours=3))
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="act", actor=operator)
    assert caught.value.code == "confirmation_required" and _codes(caught.value) == {"services_not_finished"}
    assert not Document.objects.filter(order=order, type="act").exists()

    act = services.document_generate(order=order, doc_type="act", actor=operator, confirm=True)
    assert act.confirmed and {item["code"] for item in act.checks} == {"services_not_finished"}
    event = OrderEvent.objects.filter(order=order, kind="document_generated").latest("id")
    assert "с подтверждением" in event.title and event.actor == operator
    assert event.data["checks"][0]["code"] == "services_not_finished"
    assert f"Основание: Договор № {contract.number}" in normalise(pdf_text(act))


def test_act_for_a_draft_order_needs_confirmation(order):
    services.document_generate(order=order, doc_type="contract")
    Order.objects.filter(pk=order.pk).update(status="draft")
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="act")
    assert _codes(caught.value) == {"order_is_draft"}
    assert services.document_generate(order=order, doc_type="act", confirm=True).confirmed


def test_invoice_with_a_past_deadline_warns(order):
    findings = services.generation_checks(order=order, doc_type="invoice")
    passed = [f for f in findings if f.code == "deadline_passed"]
    assert passed and passed[0].level == "warning" and "20.06.2026" in passed[0].message
    assert passed[0].fix_url == f"/admin/orders/order/{order.pk}/change/"


def test_vat_rate_of_2025_warns_from_2026(order):
    from apps.documents.demo import ensure_requisites

    ensure_requisites(vat_mode="vat", vat_rate="20.00")
    codes = {f.code for f in services.generation_checks(order=order, doc_type="invoice")}
    assert "vat_rate_outdated" in codes
    ensure_requisites(vat_mode="vat", vat_rate="22.00")
    assert "vat_rate_outdated" not in {f.code for f in services.generation_checks(order=order, doc_type="invoice")}


@pytest.mark.parametrize("doc_type", ["invoice", "act"])
def test_invoice_and_act_print_the_customer_name_only(order, doc_type):
    if doc_type == "act":
        services.document_generate(order=order, doc_type="contract")
    text = normalise(pdf_text(services.document_generate(order=order, doc_type=doc_type)))
    assert order.client.full_name in text
    for contact in order.client.contacts.all():
        assert contact.value not in text
    for traveller in order.travellers.exclude(pk=order.client_id):
        assert traveller.full_name not in text
    assert "1985" not in text and "SMIRNOV" not in text and "паспорт" not in text.lower()


# --- API and admin ---------------------------------------------------------------------------------------


def test_checks_endpoint_and_confirm_through_the_api(order, operator_api, accountant_api):
    url = f"/api/v1/orders/{order.pk}/documents/checks/?type=act"
    body = operator_api.get(url).json()
    assert body["can_generate"] is False and body["checks"][0]["code"] == "contract_missing"
    assert operator_api.get(f"/api/v1/orders/{order.pk}/documents/checks/?type=nope").status_code == 400
    assert operator_api.get("/api/v1/orders/999999/documents/checks/?type=act").status_code == 404
    assert accountant_api.get(url).status_code == 403

    operator_api.post(f"/api/v1/orders/{order.pk}/documents/", {"type": "contract"}, format="json")
    Order.objects.filter(pk=order.pk).update(status="draft")
    refused = operator_api.post(f"/api/v1/orders/{order.pk}/documents/", {"type": "act"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "confirmation_required"
    assert refused.json()["checks"][0]["code"] == "order_is_draft"
    made = operator_api.post(f"/api/v1/orders/{order.pk}/documents/", {"type": "act", "confirm": True}, format="json")
    assert made.status_code == 201 and made.json()["confirmed"] is True


def test_generation_page_shows_warnings_with_links(order, operator, admin_client_as):
    client = admin_client_as(operator)
    page = client.get(f"/admin/documents/document/generate/?order={order.pk}&type=act").content.decode()
    assert "Проверка перед формированием" in page and "Сначала сформируйте договор" in page
    assert f'href="/admin/documents/document/generate/?order={order.pk}&amp;type=contract"' in page
    page = client.get(f"/admin/documents/document/generate/?order={order.pk}&type=invoice").content.decode()
    assert "Срок оплаты 20.06.2026 уже прошёл" in page and f"/admin/orders/order/{order.pk}/change/" in page
    response = client.post("/admin/documents/document/generate/", {"order": order.pk, "type": "invoice"})
    assert response.status_code == 302
    assert Document.objects.filter(order=order, type="invoice").count() == 1
