"""Test data for the orders app: suppliers, orders and services, made through the orders services
(clients through apps.clients.tests.factories.ClientFactory, the one way to make a client).

    OrderFactory(travellers=[...], deadline=...)      # client: a new one unless given; travellers: [client]
    ServiceFactory(order=order, **flight(at(2)))       # any service data; travellers: the order's unless given
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from apps.clients.models import Client
from apps.clients.tests.factories import ClientFactory
from apps.orders import services
from apps.orders.models import Order, Service, Supplier

MSK = ZoneInfo("Europe/Moscow")


class SupplierFactory(factory.Factory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Поставщик {n + 1}")

    @classmethod
    def _create(cls, model_class, *args, actor=None, **data):
        return services.supplier_create(data=data, actor=actor)


class OrderFactory(factory.Factory):
    """Keyword arguments are order_create's `data`, plus `actor` and `travellers` ([client] by default)."""

    class Meta:
        model = Order

    client = factory.SubFactory(ClientFactory)

    @classmethod
    def _create(cls, model_class, *args, actor=None, travellers=None, **data):
        travellers = [data["client"]] if travellers is None else travellers
        return services.order_create(data=data, actor=actor, travellers=travellers)


class ServiceFactory(factory.Factory):
    """Keyword arguments are service_create's `data` (see flight(), hotel(), transfer()), plus `order`,
    `actor` and `travellers` (the order's travellers by default)."""

    class Meta:
        model = Service

    order = factory.SubFactory(OrderFactory)

    @classmethod
    def _create(cls, model_class, *args, order, actor=None, travellers=None, **data):
        if not data:
            data = flight(at(2))
        return services.service_create(order=order, data=data, travellers=travellers, actor=actor)


def make_client(last_name: str | None = None, first_name: str = "Иван", **extra) -> Client:
    names = {"last_name": last_name} if last_name else {}
    return ClientFactory(first_name=first_name, **names, **extra)


def make_supplier(**extra) -> Supplier:
    return SupplierFactory(**extra)


def make_order(*, client=None, travellers=None, actor=None, **data) -> Order:
    client = client or ClientFactory()
    return OrderFactory(client=client, travellers=travellers, actor=actor, **data)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 12, tz=MSK) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=tz)


def flight(start, hours: float = 4, origin="SVO", destination="AYT", **extra) -> dict:
    data = {
        "type": "flight",
        "start_dt": start,
        "end_dt": start + timedelta(hours=hours),
        "origin": origin,
        "destination": destination,
        "price": Decimal("30000.00"),
        "details": {"carrier": "SU", "flight_number": "2136"},
    }
    data.update(extra)
    return data


def hotel(start, nights: int = 7, city="Анталья", **extra) -> dict:
    data = {
        "type": "hotel",
        "start_dt": start,
        "end_dt": start + timedelta(days=nights),
        "city": city,
        "timezone": "Europe/Istanbul",
        "price": Decimal("70000.00"),
        "details": {"hotel_name": "Rixos", "meals": "AI"},
    }
    data.update(extra)
    return data


def transfer(start, origin="AYT", destination="Кемер", **extra) -> dict:
    data = {
        "type": "transfer",
        "start_dt": start,
        "end_dt": start + timedelta(hours=1),
        "origin": origin,
        "destination": destination,
        "price": Decimal("3000.00"),
        "details": {"vehicle": "Минивэн"},
    }
    data.update(extra)
    return data


def add(order, data: dict, travellers=None, actor=None) -> Service:
    return ServiceFactory(order=order, travellers=travellers, actor=actor, **data)
