"""The template context: an order turned into plain dicts/lists/strings/Decimals.

Templates never see model instances (no managers, methods or relations to reach through); every
value is copied into a fresh dict here and ``ensure_plain`` checks the result. The offer (КП) gets
no personal data beyond the client's name.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from apps.core.money import ZERO, quantize_money
from apps.documents import russian
from apps.documents.rendering import amount_in_words

DOCUMENT_TITLES = {
    "contract": "Договор о реализации туристского продукта",
    "invoice": "Счёт на оплату",
    "act": "Акт оказанных услуг",
    "offer": "Коммерческое предложение",
}

SERVICE_TYPE_LABELS = {
    "flight": "Авиабилет",
    "rail": "Ж/д билет",
    "hotel": "Проживание",
    "transfer": "Трансфер",
    "local": "Местная услуга",
}
TRANSPORT = {"flight", "rail", "transfer"}
CANCELLED = "cancelled"

# Readable names of the service details keys shown in the "details" column (others are skipped).
DETAIL_LABELS = {
    "carrier": "",
    "flight_number": "рейс",
    "cabin_class": "класс",
    "baggage": "багаж",
    "train_number": "поезд",
    "car": "вагон",
    "seat": "место",
    "hotel_name": "",
    "room_type": "номер",
    "meals": "питание",
    "vehicle": "",
    "pickup": "подача",
    "dropoff": "высадка",
    "title": "",
    "description": "",
}
DETAIL_VALUES = {
    "economy": "эконом",
    "premium_economy": "премиум-эконом",
    "business": "бизнес",
    "first": "первый",
}

PLAIN_TYPES = (str, int, Decimal, bool, type(None))


def ensure_plain(value: Any, path: str = "context") -> None:
    """Raise TypeError unless value is built only of dict/list/str/int/Decimal/bool/None."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: non-string key {key!r}")
            ensure_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            ensure_plain(item, f"{path}[{index}]")
    elif not isinstance(value, PLAIN_TYPES) or isinstance(value, float):
        raise TypeError(f"{path}: {type(value).__name__} is not allowed in a template context")


def _date(value: date | datetime | None, tz: str | None = None, with_time: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zoneinfo.ZoneInfo(tz)) if tz else timezone.localtime(value)
        return value.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")
    return value.strftime("%d.%m.%Y")


def initials(full_name: str) -> str:
    """«Иванова Мария Петровна» → «Иванова М. П.» (how a signature is spelled out)."""
    parts = full_name.split()
    if not parts:
        return ""
    return " ".join([parts[0], *(f"{part[0]}." for part in parts[1:3])])


def _date_range(start: str, end: str) -> str:
    """«10.07.2026», «10.07.2026 09:40–14:05» (same day) or «10.07.2026 — 20.07.2026»."""
    if start == end:
        return start
    if start[:10] == end[:10] and len(end) > 10:
        return f"{start}–{end[11:]}"
    return f"{start} — {end}"


def vat_line(total: Decimal, vat_mode: str, vat_rate: Decimal | None) -> dict:
    """{"label", "amount", "rate"}: «Без НДС» or «В том числе НДС 20 %» with the included amount."""
    if vat_mode == "vat" and vat_rate:
        rate = Decimal(vat_rate)
        amount = quantize_money(total * rate / (Decimal(100) + rate))
        rate_text = f"{rate.normalize():f}".replace(".", ",")
        return {"label": f"В том числе НДС {rate_text} %", "amount": amount, "rate": rate, "applies": True}
    return {"label": "Без НДС", "amount": ZERO, "rate": ZERO, "applies": False}


def totals_block(total: Decimal, currency: str, agency: dict) -> dict:
    total = quantize_money(total)
    return {
        "total": total,
        "currency": currency,
        "vat": vat_line(total, agency.get("vat_mode", "none"), agency.get("vat_rate")),
        "total_in_words": amount_in_words(total, currency),
    }


# --- From models ----------------------------------------------------------------------------------


DIRECTOR_POSITION = "генеральный директор"
DIRECTOR_BASIS = "Устава"


def agency_dict(requisites) -> dict:
    fields = ("legal_name", "short_name", "inn", "kpp", "ogrn", "address", "bank_name", "bank_city", "account",
              "bik", "corr_account", "director_name", "accountant_name", "vat_mode")
    data = {name: str(getattr(requisites, name, "") or "") for name in fields}
    data["director_initials"] = initials(data["director_name"])
    data["accountant_initials"] = initials(data["accountant_name"])
    rate = getattr(requisites, "vat_rate", None)
    data["vat_rate"] = Decimal(rate) if rate is not None else None
    data.update(_agency_words(data))
    return data


