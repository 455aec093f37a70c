"""Two threads at once: order numbers stay unique, totals stay right (real transactions)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.orders import services
from apps.orders.models import Order
from apps.orders.tests.factories import at, flight, make_client, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_threads(target, count: int) -> list:
    barrier = threading.Barrier(count)
    errors: list = []

    def runner(index):
        try:
            barrier.wait(timeout=10)
            target(index)
        except Exception as error:  # noqa: BLE001 — reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_order_numbers_are_unique_under_concurrency():
    client = make_client()
    with connection.cursor() as cursor:
        cursor.execute("DROP SEQUENCE IF EXISTS order_number_2091")

    def create(index):
        for _ in range(5):
            services.order_create(data={"client": client}, travellers=[client])

    errors = _run_in_threads(create, 4)
    assert errors == []
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(numbers) == 20 and len(set(numbers)) == 20
    # a sequence of a year that does not exist yet is created on first use, by several at once
    fresh: list[str] = []
    errors = _run_in_threads(lambda i: fresh.append(services.order_number_next(2091)), 4)
    assert errors == []
    assert sorted(fresh) == [f"2091-00000{n}" for n in range(1, 5)]


def test_two_threads_adding_services_leave_the_right_total():
    client, friend = make_client(), make_client()
    order = make_order(client=client, travellers=[client, friend])

    def add(index):
        for day in range(3):
            data = flight(at(1 + day * 3 + index, 8), price=Decimal("1000.10"), commission=Decimal("10.01"))
            services.service_create(order=order, data=data, travellers=[[client, friend][index]])

    errors = _run_in_threads(add, 2)
    assert errors == []
    order.refresh_from_db()
    assert order.services.count() == 6
    assert order.total_amount == Decimal("6000.60")
    assert order.commission == Decimal("60.06")
    assert order.balance_due == Decimal("6000.60")


def test_two_threads_adding_overlapping_flights_for_one_traveller_only_one_wins():
    client = make_client()
    order = make_order(client=client)
    outcomes: list = []

    def add(index):
        try:
            services.service_create(order=order, data=flight(at(5, 10 + index)), travellers=[client])
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001
            outcomes.append(getattr(error, "code", repr(error)))

    assert _run_in_threads(add, 2) == []
    assert sorted(outcomes) == ["ok", "transport_overlap"]
    assert order.services.count() == 1
