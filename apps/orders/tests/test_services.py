import re
from decimal import Decimal

import pytest

from apps.accounts.models import User
from apps.core.errors import BusinessError, ConflictError
from apps.orders import services
from apps.orders.models import Order, OrderEvent, ServiceStatus
from apps.orders.tests.factories import add, at, flight, hotel, make_client, make_order, transfer

pytestmark = pytest.mark.django_db


def test_order_gets_a_yearly_number_and_a_created_event(operator):
    order = make_order(actor=operator)
    assert re.fullmatch(r"\d{4}-\d{6}", order.number)
    assert order.operator == operator
    assert OrderEvent.objects.filter(order=order, kind="created").exists()


def test_totals_follow_services_and_cancelled_ones_do_not_count(operator):
    order = make_order()
    first = add(order, flight(at(1)))
    add(order, hotel(at(1, 18), commission=Decimal("7000")))
    order.refresh_from_db()
    assert order.total_amount == Decimal("100000.00")
    assert order.commission == Decimal("7000.00")
    assert order.balance_due == Decimal("100000.00")
    services.service_update(service=first, data={"status": ServiceStatus.CANCELLED}, actor=operator)
    order.refresh_from_db()
    assert order.total_amount == Decimal("70000.00")


def test_foreign_currency_needs_a_rate_and_converts_with_it():
    order = make_order()
    with pytest.raises(BusinessError) as error:
        add(order, hotel(at(1, 18), currency="EUR", price=Decimal("500")))
    assert error.value.code in ("rate_required",)
    add(order, hotel(at(1, 18), currency="EUR", price=Decimal("500"), rate=Decimal("101.2345")))
    order.refresh_from_db()
    assert order.total_amount == Decimal("50617.25")


def test_commission_percent_is_of_the_price():
    order = make_order()
    service = add(order, hotel(at(1, 18), commission_percent=Decimal("10")))
    assert service.commission == Decimal("7000.00")


def test_overlapping_transport_for_one_traveller_is_refused_with_ids():
    order = make_order()
    first = add(order, flight(at(1)))
    with pytest.raises(BusinessError) as error:
        add(order, flight(at(1, 12), origin="AYT", destination="SVO"))
    assert error.value.code == "transport_overlap"
    assert error.value.extra["service_ids"] == [first.pk]
    assert order.services.count() == 1


def test_row_errors():
    order = make_order()
    with pytest.raises(BusinessError) as error:
        add(order, flight(at(2), hours=-1))
    assert error.value.code == "end_before_start"
    with pytest.raises(BusinessError) as error:
        add(order, flight(at(2), commission=Decimal("40000")))
    assert error.value.code == "commission_above_price"
    with pytest.raises(BusinessError) as error:
        add(order, flight(at(2), price=Decimal("-1")))
    assert error.value.code == "negative_price"


def test_traveller_not_on_order_is_refused():
    order = make_order()
    stranger = make_client()
    with pytest.raises(BusinessError) as error:
        add(order, flight(at(1)), travellers=[stranger])
    assert error.value.code == "traveller_not_on_order"


def test_warnings_geography_gap_and_night_without_hotel():
    order = make_order()
    add(order, flight(at(1, 10)))  # SVO -> AYT, lands 14:00
    add(order, flight(at(8, 10), origin="IST", destination="SVO"))
    add(order, hotel(at(2, 14)))  # check-in a day later
    order.refresh_from_db()
    codes = {w["code"] for w in order.warnings}
    assert "geography_gap" in codes
    assert "night_without_hotel" in codes


def test_transfer_closes_the_gap():
    order = make_order()
    add(order, flight(at(1, 10)))
    add(order, transfer(at(1, 15)))
    add(order, transfer(at(8, 6), origin="Кемер", destination="AYT"))
    add(order, flight(at(8, 10), origin="AYT", destination="SVO"))
    order.refresh_from_db()
    assert [w for w in order.warnings if w["code"] == "geography_gap"] == []


