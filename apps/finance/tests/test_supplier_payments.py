"""Supplier payments: the rate fixed at payment, refunds from suppliers, what we owe, the draft rule,
bank documents and the personal data of payers (encrypted, masked, not in the audit log)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.utils import timezone

from apps.core.errors import BusinessError, ConflictError
from apps.finance.models import Payment, SupplierPayment
from apps.finance.services import (
    payment_create,
    rate_set_manual,
    supplier_payment_create,
    supplier_payment_delete,
    supplier_payment_update,
)
from apps.finance.tests.factories import make_order, make_supplier
from apps.orders.models import SupplierBalance
from apps.orders.services import order_transition, service_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def pay_supplier(order, supplier, amount, **data):
    return supplier_payment_create(order_id=order.pk, data={"supplier": supplier, "amount": Decimal(amount), **data})


def test_paying_a_supplier_and_its_refund_move_what_we_owe(accountant):
    supplier = make_supplier("Пегас")
    order = make_order("100000.00", commission="10000.00", supplier=supplier)
    order.refresh_from_db()
    assert (order.cost_amount, order.margin, order.supplier_balance_due) == (90000, 10000, 90000)
    pay_supplier(order, supplier, "60000.00", bank_doc_number="17", bank_doc_date=TODAY())
    refund = pay_supplier(order, supplier, "5000.00", type="refund")
    order.refresh_from_db()
    assert order.supplier_paid_amount == Decimal("55000.00")
    assert order.supplier_balance_due == Decimal("35000.00")
    assert order.margin == order.commission == Decimal("10000.00")  # money moved, the margin did not
    assert SupplierBalance.objects.get(order=order, supplier=supplier).balance == Decimal("35000.00")
    assert refund.counterparty_name == "Пегас"  # from the directory when the payment order does not say
    supplier_payment_delete(payment_id=refund.pk)
    order.refresh_from_db()
    assert order.supplier_balance_due == Decimal("30000.00")


def test_a_supplier_refund_beyond_what_it_was_paid_is_refused_and_nothing_is_written():
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    pay_supplier(order, supplier, "300.00")
    with pytest.raises(BusinessError) as error:
        pay_supplier(order, supplier, "300.01", type="refund")
    assert error.value.code == "refund_exceeds_paid"
    assert SupplierPayment.objects.count() == 1


def test_the_rate_is_fixed_at_payment_and_an_edit_keeps_it():
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    day = TODAY() - timedelta(days=2)
    rate_set_manual(currency="EUR", on_date=day, rate=Decimal("100.1234"))
    payment = pay_supplier(order, supplier, "3.33", currency="EUR", date=day)
    assert payment.rate == Decimal("100.1234") and payment.amount_in_order_currency == Decimal("333.41")
    rate_set_manual(currency="EUR", on_date=day, rate=Decimal("120"))  # a later correction of the day's rate
    payment = supplier_payment_update(payment_id=payment.pk, data={"amount": Decimal("6.66")})
    assert payment.rate == Decimal("100.1234") and payment.amount_in_order_currency == Decimal("666.82")
    with pytest.raises(BusinessError) as error:
        supplier_payment_update(payment_id=payment.pk, data={"currency": "USD"})
    assert error.value.code == "immutable_field"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"amount": Decimal("-1")}, "invalid_amount"),
        ({"amount": Decimal("1.005")}, "invalid_amount"),
        ({"currency": "XXX"}, "unknown_currency"),
        ({"date": date(2999, 1, 1)}, "date_in_future"),
        ({"supplier": None}, "supplier_required"),
    ],
)
def test_bad_supplier_payments_are_refused(data, code):
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    with pytest.raises(BusinessError) as error:
        supplier_payment_create(order_id=order.pk, data={"supplier": supplier, "amount": Decimal("10"), **data})
    assert error.value.code == code


def test_a_supplier_that_is_not_on_the_order_or_a_foreign_service_is_refused():
    supplier, stranger = make_supplier(), make_supplier()
    order, other = make_order("1000.00", supplier=supplier), make_order("1000.00", supplier=supplier)
    with pytest.raises(BusinessError) as error:
        pay_supplier(order, stranger, "10.00")
    assert error.value.code == "supplier_not_in_order"
    with pytest.raises(BusinessError) as error:
        pay_supplier(order, supplier, "10.00", service=other.services.get())
    assert error.value.code == "service_not_in_order"
    # The service names its supplier.
    payment = supplier_payment_create(order_id=order.pk, data={"service": order.services.get(), "amount": 10})
    assert payment.supplier == supplier


def test_drafts_take_no_money_and_an_order_with_money_does_not_go_back_to_draft():
    supplier = make_supplier()
    draft = make_order("1000.00", supplier=supplier, confirm=False)
    for make in (lambda: payment_create(order_id=draft.pk, data={"amount": Decimal("10")}),
                 lambda: pay_supplier(draft, supplier, "10.00")):
        with pytest.raises(BusinessError) as error:
            make()
        assert error.value.code == "order_draft" and "order" in error.value.fields
    order = make_order("1000.00", supplier=supplier)
    pay_supplier(order, supplier, "10.00")
    with pytest.raises(ConflictError) as error:
        order_transition(order=order, action="reopen")
    assert error.value.code == "order_has_payments"


def test_a_deleted_service_keeps_its_supplier_payment():
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    service = service_create(order=order, data={
        "type": "local", "start_dt": order.trip_start, "end_dt": order.trip_end, "city": "Москва",
        "price": Decimal("500"), "supplier": supplier, "details": {"title": "Ещё"},
    })
    payment = pay_supplier(order, supplier, "100.00", service=service)
    from apps.orders.services import service_delete

    service_delete(service=service)
    payment.refresh_from_db()
    assert payment.service_id is None and payment.order_id == order.pk


def test_bank_document_and_requisites_are_checked():
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    bad = [
        ({"bank_doc_number": "1234567", "bank_doc_date": TODAY()}, "bank_doc_number"),
        ({"bank_doc_number": "12"}, "bank_doc_date"),
        ({"bank_doc_number": "12", "bank_doc_date": TODAY() + timedelta(days=1)}, "bank_doc_date"),
        ({"method": "cash", "bank_doc_number": "12", "bank_doc_date": TODAY()}, "bank_doc_number"),
        ({"counterparty_inn": "7707083894"}, "counterparty_inn"),
        ({"counterparty_kpp": "77010100"}, "counterparty_kpp"),
        ({"counterparty_bik": "044525225", "counterparty_account": "40702810800000054322"}, "counterparty_account"),
    ]
    for data, field in bad:
        with pytest.raises(Exception) as error:  # noqa: PT011 — Django's ValidationError or our BusinessError
            pay_supplier(order, supplier, "10.00", **data)
        fields = getattr(error.value, "message_dict", None) or getattr(error.value, "fields", {})
        assert field in fields, (data, fields)
    assert SupplierPayment.objects.count() == 0


def test_payer_data_is_encrypted_and_kept_out_of_the_audit_log():
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    payment = payment_create(order_id=order.pk, data={
        "amount": Decimal("10"), "payer_kind": "other", "payer_name": "Сидоров Пётр", "payer_inn": "500100732259",
        "payer_account": "40817810099910004312",
    })
    outgoing = pay_supplier(order, supplier, "5.00", counterparty_name="ООО «Пегас Туристик»",
                            counterparty_inn="7707083893", counterparty_account="40702810800000054321",
                            counterparty_bik="044525225")
    with connection.cursor() as cursor:
        cursor.execute("SELECT payer_name || payer_inn || payer_account FROM finance_payment WHERE id = %s",
                       [payment.pk])
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT counterparty_name || counterparty_inn || counterparty_account "
                       "FROM finance_supplierpayment WHERE id = %s", [outgoing.pk])
        stored += cursor.fetchone()[0]
    for secret in ("Сидоров", "500100732259", "40817810099910004312", "Пегас", "7707083893", "40702810800000054321"):
        assert secret not in stored
    assert Payment.objects.get(pk=payment.pk).payer_inn == "500100732259"
    audit = " ".join(str(entry.changes) for entry in LogEntry.objects.all())
    for secret in ("Сидоров", "500100732259", "40817810099910004312", "7707083893", "40702810800000054321"):
        assert secret not in audit


def test_supplier_payments_api_masks_for_accountants_and_refuses_operators(
    accountant_api, supervisor_api, operator_api
):
    supplier = make_supplier()
    order = make_order("1000.00", supplier=supplier)
    payload = {"order": order.pk, "supplier": supplier.pk, "amount": "100.50", "counterparty_inn": "7707083893",
               "counterparty_account": "40702810800000054321", "counterparty_bik": "044525225",
               "bank_doc_number": "512", "bank_doc_date": str(TODAY())}
    assert operator_api.post("/api/v1/supplier-payments/", payload, format="json").status_code == 403
    response = accountant_api.post("/api/v1/supplier-payments/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "100.50" and body["amount_in_order_currency"] == "100.50"
    assert body["counterparty_inn"] == "******3893" and body["counterparty_account"].endswith("4321")
    assert body["order_balance"]["supplier_balance_due"] == "899.50"
    full = supervisor_api.get(f"/api/v1/supplier-payments/{body['id']}/").json()
    assert full["counterparty_inn"] == "7707083893"
    listed = supervisor_api.get(f"/api/v1/orders/{order.pk}/supplier-payments/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    bad = accountant_api.post("/api/v1/supplier-payments/", {**payload, "amount": "-5"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] and "amount" in bad.json()["fields"]
    missing = accountant_api.post("/api/v1/orders/999999/supplier-payments/", payload, format="json")
    assert missing.status_code == 404
    assert accountant_api.delete(f"/api/v1/supplier-payments/{body['id']}/").status_code == 403
    assert supervisor_api.delete(f"/api/v1/supplier-payments/{body['id']}/").status_code == 204


def test_supplier_payment_list_runs_a_constant_number_of_queries(supervisor_api, django_assert_max_num_queries):
    supplier = make_supplier()
    for _ in range(3):
        order = make_order("1000.00", supplier=supplier)
        pay_supplier(order, supplier, "10.00")
    with django_assert_max_num_queries(6):
        response = supervisor_api.get("/api/v1/supplier-payments/")
    assert response.status_code == 200 and response.json()["count"] == 3
