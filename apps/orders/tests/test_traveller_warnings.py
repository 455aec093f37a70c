"""Passport warnings name the traveller; a trip abroad without a foreign passport is a warning."""

from datetime import date

import pytest

from apps.clients.services import passport_add
from apps.orders.models import Order
from apps.orders.tests.factories import add, at, flight, make_client, make_order

pytestmark = pytest.mark.django_db


def _warnings(order) -> list[str]:
    return [w["message"] for w in Order.objects.get(pk=order.pk).warnings]


def test_trip_abroad_without_a_foreign_passport_names_the_traveller():
    olga = make_client(last_name="Новикова", first_name="Ольга")
    passport_add(client=olga, data={"kind": "internal", "series": "4510", "number": "123456"})
    order = make_order(client=olga)
    add(order, flight(at(1), origin="SVO", destination="AYT"))
    assert "Турист Новикова О.: нет действующего заграничного паспорта, а поездка за границу." in _warnings(order)


def test_foreign_passport_expiring_too_soon_names_the_traveller():
    olga = make_client(last_name="Новикова", first_name="Ольга")
    passport_add(client=olga, data={"kind": "foreign", "number": "751234567", "expiry_date": date(2027, 1, 10)})
    order = make_order(client=olga)
    add(order, flight(at(1), origin="SVO", destination="AYT"))
    messages = _warnings(order)
    assert any(m.startswith("Турист Новикова О.: паспорт действует менее 6 месяцев") and "10.01.2027" in m
               for m in messages), messages


def test_domestic_trip_needs_no_foreign_passport():
    ivan = make_client(last_name="Петров", first_name="Иван")
    passport_add(client=ivan, data={"kind": "internal", "series": "4511", "number": "654321"})
    order = make_order(client=ivan)
    add(order, flight(at(1), origin="SVO", destination="LED"))
    assert not [m for m in _warnings(order) if "паспорт" in m]
