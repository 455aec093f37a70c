"""Demo orders: a beach holiday in Turkey (flights, transfers, hotel in EUR, excursion) and a rail trip.

Uses the clients the clients app's demo created (skips when there are none). Idempotent: the demo
orders are recognised by their notes.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from apps.clients.models import Client
from apps.orders import services
from apps.orders.models import Order, Supplier, SupplierKind

MARK_BEACH = "Демо: отдых в Турции"
MARK_RAIL = "Демо: поездка в Санкт-Петербург"
MSK = ZoneInfo("Europe/Moscow")
IST = ZoneInfo("Europe/Istanbul")

SUPPLIERS = [
    ("Аэрофлот", SupplierKind.AIRLINE, "7712040126"),
    ("Анекс Тур", SupplierKind.TOUR_OPERATOR, "7728168971"),
    ("ОАО «РЖД»", SupplierKind.RAIL, "7708503727"),
    ("Трансфер-Сервис", SupplierKind.TRANSFER, ""),
]


def _supplier(name: str) -> Supplier:
    return Supplier.objects.get(name=name)


def _at(day, hour, minute=0, tz=MSK) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _ensure_suppliers() -> None:
    for name, kind, inn in SUPPLIERS:
        if not Supplier.objects.filter(name=name).exists():
            services.supplier_create(data={"name": name, "kind": kind, "inn": inn, "contacts": "office@example.com"})


def _beach(client, companion, operator) -> Order:
    start = timezone.localdate() + timedelta(days=30)
    back = start + timedelta(days=7)
    order = services.order_create(
        data={
            "client": client,
            "operator": operator,
            "notes": f"{MARK_BEACH}. Хотят номер с видом на море.",
            "deadline": _at(timezone.localdate() + timedelta(days=5), 18),
        },
        actor=operator,
        travellers=[client, companion],
    )
    aeroflot, anex, transfer = _supplier("Аэрофлот"), _supplier("Анекс Тур"), _supplier("Трансфер-Сервис")
    items = [
        {
            "type": "flight", "start_dt": _at(start, 9, 40), "end_dt": _at(start, 14, 5, IST),
            "timezone": "Europe/Moscow", "origin": "SVO", "destination": "AYT", "supplier": aeroflot,
            "price": Decimal("38400"), "commission": Decimal("1200"),
            "details": {"carrier": "SU", "flight_number": "2136", "pnr": "KX7Q2M", "cabin_class": "economy",
                        "baggage": "23 кг"},
        },
        {
            "type": "transfer", "start_dt": _at(start, 14, 45, IST), "end_dt": _at(start, 16, 0, IST),
            "timezone": "Europe/Istanbul", "origin": "AYT", "destination": "Кемер", "supplier": transfer,
            "price": Decimal("40"), "currency": "EUR", "rate": Decimal("101.25"),
            "details": {"vehicle": "Минивэн", "pickup": "Терминал 1, табличка с фамилией"},
        },
        {
            "type": "hotel", "start_dt": _at(start, 16, 0, IST), "end_dt": _at(back, 12, 0, IST),
            "timezone": "Europe/Istanbul", "city": "Кемер", "address": "Кемер, ул. Ататюрка, 12", "supplier": anex,
            "price": Decimal("1450"), "currency": "EUR", "rate": Decimal("101.25"), "commission_percent": Decimal("10"),
            "details": {"hotel_name": "Rixos Sungate", "room_type": "Deluxe, вид на море", "meals": "UAI",
                        "confirmation_number": "ANX-5581920"},
        },
        {
            "type": "local", "start_dt": _at(start + timedelta(days=3), 9, 0, IST),
            "end_dt": _at(start + timedelta(days=3), 18, 0, IST), "timezone": "Europe/Istanbul", "city": "Кемер",
            "supplier": anex, "price": Decimal("90"), "currency": "EUR", "rate": Decimal("101.25"),
            "details": {"title": "Экскурсия в Демре, Миру и Кекову", "kind": "excursion"},
        },
        {
            "type": "transfer", "start_dt": _at(back, 12, 30, IST), "end_dt": _at(back, 13, 45, IST),
            "timezone": "Europe/Istanbul", "origin": "Кемер", "destination": "AYT", "supplier": transfer,
            "price": Decimal("40"), "currency": "EUR", "rate": Decimal("101.25"), "details": {"vehicle": "Минивэн"},
        },
        {
            "type": "flight", "start_dt": _at(back, 15, 25, IST), "end_dt": _at(back, 19, 50),
            "timezone": "Europe/Istanbul",
            "origin": "AYT", "destination": "SVO", "supplier": aeroflot, "price": Decimal("36100"),
            "commission": Decimal("1200"),
            "details": {"carrier": "SU", "flight_number": "2137", "pnr": "KX7Q2M", "cabin_class": "economy",
                        "baggage": "23 кг"},
        },
    ]  # fmt: skip
    for data in items:
        services.service_create(order=order, data=data, actor=operator)
    return order


def _rail(client, operator) -> Order:
    day = timezone.localdate() + timedelta(days=14)
    order = services.order_create(
        data={"client": client, "operator": operator, "notes": f"{MARK_RAIL}. Деловая поездка."},
        actor=operator,
        travellers=[client],
    )
    rzd = _supplier("ОАО «РЖД»")
    items = [
        {
            "type": "rail", "start_dt": _at(day, 7, 0), "end_dt": _at(day, 10, 55),
            "origin": "Москва Ленинградский вокзал",
            "destination": "Санкт-Петербург Московский вокзал", "supplier": rzd, "price": Decimal("7850"),
            "details": {"train_number": "752А", "car": "5", "seat": "12", "pnr": "7012345678901"},
        },
        {
            "type": "hotel", "start_dt": _at(day, 14, 0), "end_dt": _at(day + timedelta(days=2), 12, 0),
            "city": "Санкт-Петербург", "address": "Невский пр., 57", "price": Decimal("18600"),
            "commission_percent": Decimal("8"),
            "details": {"hotel_name": "Гостиница «Невский»", "room_type": "Стандарт", "meals": "BB"},
        },
        {
            "type": "rail", "start_dt": _at(day + timedelta(days=2), 19, 0),
            "end_dt": _at(day + timedelta(days=2), 22, 50), "origin": "Санкт-Петербург Московский вокзал",
            "destination": "Москва Ленинградский вокзал", "supplier": rzd, "price": Decimal("8120"),
            "details": {"train_number": "781А", "car": "3", "seat": "40"},
        },
    ]  # fmt: skip
    for data in items:
        services.service_create(order=order, data=data, actor=operator)
    services.order_transition(order=order, action="confirm", actor=operator)
    return order


def load_demo(stdout) -> None:
    from apps.accounts.models import User

    clients = list(Client.objects.order_by("id")[:3])
    if len(clients) < 2:
        stdout.write("Демо-заказы пропущены: нет демо-клиентов.")
        return
    _ensure_suppliers()
    operator = User.objects.filter(email="operator@demo.travelcrm").first()
    created = []
    if not Order.objects.filter(notes__startswith=MARK_BEACH).exists():
        created.append(_beach(clients[0], clients[1], operator).number)
    if not Order.objects.filter(notes__startswith=MARK_RAIL).exists():
        created.append(_rail(clients[-1], operator).number)
    stdout.write(f"Демо-заказы: {', '.join(created) if created else 'уже загружены'}.")