def _agency_words(data: dict) -> dict:
    """How the agency and its head are written in a preamble, declined and agreeing in gender:
    «ООО …, именуемое в дальнейшем «Агент», в лице генерального директора Ивановой Марии
    Петровны, действующей на основании Устава» (an entrepreneur — ИНН of 12 digits — signs himself)."""
    director = russian.person_words(data["director_name"])
    entrepreneur = len(data["inn"]) == 12
    if entrepreneur:
        position = "индивидуальный предприниматель"
        named = director["words"]["named"]
        basis = f"листа записи ЕГРИП (ОГРНИП {data['ogrn']})" if data["ogrn"] else "листа записи ЕГРИП"
    else:
        position = DIRECTOR_POSITION
        named = russian.ORGANISATION_NAMED[russian.noun_gender(data["legal_name"])]
        basis = DIRECTOR_BASIS
    return {
        "is_entrepreneur": entrepreneur,
        "named": named,
        "director_position": position[:1].upper() + position[1:],
        "director_position_gent": russian.decline_phrase(position, "gent"),
        "director_name_gent": director["full_name_gent"],
        "director_gender": director["gender"],
        "director_words": director["words"],
        "director_basis": basis,
    }


def _service_details(service) -> str:
    details = service.details or {}
    parts = []
    for key, label in DETAIL_LABELS.items():
        value = details.get(key)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict | list):
            continue
        value = DETAIL_VALUES.get(str(value), str(value))
        parts.append(f"{label} {value}".strip() if label else value)
    return ", ".join(parts)[:300]


def service_dict(service, index: int) -> dict:
    tz = service.timezone or None
    kind = service.type
    if kind in TRANSPORT:
        place = " → ".join(part for part in (service.origin, service.destination) if part)
    else:
        place = ", ".join(part for part in (service.city, service.address) if part)
    start = _date(service.start_dt, tz, with_time=kind in TRANSPORT)
    end = _date(service.end_dt, tz, with_time=kind in TRANSPORT)
    return {
        "index": index,
        "type": kind,
        "type_label": SERVICE_TYPE_LABELS.get(kind, kind),
        "title": str(service.title),
        "start": start,
        "end": end,
        "dates": _date_range(start, end),
        "place": place,
        "details": _service_details(service),
        "price": quantize_money(service.price_in_order_currency or service.price or ZERO),
        "travellers_count": 0,
    }


def person_dict(client, *, with_birth_date: bool = True) -> dict:
    birth = getattr(client, "birth_date", None) if with_birth_date else None
    return {
        "full_name": client.full_name,
        "full_name_latin": getattr(client, "full_name_latin", "") or "",
        "birth_date": _date(birth),
    }


def _primary_contact(client, kind: str) -> str:
    contacts = [c for c in client.contacts.all() if c.kind == kind and not getattr(c, "is_archived", False)]
    contacts.sort(key=lambda c: not c.is_primary)
    return str(contacts[0].value) if contacts else ""


def client_dict(client, *, personal: bool) -> dict:
    data = name_dict(client.full_name)
    if personal:
        data.update(
            {
                "full_name_latin": getattr(client, "full_name_latin", "") or "",
                "birth_date": _date(getattr(client, "birth_date", None)),
                "phone": _primary_contact(client, "phone"),
                "email": _primary_contact(client, "email"),
            }
        )
    return data


def name_dict(full_name: str) -> dict:
    """A person's name as documents write it: nominative, declined, initials, gendered words."""
    return {"full_name": full_name, "initials": initials(full_name), **russian.person_words(full_name)}


def build_context(order, doc_type: str, *, requisites, number: str, doc_date: date | None = None) -> dict:
    """The whole context for one document of an order (only plain values)."""
    personal = doc_type != "offer"
    services = [s for s in order.services.all() if s.status != CANCELLED]
    rows = [service_dict(service, index) for index, service in enumerate(services, start=1)]
    total = sum((row["price"] for row in rows), ZERO)
    agency = agency_dict(requisites)
    context = {
        "document": {
            "type": doc_type,
            "title": DOCUMENT_TITLES[doc_type],
            "number": number,
            "date": _date(doc_date or timezone.localdate()),
        },
        "agency": agency,
        "order": {
            "number": order.number,
            "date": _date(order.created_at),
            "currency": order.currency,
            "trip_start": _date(getattr(order, "trip_start", None)),
            "trip_end": _date(getattr(order, "trip_end", None)),
            "deadline": _date(order.deadline),
        },
        "client": client_dict(order.client, personal=personal),
        "travellers": [person_dict(t) for t in order.travellers.all()] if personal else [],
        "services": rows,
        "totals": totals_block(total, order.currency, agency),
    }
    ensure_plain(context)
    return context


