"""Demo data of the documents app: a demo order with several services and travellers (tests, the
bench and the PNG previews use it too), and its four documents. Idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

MSK = ZoneInfo("Europe/Moscow")
IST = ZoneInfo("Europe/Istanbul")
DEMO_NOTE = "Демо-заказ для документов"

REQUISITES = {
    "legal_name": "Общество с ограниченной ответственностью «Солнечный ветер»",
    "short_name": "ООО «Солнечный ветер»",
    "inn": "7707083893",
    "kpp": "770701001",
    "ogrn": "1027700132195",
    "address": "125009, г. Москва, ул. Тверская, д. 7, офис 12",
    "bank_name": "ПАО Сбербанк",
    "bank_city": "г. Москва",
    "bik": "044525225",
    "account": "40702810938000000001",
    "corr_account": "30101810400000000225",
    "director_name": "Иванова Мария Петровна",
    "accountant_name": "Петров Олег Сергеевич",
    "vat_mode": "usn",
}


def ensure_requisites(**overrides):
    """The agency's requisites (demo values) unless someone has filled them in already."""
    from apps.finance.models import AgencyRequisites
    from apps.finance.services import requisites_save

    existing = AgencyRequisites.objects.first()
    if existing is not None and not overrides:
        return existing
    return requisites_save(data={**REQUISITES, **overrides})


def _at(day: int, hour: int, minute: int = 0, tz=MSK) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=tz)


def _service_plan() -> list[tuple[dict, str]]:
    """(service data, who travels: "all"|"first") — ten services of a two-week trip, in order."""
    return [
        ({"type": "flight", "start_dt": _at(10, 9, 40), "end_dt": _at(10, 14, 5, IST), "timezone": "Europe/Moscow",
          "origin": "SVO", "destination": "AYT", "price": Decimal("68400.00"),
          "details": {"carrier": "Аэрофлот", "flight_number": "SU2136", "cabin_class": "economy",
                      "baggage": "23 кг"}}, "all"),
        ({"type": "transfer", "start_dt": _at(10, 15, 0, IST), "end_dt": _at(10, 16, 30, IST),
          "timezone": "Europe/Istanbul", "origin": "AYT", "destination": "Кемер", "price": Decimal("3200.00"),
          "details": {"vehicle": "Минивэн, групповой"}}, "all"),
        ({"type": "hotel", "start_dt": _at(10, 17, 0, IST), "end_dt": _at(20, 12, 0, IST),
          "timezone": "Europe/Istanbul", "city": "Кемер", "address": "Бельдиби, ул. Ататюрка, 12",
          "price": Decimal("2000.00"), "currency": "EUR", "rate": Decimal("92.25"),
          "details": {"hotel_name": "Rixos Sungate", "room_type": "Deluxe, вид на море", "meals": "UAI"}}, "all"),
        ({"type": "local", "start_dt": _at(12, 9, 0, IST), "end_dt": _at(12, 18, 0, IST),
          "timezone": "Europe/Istanbul", "city": "Анталья", "price": Decimal("7800.00"),
          "details": {"title": "Экскурсия «Старый город и водопады»", "kind": "excursion"}}, "all"),
        ({"type": "local", "start_dt": _at(14, 5, 0, IST), "end_dt": _at(14, 22, 0, IST),
          "timezone": "Europe/Istanbul", "city": "Каппадокия", "price": Decimal("12600.45"),
          "details": {"title": "Каппадокия за один день", "kind": "excursion"}}, "all"),
        ({"type": "local", "start_dt": _at(16, 10, 0, IST), "end_dt": _at(16, 16, 0, IST),
          "timezone": "Europe/Istanbul", "city": "Кемер", "price": Decimal("4500.00"),
          "details": {"title": "Яхтенная прогулка", "kind": "excursion"}}, "first"),
        ({"type": "local", "start_dt": _at(10, 0, 0), "end_dt": _at(21, 23, 0), "timezone": "Europe/Moscow",
          "city": "Турция", "price": Decimal("2900.00"),
          "details": {"title": "Медицинская страховка", "kind": "insurance", "description": "Покрытие 50 000 EUR"}},
         "all"),
        ({"type": "transfer", "start_dt": _at(20, 12, 30, IST), "end_dt": _at(20, 14, 0, IST),
          "timezone": "Europe/Istanbul", "origin": "Кемер", "destination": "AYT", "price": Decimal("3200.00"),
          "details": {"vehicle": "Минивэн, групповой"}}, "all"),
        ({"type": "flight", "start_dt": _at(20, 16, 10, IST), "end_dt": _at(20, 20, 45), "timezone": "Europe/Istanbul",
          "origin": "AYT", "destination": "SVO", "price": Decimal("71300.00"),
          "details": {"carrier": "Аэрофлот", "flight_number": "SU2137", "cabin_class": "economy",
                      "baggage": "23 кг"}}, "all"),
        ({"type": "rail", "start_dt": _at(21, 7, 0), "end_dt": _at(21, 11, 0), "timezone": "Europe/Moscow",
          "origin": "Москва", "destination": "Санкт-Петербург", "price": Decimal("6400.00"),
          "details": {"train_number": "752А", "car": "3", "seat": "14, 15"}}, "all"),
    ]


