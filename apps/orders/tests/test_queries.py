"""Each statement of apps/orders/queries.py gives what its ORM equivalent gives, on the same data."""

from datetime import date, timedelta
from decimal import Decimal

import orjson
import pytest
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from apps.clients.models import Client, ClientPassport
from apps.orders import queries
from apps.orders.models import Order, Service
from apps.orders.tests.factories import add, at, flight, hotel, make_client, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    anna, boris, vera = make_client("Анина"), make_client("Борисов"), make_client("Верина", middle_name="Петровна")
    ClientPassport.objects.create(client=anna, kind="foreign", number="751234567", expiry_date=date(2027, 1, 1))
    ClientPassport.objects.create(client=vera, kind="internal", number="4509123456")
    order = make_order(client=anna, travellers=[anna, boris, vera], deadline=at(1))
    add(order, flight(at(2)), travellers=[anna, boris])
    add(order, hotel(at(3)), travellers=[anna])
    add(order, flight(at(9), origin="IST", destination="SVO"))  # a geography gap: warnings are stored
    return Order.objects.get(pk=order.pk)


def test_order_locked_is_the_orms_select_for_update(order):
    with transaction.atomic():
        raw = queries.order_locked(order.pk)
        orm = Order.objects.select_for_update().get(pk=order.pk)
        assert queries.order_locked(999_999_999) is None
    assert raw.warnings and not raw._state.adding
    for field in Order._meta.concrete_fields:
        assert getattr(raw, field.attname) == getattr(orm, field.attname), field.name


def test_order_list_rows_are_the_orms_values(order):
    other = make_order(client=make_client("Ёлкин"), travellers=[])
    rows = queries.order_list_rows([order.pk, other.pk, 999_999_999])
    assert set(rows) == {order.pk, other.pk}
    orm = Order.objects.select_related("client", "operator").prefetch_related("travellers")
    for instance in orm.filter(pk__in=[order.pk, other.pk]):
        row = rows[instance.pk]
        for key in queries.ORDER_ROW_KEYS:
            if key in ("warnings", "traveller_list"):
                continue
            expected = instance
            for part in key.split("__"):
                expected = getattr(expected, part) if expected is not None else None
            assert row[key] == expected, key
        assert orjson.loads(row["warnings"]) == instance.warnings
        travellers = sorted(instance.travellers.all(), key=lambda client: (client.last_name, client.pk))
        assert orjson.loads(row["traveller_list"]) == [
            {"id": client.pk, "full_name": " ".join(filter(None, [client.last_name, client.first_name,
                                                                 client.middle_name]))}
            for client in travellers
        ]


def test_order_facts_are_what_the_orm_reads(order):
    deleted = Client.all_objects.filter(last_name="Борисов")  # a deleted traveller is not the order's any more
    deleted.update(is_deleted=True, deleted_at=timezone.now())
    travellers, services, passports = (orjson.loads(text) for text in queries.order_facts_json(order.pk))
    linked = Order.travellers.through.objects.filter(order_id=order.pk).values("client_id")
    live = Client.objects.filter(pk__in=linked, is_deleted=False).order_by("last_name", "id")
    assert travellers == [[c.pk, c.last_name, c.first_name, c.middle_name] for c in live]
    orm_services = Service.objects.filter(order=order).prefetch_related(
        Prefetch("travellers", queryset=Client.all_objects.all())
    )
    by_id = {row[0]: row for row in services}
    assert set(by_id) == {s.pk for s in orm_services}
    for service in orm_services:
        (_, kind, status, start, end, tz, origin, destination, city, price, commission, price_ordered,
         commission_ordered, traveller_ids, cost_ordered, supplier_id, cost_due) = by_id[service.pk]  # fmt: skip
        assert (kind, status, tz, origin, destination, city) == (
            service.type, service.status, service.timezone, service.origin, service.destination, service.city
        )
        assert (timezone.datetime.fromisoformat(start), timezone.datetime.fromisoformat(end)) == (
            service.start_dt, service.end_dt
        )
        assert [Decimal(price), Decimal(commission), Decimal(price_ordered), Decimal(commission_ordered),
                Decimal(cost_ordered)] == [
            service.price, service.commission, service.price_in_order_currency, service.commission_in_order_currency,
            service.cost_in_order_currency,
        ]  # fmt: skip
        assert sorted(traveller_ids) == sorted(c.pk for c in service.travellers.all())
        assert (supplier_id, cost_due) == (
            service.supplier_id, service.cost_due_date.isoformat() if service.cost_due_date else None
        )
    involved = {c.pk for c in live} | {c.pk for s in orm_services for c in s.travellers.all()}
    orm_passports = ClientPassport.objects.filter(client_id__in=involved, is_active=True, is_archived=False)
    assert sorted((p[0], p[1], p[2]) for p in passports) == sorted(
        (p.client_id, p.kind, p.expiry_date.isoformat() if p.expiry_date else None) for p in orm_passports
    )


def test_order_save_derived_writes_what_a_queryset_update_writes(order):
    changed = Order.objects.get(pk=order.pk)
    changed.total_amount, changed.commission = Decimal("123456.78"), Decimal("0.01")
    changed.trip_start, changed.trip_end = at(5), at(6)
    changed.balance_due, changed.warnings = Decimal("-5.00"), [{"code": "x", "message": "ё", "service_ids": [1]}]
    changed.updated_at = timezone.now() + timedelta(minutes=1)
    fields = [*queries.DERIVED_FIELDS, "updated_at"]
    queries.order_save_derived(changed, [[], [], [], order.pk, order.pk])  # no supplier balances
    raw = Order.objects.values(*fields).get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(**{name: getattr(order, name) for name in fields})  # back
    Order.objects.filter(pk=order.pk).update(**{name: getattr(changed, name) for name in fields})
    assert raw == Order.objects.values(*fields).get(pk=order.pk)


def test_travellers_link_adds_what_m2m_add_adds(order):
    clients = [make_client(), make_client()]
    raw_service = add(order, flight(at(20)), travellers=[])
    orm_service = add(order, flight(at(21)), travellers=[])
    queries.travellers_link(raw_service, [c.pk for c in clients])
    queries.travellers_link(order, [clients[0].pk])
    orm_service.travellers.add(*clients)
    assert sorted(raw_service.travellers.values_list("id", flat=True)) == sorted(
        orm_service.travellers.values_list("id", flat=True)
    )
    assert clients[0] in order.travellers.all()


def test_order_number_value_counts_up_per_year():
    first = queries.order_number_value(2093)
    assert queries.order_number_value(2093) == first + 1
