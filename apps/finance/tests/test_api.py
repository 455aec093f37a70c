from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.finance.models import CurrencyRate, Payment
from apps.finance.tests.factories import REQUISITES, make_order, make_requisites

pytestmark = pytest.mark.django_db


def yesterday():
    return timezone.localdate() - timedelta(days=1)


# --- Payments ----------------------------------------------------------------------------------------


def test_accountant_records_a_payment_and_sees_the_balance(accountant_api):
    order = make_order("10000.00")
    response = accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": "2500.50",
                                                         "method": "card", "comment": "аванс"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rate"] == "1.0000000000" and body["amount_in_order_currency"] == "2500.50"
    assert body["order_balance"]["balance_due"] == "7499.50"
    assert body["order_number"] == order.number


def test_per_order_route_lists_and_creates(accountant_api, operator_api):
    order = make_order("10000.00")
    other = make_order("500.00")
    accountant_api.post(f"/api/v1/orders/{other.pk}/payments/", {"amount": "100.00"})
    response = accountant_api.post(f"/api/v1/orders/{order.pk}/payments/", {"amount": "100.00"})
    assert response.status_code == 201 and response.json()["order"] == order.pk
    listed = operator_api.get(f"/api/v1/orders/{order.pk}/payments/").json()
    assert listed["count"] == 1
    assert accountant_api.get("/api/v1/orders/999999/payments/").status_code == 404
    assert accountant_api.post("/api/v1/orders/999999/payments/", {"amount": "1.00"}).status_code == 404


@pytest.mark.parametrize(
    "payload, code, field",
    [
        ({"amount": "-100.00"}, "invalid_amount", "amount"),
        ({"amount": "100.00", "currency": "ABC"}, "unknown_currency", "currency"),
        ({"amount": "100.00", "date": "2999-01-01"}, "date_in_future", "date"),
        ({"amount": "100.00", "currency": "USD"}, "rate_missing", "rate"),
        ({"amount": "abc"}, "validation_error", "amount"),
        ({"amount": "100.00", "date": "31.02.2026"}, "validation_error", "date"),
        ({"amount": "100.00", "type": "refund"}, "refund_exceeds_paid", "amount"),
        ({"amount": "100.00", "payer_kind": "other"}, "validation_error", "payer_name"),
        ({"amount": "100.00", "payer_inn": "1234567890"}, "validation_error", "payer_inn"),
    ],
)
def test_bad_input_is_a_clear_400(accountant_api, payload, code, field):
    order = make_order("1000.00")
    response = accountant_api.post(f"/api/v1/orders/{order.pk}/payments/", payload)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == code and field in body["fields"]
    assert set(body) >= {"code", "detail", "fields"}


def test_missing_rate_message_asks_to_fetch_or_enter(accountant_api):
    order = make_order("1000.00")
    body = accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": "10.00", "currency": "EUR",
                                                      "date": str(yesterday())}).json()
    assert "Загрузите курсы ЦБ" in body["detail"] and "вручную" in body["detail"]


def test_payment_without_order_is_400(accountant_api):
    assert accountant_api.post("/api/v1/payments/", {"amount": "10.00"}).json()["fields"] == {
        "order": ["Обязательное поле."]}


def test_edit_keeps_the_fixed_rate(accountant_api):
    CurrencyRate.objects.create(date=yesterday(), currency="USD", rate=Decimal("90"), source="cbr")
    order = make_order("100000.00")
    created = accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": "100.00", "currency": "USD",
                                                         "date": str(yesterday())}).json()
    CurrencyRate.objects.filter(currency="USD").update(rate=Decimal("120"))
    response = accountant_api.patch(f"/api/v1/payments/{created['id']}/", {"comment": "уточнение"})
    assert response.status_code == 200
    assert response.json()["rate"] == "90.0000000000" and response.json()["amount_in_order_currency"] == "9000.00"
    response = accountant_api.patch(f"/api/v1/payments/{created['id']}/", {"currency": "EUR"})
    assert response.status_code == 400 and response.json()["code"] == "immutable_field"


def test_roles(operator_api, accountant_api, supervisor_api, api_client):
    order = make_order("1000.00")
    payment_id = accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": "10.00"}).json()["id"]
    assert operator_api.get("/api/v1/payments/").status_code == 200
    assert operator_api.get(f"/api/v1/payments/{payment_id}/").status_code == 200
    assert operator_api.post("/api/v1/payments/", {"order": order.pk, "amount": "1.00"}).status_code == 403
    assert operator_api.patch(f"/api/v1/payments/{payment_id}/", {"comment": "x"}).status_code == 403
    assert accountant_api.delete(f"/api/v1/payments/{payment_id}/").status_code == 403
    assert operator_api.get("/api/v1/reports/debts/").status_code == 403
    assert operator_api.get("/api/v1/exports/1c/payments/?from=2026-01-01&to=2026-01-31").status_code == 403
    assert api_client.get("/api/v1/payments/").status_code == 401
    assert supervisor_api.delete(f"/api/v1/payments/{payment_id}/").status_code == 204
    assert not Payment.objects.exists()


def test_payment_list_query_budget(accountant_api, django_assert_max_num_queries):
    for index in range(6):
        order = make_order("1000.00")
        accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": f"{index + 1}.00"})
    with django_assert_max_num_queries(6):
        response = accountant_api.get("/api/v1/payments/?page_size=100")
    assert response.json()["count"] == 6


def test_payment_filters(accountant_api):
    order = make_order("1000.00")
    accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": "10.00", "method": "cash",
                                              "date": str(yesterday())})
    accountant_api.post("/api/v1/payments/", {"order": order.pk, "amount": "20.00", "method": "card"})
    assert accountant_api.get("/api/v1/payments/?method=cash").json()["count"] == 1
    assert accountant_api.get(f"/api/v1/payments/?date_from={timezone.localdate()}").json()["count"] == 1
    assert accountant_api.get("/api/v1/payments/?method=bitcoin").status_code == 400


# --- Requisites and rates ----------------------------------------------------------------------------


def test_requisites_api(supervisor_api, accountant_api, operator_api):
    assert supervisor_api.get("/api/v1/finance/requisites/").json()["code"] == "requisites_missing"
    response = supervisor_api.put("/api/v1/finance/requisites/", REQUISITES)
    assert response.status_code == 200, response.json()
    assert accountant_api.get("/api/v1/finance/requisites/").json()["inn"] == REQUISITES["inn"]
    assert accountant_api.put("/api/v1/finance/requisites/", REQUISITES).status_code == 403
    assert operator_api.get("/api/v1/finance/requisites/").status_code == 403
    bad = supervisor_api.patch("/api/v1/finance/requisites/", {"account": "40702810300000012345"})
    assert bad.status_code == 400 and "не соответствует БИК" in bad.json()["fields"]["account"][0]


def test_manual_rate_over_api(accountant_api, operator_api):
    response = accountant_api.post("/api/v1/finance/rates/", {"date": str(yesterday()), "currency": "KZT",
                                                               "nominal": 100, "rate": "18.40"})
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "manual" and response.json()["rate"] == "0.1840000000"
    assert operator_api.get("/api/v1/finance/rates/?currency=KZT").json()["count"] == 1
    assert operator_api.post("/api/v1/finance/rates/", {}).status_code == 403
    bad = accountant_api.post("/api/v1/finance/rates/", {"date": str(yesterday()), "currency": "QQQ", "rate": "1"})
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_currency"


def test_requisites_factory_is_valid():
    assert make_requisites().inn == REQUISITES["inn"]