def test_transitions_and_forbidden_one():
    order = make_order()
    with pytest.raises(ConflictError) as error:
        services.order_transition(order=order, action="confirm")
    assert error.value.code == "order_without_services"
    add(order, flight(at(1)))
    services.order_transition(order=order, action="confirm")
    with pytest.raises(ConflictError) as error:
        services.order_transition(order=order, action="complete")
    assert error.value.code == "invalid_transition"
    with pytest.raises(ConflictError) as error:
        services.order_transition(order=order, action="mark_paid")  # 30 000 still owed
    assert error.value.code == "order_has_debt"
    boss = User.objects.create_user(email="boss@test.travelcrm", password="x" * 16, role="supervisor")
    services.order_transition(order=order, action="mark_paid", actor=boss, override_reason="наличные в офисе")
    services.order_transition(order=order, action="complete")
    assert Order.objects.get(pk=order.pk).status == "completed"
    with pytest.raises(ConflictError):
        add(order, flight(at(3)))


def test_warning_providers_of_other_apps_are_stored_and_a_failing_one_is_ignored():
    from apps.orders import checks

    def flaky(order):
        raise RuntimeError("boom")

    def custom(order):
        return [{"code": "test_provider", "message": "Проверка", "service_ids": []}] if order.notes == "x" else []

    checks.register_warning_provider(flaky)
    checks.register_warning_provider(custom)
    try:
        order = make_order(notes="x")
        add(order, flight(at(1)))
        order.refresh_from_db()
        assert {"code": "test_provider", "message": "Проверка", "service_ids": []} in order.warnings
    finally:
        checks._warning_providers.remove(flaky)
        checks._warning_providers.remove(custom)


def test_passport_expiring_within_six_months_of_a_foreign_trip_is_a_warning():
    from datetime import date

    from apps.clients.models import ClientPassport

    client = make_client()
    ClientPassport.objects.create(
        client=client, kind="foreign", number="751234567", number_index="idx-751234567", expiry_date=date(2027, 3, 1)
    )
    order = make_order(client=client)
    add(order, flight(at(1)))  # Moscow -> Antalya: abroad
    order.refresh_from_db()
    assert "passport_expires" in {w["code"] for w in order.warnings}

    domestic = make_order(client=client)
    add(domestic, flight(at(1), destination="LED"))
    domestic.refresh_from_db()
    assert "passport_expires" not in {w["code"] for w in domestic.warnings}


def test_updating_a_service_into_a_conflict_is_refused_and_nothing_changes(operator):
    order = make_order()
    first = add(order, flight(at(1, 10)))
    second = add(order, flight(at(2, 10), origin="AYT", destination="SVO"))
    with pytest.raises(BusinessError) as error:
        services.service_update(service=second, data={"start_dt": at(1, 11), "end_dt": at(1, 15)}, actor=operator)
    assert error.value.code == "transport_overlap"
    assert sorted(error.value.extra["service_ids"]) == sorted([first.pk, second.pk])
    second.refresh_from_db()
    assert second.start_dt == at(2, 10)


def test_merging_clients_moves_orders_and_trips():
    from apps.clients.services import client_merge

    target, other = make_client(), make_client()
    order = make_order(client=other, travellers=[other])
    service = add(order, flight(at(1)))
    client_merge(target=target, other=other)
    order.refresh_from_db()
    assert order.client_id == target.pk
    assert list(order.travellers.values_list("id", flat=True)) == [target.pk]
    assert list(service.travellers.values_list("id", flat=True)) == [target.pk]


def test_order_lock_reads_the_row_as_the_orm_does_and_only_in_a_transaction():
    from django.db import transaction

    from apps.orders.selectors import order_lock

    order = make_order(deadline=at(1))
    add(order, flight(at(2)))
    add(order, flight(at(9), origin="IST", destination="SVO"))  # a geography gap: warnings are stored
    with transaction.atomic():
        locked = order_lock(order.pk)
        with pytest.raises(Order.DoesNotExist):
            order_lock(999_999_999)
    fresh = Order.objects.get(pk=order.pk)
    assert locked.warnings and isinstance(locked.warnings, list)
    for field in Order._meta.concrete_fields:
        assert getattr(locked, field.attname) == getattr(fresh, field.attname), field.name
    assert not locked._state.adding


@pytest.mark.django_db(transaction=True)
def test_order_lock_outside_a_transaction_is_refused():
    from django.db.transaction import TransactionManagementError

    from apps.orders.selectors import order_lock

    with pytest.raises(TransactionManagementError):  # it would lock nothing in autocommit
        order_lock(make_order().pk)
