"""The supplier side of an order: tour operators' register data, net cost of services, margin."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import BusinessError
from apps.orders import services
from apps.orders.models import ServiceStatus, SupplierBalance
from apps.orders.tests.factories import add, at, flight, hotel, make_order, make_supplier

pytestmark = pytest.mark.django_db

SECURITY = {
    "security_kind": "bank_guarantee",
    "security_amount": Decimal("50000000.00"),
    "security_provider": "АО «Банк»",
    "security_number": "БГ-17/2026",
    "security_valid_from": date(2026, 1, 1),
    "security_valid_until": date(2026, 12, 31),
}


def test_a_tour_operator_keeps_its_registry_number_and_financial_security():
    supplier = services.supplier_create(
        data={"name": "Тур-Оператор", "kind": "tour_operator", "registry_number": "РТО 012345", **SECURITY}
    )
    supplier.refresh_from_db()
    assert supplier.registry_number == "РТО 012345"
    assert supplier.security_amount == Decimal("50000000.00")
    assert supplier.get_security_kind_display() == "Банковская гарантия"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "hotel", "registry_number": "РТО 012345"}, "registry_number"),
        ({"kind": "tour_operator", "registry_number": "12345"}, "registry_number"),
        ({"kind": "tour_operator", "security_kind": "insurance"}, "security_amount"),
        ({"kind": "tour_operator", **SECURITY, "security_valid_until": date(2025, 1, 1)}, "security_valid_until"),
        ({"kind": "airline", **SECURITY}, "security_kind"),
    ],
)
def test_register_data_is_refused_when_it_makes_no_sense(data, field):
    with pytest.raises(ValidationError) as error:
        services.supplier_create(data={"name": "Х", **data})
    assert field in error.value.message_dict


def test_without_a_net_cost_a_sale_is_an_agent_sale_and_the_margin_is_the_commission():
    order = make_order()
    add(order, hotel(at(1, 18), price=Decimal("70000.00"), commission_percent=Decimal("10.5")))
    add(order, flight(at(1), price=Decimal("30000.00"), commission=Decimal("1000.00")))
    order.refresh_from_db()
    assert order.total_amount == Decimal("100000.00")
    assert order.commission == Decimal("8350.00")
    assert order.cost_amount == Decimal("91650.00")
    assert order.margin == order.commission
    # A draft owes suppliers nothing yet; once confirmed it owes them the cost.
    assert order.supplier_balance_due == Decimal("0.00")
    assert not SupplierBalance.objects.filter(order=order).exists()
    services.order_transition(order=order, action="confirm")
    order.refresh_from_db()
    assert order.supplier_balance_due == Decimal("91650.00")
    assert SupplierBalance.objects.get(order=order, supplier=None).balance == Decimal("91650.00")


def test_agent_sale_in_a_foreign_currency_keeps_margin_equal_to_commission_to_the_kopeck():
    order = make_order()
    # 333.33 × 97.123456 = 32374.16… and 33.33 × 97.123456 = 3237.12…: rounded once each
    service = add(order, hotel(at(1, 18), currency="EUR", price=Decimal("333.33"), commission=Decimal("33.33"),
                               rate=Decimal("97.123456")))
    order.refresh_from_db()
    assert service.cost_currency == "EUR" and service.cost_rate == Decimal("97.12345600")
    assert order.margin == order.commission == Decimal("3237.12")
    assert order.cost_amount == order.total_amount - Decimal("3237.12")


def test_a_resale_with_markup_has_its_own_cost_currency_and_fixed_rate(operator):
    order = make_order()
    service = add(order, hotel(at(1, 18), price=Decimal("70000.00"), cost=Decimal("600.00"), cost_currency="EUR",
                               cost_rate=Decimal("100.5"), cost_due_date=date(2026, 11, 20)))
    order.refresh_from_db()
    assert service.cost_in_order_currency == Decimal("60300.00")
    assert order.margin == Decimal("9700.00")
    # Editing the price does not move the fixed cost rate.
    services.service_update(service=service, data={"price": Decimal("71000.00")}, actor=operator)
    service.refresh_from_db()
    order.refresh_from_db()
    assert service.cost_rate == Decimal("100.5") and order.margin == Decimal("10700.00")
    # A cancelled service costs nothing.
    services.service_update(service=service, data={"status": ServiceStatus.CANCELLED}, actor=operator)
    order.refresh_from_db()
    assert order.cost_amount == order.margin == Decimal("0.00")


def test_a_typed_cost_must_agree_with_an_agent_commission():
    order = make_order()
    with pytest.raises(BusinessError) as error:
        add(order, hotel(at(1, 18), price=Decimal("70000.00"), commission=Decimal("7000.00"), cost=Decimal("60000")))
    assert error.value.code == "cost_commission_mismatch"
    assert "cost" in error.value.fields
    add(order, hotel(at(1, 18), price=Decimal("70000.00"), commission=Decimal("7000.00"), cost=Decimal("63000")))


def test_a_cost_in_a_third_currency_without_a_rate_is_refused_with_the_field():
    order = make_order()
    with pytest.raises(BusinessError) as error:
        add(order, hotel(at(1, 18), cost=Decimal("100"), cost_currency="AED"))
    assert error.value.code == "rate_required" and "cost_rate" in error.value.fields


def test_the_api_shows_and_takes_the_supplier_side(operator_api):
    supplier = make_supplier(kind="tour_operator", registry_number="РТО 000001")
    order = make_order()
    url = f"/api/v1/orders/{order.pk}/services/"
    payload = {
        "type": "hotel", "start_dt": "2026-12-01T18:00", "end_dt": "2026-12-08T12:00", "city": "Анталья",
        "price": "70000.00", "supplier": supplier.pk, "cost": "65000.50", "cost_due_date": "2026-11-25",
        "details": {"hotel_name": "Rixos"},
    }
    response = operator_api.post(url, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["cost"] == "65000.50" and body["cost_in_order_currency"] == "65000.50"
    assert body["margin_in_order_currency"] == "4999.50" and body["cost_due_date"] == "2026-11-25"
    services.order_transition(order=order, action="confirm")
    detail = operator_api.get(f"/api/v1/orders/{order.pk}/").json()
    assert detail["margin"] == "4999.50" and detail["supplier_balance_due"] == "65000.50"
    listed = operator_api.get("/api/v1/orders/").json()["results"][0]
    assert listed["cost_amount"] == "65000.50"
    bad = operator_api.post(url, {**payload, "cost": "-1"}, format="json")
    assert bad.status_code == 400 and "cost" in bad.json()["fields"]
    supplier_body = operator_api.get(f"/api/v1/suppliers/{supplier.pk}/").json()
    assert supplier_body["registry_number"] == "РТО 000001"


def test_supplier_balances_follow_services_suppliers_and_the_order_status(operator):
    pegas, anex = make_supplier(name="Пегас"), make_supplier(name="Анекс")
    order = make_order()
    hotel_service = add(
        order, hotel(at(1, 18), supplier=pegas, cost=Decimal("60000"), cost_due_date=date(2026, 11, 20))
    )
    add(order, flight(at(1), supplier=pegas, cost=Decimal("25000"), cost_due_date=date(2026, 11, 10)))
    services.order_transition(order=order, action="confirm", actor=operator)
    row = SupplierBalance.objects.get(order=order, supplier=pegas)
    assert (row.cost, row.balance, row.due_date) == (Decimal("85000.00"), Decimal("85000.00"), date(2026, 11, 10))
    services.service_update(service=hotel_service, data={"supplier": anex}, actor=operator)
    balances = {b.supplier_id: (b.cost, b.due_date) for b in SupplierBalance.objects.filter(order=order)}
    assert balances == {pegas.pk: (Decimal("25000.00"), date(2026, 11, 10)),
                        anex.pk: (Decimal("60000.00"), date(2026, 11, 20))}
    services.order_transition(order=order, action="cancel", actor=operator)
    assert set(SupplierBalance.objects.filter(order=order).values_list("balance", flat=True)) == {Decimal("0.00")}