TRAVELLERS = [
    {"last_name": "Смирнов", "first_name": "Алексей", "middle_name": "Викторович", "last_name_latin": "SMIRNOV",
     "first_name_latin": "ALEKSEI", "birth_date": "1985-03-12", "phones": ["+79161234567"],
     "emails": ["smirnov.demo@example.com"],
     "passports": [{"kind": "internal", "series": "4510", "number": "1", "issue_date": "2005-04-01",
                    "issued_by": "ОВД района Арбат г. Москвы"},
                   {"kind": "foreign", "series": "75", "number": "1", "issue_date": "2021-05-17",
                    "expiry_date": "2031-05-17", "issued_by": "МВД 77810"}]},
    {"last_name": "Смирнова", "first_name": "Елена", "middle_name": "Игоревна", "last_name_latin": "SMIRNOVA",
     "first_name_latin": "ELENA", "birth_date": "1987-11-02", "phones": ["+79161234568"],
     "passports": [{"kind": "foreign", "series": "75", "number": "2", "issue_date": "2022-02-10",
                    "expiry_date": "2032-02-10", "issued_by": "МВД 77810"}]},
    {"last_name": "Смирнов", "first_name": "Максим", "middle_name": "Алексеевич", "last_name_latin": "SMIRNOV",
     "first_name_latin": "MAKSIM", "birth_date": "2015-06-30",
     "passports": [{"kind": "foreign", "series": "76", "number": "3", "issue_date": "2023-08-01",
                    "expiry_date": "2028-08-01", "issued_by": "МВД 77810"}]},
]

# The tour operator of the package (flights, transfers, hotel): what the tour contract prints.
TOUR_OPERATOR = {
    "name": "Солнце Тур", "kind": "tour_operator", "legal_name": "ООО «Солнце Тур»", "inn": "7702070139",
    "address": "129090, г. Москва, ул. Щепкина, д. 28", "registry_number": "РТО 022345",
    "security_kind": "bank_guarantee", "security_amount": Decimal("50000000.00"),
    "security_provider": "АО «Банк Гарант»", "security_number": "БГ-2026/0117",
    "security_valid_from": date(2026, 1, 1), "security_valid_until": date(2026, 12, 31),
}
PACKAGE_TYPES = {"flight", "transfer", "hotel"}


def tour_operator():
    from apps.orders.models import Supplier
    from apps.orders.services import supplier_create

    return Supplier.objects.filter(registry_number=TOUR_OPERATOR["registry_number"]).first() or \
        supplier_create(data=TOUR_OPERATOR)


def _client(data: dict, actor, unique: str):
    """A demo client; `unique` (digits) gives a separate set of clients (tests, the bench)."""
    from apps.clients.services import client_create

    data = dict(data)
    if unique:
        data["phones"] = [p[: -len(unique) - 2] + unique + p[-2:] for p in data.get("phones", [])]
        data["emails"] = [e.replace("@", f"+{unique}@") for e in data.get("emails", [])]
    # Passport numbers: the traveller's digit + `unique`, padded to the document's length.
    width = {"internal": 6, "foreign": 7}
    data["passports"] = [
        dict(p, number=(p["number"] + (unique or "0")).rjust(width.get(p["kind"], 7), "0")[-width.get(p["kind"], 7):])
        for p in data.get("passports", [])
    ]
    return client_create(data=data, actor=actor, on_duplicate="link")


@transaction.atomic
def build_demo_order(*, services: int = 10, actor=None, unique: str = "", confirm: bool = False):
    """An order (confirmed if `confirm`) of the first three travellers with `services` services (up to
    ten, then repeated by weeks): a tour operator's package, a hotel priced in EUR, a 10 % commission."""
    from apps.orders.services import order_create, order_transition, service_create

    travellers = [_client(data, actor, unique) for data in TRAVELLERS]
    order = order_create(data={"client": travellers[0], "currency": "RUB", "notes": DEMO_NOTE,
                               "deadline": datetime(2026, 6, 20, 18, 0, tzinfo=MSK)},
                         actor=actor, travellers=travellers)
    plan = _service_plan()
    operator = tour_operator() if services else None
    for index in range(services):
        data, who = plan[index % len(plan)]
        data = dict(data, commission_percent=Decimal("10"))
        if data["type"] in PACKAGE_TYPES:
            data["supplier"] = operator
        shift = timedelta(weeks=3 * (index // len(plan)))
        data["start_dt"] += shift
        data["end_dt"] += shift
        service_create(order=order, data=data, actor=actor,
                       travellers=travellers if who == "all" else travellers[:1])
    if services and confirm:
        order_transition(order=order, action="confirm", actor=actor)
    order.refresh_from_db()
    return order


def load_demo(stdout) -> None:
    from apps.core.errors import BusinessError
    from apps.documents.models import Document
    from apps.documents.services import document_generate, load_default_templates
    from apps.orders.models import Order

    load_default_templates()
    ensure_requisites()
    order = Order.objects.filter(notes=DEMO_NOTE).first() or build_demo_order(services=6, confirm=True)
    for doc_type in ("offer", "contract", "invoice", "act"):
        if not Document.objects.filter(order=order, type=doc_type).exists():
            try:
                document_generate(order=order, doc_type=doc_type, confirm=True)
            except BusinessError as error:  # an older demo order may lack what the checks now require
                stdout.write(f"documents: {doc_type} не сформирован: {error.detail}")
    stdout.write(f"documents: демо-заказ {order.number} с документами")