# --- The sample context: upload checks and the demo ----------------------------------------------

SAMPLE_AGENCY = {
    "legal_name": "Общество с ограниченной ответственностью «Солнечный ветер»",
    "short_name": "ООО «Солнечный ветер»",
    "inn": "7707083893",
    "kpp": "770701001",
    "ogrn": "1027700132195",
    "address": "125009, г. Москва, ул. Тверская, д. 7, офис 12",
    "bank_name": "ПАО Сбербанк",
    "bank_city": "г. Москва",
    "account": "40702810938000000001",
    "bik": "044525225",
    "corr_account": "30101810400000000225",
    "director_name": "Иванова Мария Петровна",
    "accountant_name": "Петров Олег Сергеевич",
    "vat_mode": "none",
    "vat_rate": None,
}


def _sample_service(index: int, kind: str, dates: str, place: str, details: str, price: str) -> dict:
    start, _, end = dates.replace("–", " — ").partition(" — ")
    return {
        "index": index, "type": kind, "type_label": SERVICE_TYPE_LABELS[kind], "title": details.split(",")[0],
        "start": start, "end": end or start, "dates": dates, "place": place, "details": details,
        "price": Decimal(price), "travellers_count": 2,
    }


def sample_context(doc_type: str = "invoice", *, services: int = 4, vat_mode: str = "none") -> dict:
    """A complete context for a made-up order: every key a real one has (upload checks, previews)."""
    catalogue = [
        ("flight", "10.07.2026 09:40–14:05", "SVO → AYT", "Аэрофлот, рейс SU 2136, класс эконом", "68400.00"),
        ("transfer", "10.07.2026 15:00", "AYT → Кемер", "Минивэн, групповой", "3200.00"),
        ("hotel", "10.07.2026 — 20.07.2026", "Кемер, Türkiye", "Rixos Sungate, номер Deluxe, питание UAI",
         "184500.00"),
        ("local", "14.07.2026", "Каппадокия", "Экскурсия «Каппадокия за один день»", "12600.45"),
        ("flight", "20.07.2026 16:10–20:45", "AYT → SVO", "Аэрофлот, рейс SU 2137, класс эконом", "71300.00"),
        ("rail", "21.07.2026 07:00–11:00", "Москва → Санкт-Петербург", "Сапсан, поезд 752А, вагон 3", "6400.00"),
    ]
    rows = []
    for index in range(services):
        kind, dates, place, details, price = catalogue[index % len(catalogue)]
        rows.append(_sample_service(index + 1, kind, dates, place, details, price))
    agency = agency_dict(SimpleNamespace(**dict(SAMPLE_AGENCY, vat_mode=vat_mode,
                                                vat_rate=Decimal("20.00") if vat_mode == "vat" else None)))
    total = sum((row["price"] for row in rows), ZERO)
    personal = doc_type != "offer"
    client = name_dict("Смирнов Алексей Викторович")
    if personal:
        client.update({"full_name_latin": "SMIRNOV ALEKSEI", "birth_date": "12.03.1985",
                       "phone": "+79161234567", "email": "smirnov@example.com"})
    travellers = [
        {"full_name": "Смирнов Алексей Викторович", "full_name_latin": "SMIRNOV ALEKSEI", "birth_date": "12.03.1985"},
        {"full_name": "Смирнова Елена Игоревна", "full_name_latin": "SMIRNOVA ELENA", "birth_date": "02.11.1987"},
    ]
    context = {
        "document": {"type": doc_type, "title": DOCUMENT_TITLES[doc_type], "number": "ORD-2026-00042/1",
                     "date": "26.11.2026"},
        "agency": agency,
        "order": {"number": "ORD-2026-00042", "date": "20.11.2026", "currency": "RUB", "trip_start": "10.07.2026",
                  "trip_end": "21.07.2026", "deadline": "01.12.2026"},
        "client": client,
        "travellers": travellers if personal else [],
        "services": rows,
        "totals": totals_block(total, "RUB", agency),
    }
    ensure_plain(context)
    return context
