"""Test data for the orders app: clients (through the clients model), suppliers, orders, services."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from apps.clients.models import Client
from apps.orders import services
from apps.orders.models import Supplier

MSK = ZoneInfo("Europe/Moscow")
_names = count(1)


def make_client(last_name: str | None = None, first_name: str = "Иван", **extra) -> Client:
    number = next(_names)
    return Client.objects.create(last_name=last_name or f"Петров{number}", first_name=first_name, **extra)


def make_supplier(**extra) -> Supplier:
    extra.setdefault("name", f"Поставщик {next(_names)}")
    return Supplier.objects.create(**extra)


def make_order(*, client=None, travellers=None, actor=None, **data):
    client = client or make_client()
    travellers = [client] if travellers is None else travellers
    return services.order_create(data={"client": client, **data}, actor=actor, travellers=travellers)


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


def add(order, data: dict, travellers=None, actor=None):
    return services.service_create(order=order, data=data, travellers=travellers, actor=actor)
