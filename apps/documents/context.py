"""The template context: an order turned into plain dicts/lists/strings/Decimals.

Templates never see model instances (no managers, methods or relations to reach through); every
value is copied into a fresh dict here and ``ensure_plain`` checks the result. The offer (КП) gets
no personal data beyond the client's name.
"""

from __future__ import annotations

import re
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
# Timeline titles agree with the document's gender: «Сформировано коммерческое предложение № …».
DOCUMENT_EVENT_TITLES = {
    "generated": {"contract": "Сформирован договор", "invoice": "Сформирован счёт на оплату",
                  "act": "Сформирован акт оказанных услуг", "offer": "Сформировано коммерческое предложение"},
    "sent": {"contract": "Отправлен договор", "invoice": "Отправлен счёт на оплату",
             "act": "Отправлен акт оказанных услуг", "offer": "Отправлено коммерческое предложение"},
    "signed": {"contract": "Подписан договор", "invoice": "Подписан счёт на оплату",
               "act": "Подписан акт оказанных услуг", "offer": "Подписано коммерческое предложение"},
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
        return {"label": f"В том числе НДС {rate_text} %", "inline": f"в том числе НДС {rate_text} %",
                "amount": amount, "rate": rate, "applies": True}
    return {"label": "Без НДС", "inline": "без НДС", "amount": ZERO, "rate": ZERO, "applies": False}


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
    data["city"] = city_of(data["address"])
    return data


def city_of(address: str) -> str:
    """«125009, г. Москва, ул. Тверская, д. 7» → «г. Москва»: where the agency's contracts are signed."""
    match = re.search(r"\bг\.\s*([^,]+)", address or "")
    return f"г. {match.group(1).strip()}" if match else ""


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


def currency_note(amount: Decimal, currency: str, rate: Decimal, order_currency: str) -> str:
    """«2 000,00 EUR по курсу 92,2500 руб. за 1 EUR»: a line in another currency, the rate used."""
    from apps.documents.rendering import format_money

    in_currency = quantize_money(Decimal(amount) / Decimal(rate))
    return (f"{format_money(in_currency)} {currency} по курсу {format_decimal(rate, 4)} "
            f"{currency_short(order_currency)} за 1 {currency}")


def format_decimal(value: Decimal, places: int) -> str:
    return f"{Decimal(value):.{places}f}".replace(".", ",")


def currency_short(code: str) -> str:
    return "руб." if code == "RUB" else code


OFFER_OPTIONS = {"": "", "optional": "по желанию", "alternative": "альтернатива"}


def service_dict(service, index: int) -> dict:
    tz = service.timezone or None
    kind = service.type
    if kind in TRANSPORT:
        place = " → ".join(part for part in (service.origin, service.destination) if part)
    else:
        place = ", ".join(part for part in (service.city, service.address) if part)
    start = _date(service.start_dt, tz, with_time=kind in TRANSPORT)
    end = _date(service.end_dt, getattr(service, "end_timezone", "") or tz, with_time=kind in TRANSPORT)
    price = quantize_money(service.price_in_order_currency or service.price or ZERO)
    cost = getattr(service, "cost_in_order_currency", None)
    fee = quantize_money(price - cost) if cost is not None else quantize_money(
        getattr(service, "commission_in_order_currency", ZERO) or ZERO)
    foreign = service.currency != service.order_currency
    supplier = getattr(service, "supplier", None)
    option = getattr(service, "offer_option", "") or ""
    return {
        "id": int(service.pk or index),
        "index": index,
        "type": kind,
        "type_label": SERVICE_TYPE_LABELS.get(kind, kind),
        "title": str(service.title),
        "start": start,
        "end": end,
        "dates": _date_range(start, end),
        "place": place,
        "details": _service_details(service),
        # An invoice/act line: the city without the street address keeps lines short.
        "name": _line_name(kind, _service_details(service), place if kind in TRANSPORT else service.city),
        "price": price,
        # The agency's reward in this service (price − net cost; for an agent sale the commission).
        "agent_fee": max(fee, ZERO),
        "net": price - max(fee, ZERO),
        "currency": str(service.currency),
        "price_in_currency": quantize_money(service.price),
        "rate": Decimal(service.rate or 1),
        "is_foreign_currency": foreign,
        "currency_note": currency_note(price, service.currency, service.rate, service.order_currency)
        if foreign else "",
        "supplier_name": str(getattr(supplier, "legal_name", "") or getattr(supplier, "name", "") or ""),
        "option": option,
        "option_label": OFFER_OPTIONS.get(option, ""),
        "alternative_of": int(getattr(service, "alternative_of_id", None) or 0),
        "in_package": not option,
        "travellers_count": 0,
    }


def _line_name(kind: str, details: str, place: str) -> str:
    """One line of an invoice or act: «Авиабилет: Аэрофлот, рейс SU2136 (SVO → AYT)»."""
    label = SERVICE_TYPE_LABELS.get(kind, kind)
    text = f"{label}: {details}" if details else label
    return f"{text} ({place})" if place else text


PASSPORT_LABELS = {"internal": "паспорт РФ", "foreign": "заграничный паспорт",
                   "birth_certificate": "свидетельство о рождении"}


def passport_dict(client, *, international: bool) -> dict:
    """The active document a trip needs: a foreign passport abroad (a birth certificate for a child
    if nothing else), the internal passport at home. Empty dict when there is none."""
    passports = [p for p in client.passports.all() if p.is_active and not getattr(p, "is_archived", False)]
    order = ("foreign", "birth_certificate", "internal") if international else ("internal", "foreign",
                                                                                 "birth_certificate")
    passports.sort(key=lambda p: (order.index(p.kind) if p.kind in order else 9,
                                  -(p.issue_date or date.min).toordinal()))
    if not passports:
        return {}
    chosen = passports[0]
    if international and chosen.kind == "internal":
        return {}
    series, number = str(chosen.series or ""), str(chosen.number or "")
    return {
        "kind": chosen.kind,
        "kind_label": PASSPORT_LABELS.get(chosen.kind, chosen.kind),
        "series": series,
        "number": number,
        "series_number": f"{series} {number}".strip(),
        "issue_date": _date(chosen.issue_date),
        "expiry_date": _date(chosen.expiry_date),
        "expiry_iso": chosen.expiry_date.isoformat() if chosen.expiry_date else "",
        "issued_by": str(chosen.issued_by or ""),
        "text": _passport_text(chosen.kind, series, number, chosen.issue_date, chosen.issued_by, chosen.expiry_date),
    }


def _passport_text(kind, series, number, issued, issued_by, expiry) -> str:
    parts = [f"{PASSPORT_LABELS.get(kind, kind)} {series} {number}".replace("  ", " ").strip()]
    if issued:
        parts.append(f"выдан {_date(issued)}" + (f" {issued_by}" if issued_by else ""))
    if expiry:
        parts.append(f"действителен до {_date(expiry)}")
    return ", ".join(parts)


def person_dict(client, *, with_birth_date: bool = True, international: bool = False) -> dict:
    birth = getattr(client, "birth_date", None) if with_birth_date else None
    return {
        "full_name": client.full_name,
        "full_name_latin": getattr(client, "full_name_latin", "") or "",
        "birth_date": _date(birth),
        "passport": passport_dict(client, international=international),
    }


def _primary_contact(client, kind: str) -> str:
    contacts = [c for c in client.contacts.all() if c.kind == kind and not getattr(c, "is_archived", False)]
    contacts.sort(key=lambda c: not c.is_primary)
    return str(contacts[0].value) if contacts else ""


# What each document may print about the customer beyond the name (152-FZ: only what it needs).
# An invoice, an act and an offer need the name only; the tour contract identifies the customer
# (birth date, passport) and how to reach him (decree 1852).
PERSONAL_DATA_TYPES = frozenset({"contract"})


def client_dict(client, *, personal: bool, international: bool = False) -> dict:
    data = name_dict(client.full_name)
    if personal:
        data.update(
            {
                "full_name_latin": getattr(client, "full_name_latin", "") or "",
                "birth_date": _date(getattr(client, "birth_date", None)),
                "phone": _primary_contact(client, "phone"),
                "email": _primary_contact(client, "email"),
                # The customer as a party is identified by the internal passport where there is one.
                "passport": passport_dict(client, international=False),
            }
        )
    return data


def name_dict(full_name: str) -> dict:
    """A person's name as documents write it: nominative, declined, initials, gendered words."""
    return {"full_name": full_name, "initials": initials(full_name), **russian.person_words(full_name)}


def manager_dict(user) -> dict:
    """The order's manager as an offer signs: name, phone, e-mail (work contacts, not personal data)."""
    if user is None:
        return {"full_name": "", "initials": "", "phone": "", "email": ""}
    full_name = str(getattr(user, "full_name", "") or "")
    return {"full_name": full_name, "initials": initials(full_name), "phone": str(getattr(user, "phone", "") or ""),
            "email": str(getattr(user, "email", "") or "")}


def is_international(services) -> bool:
    from apps.orders.places import is_foreign

    return any(
        is_foreign(place)
        for s in services
        for place in ((s.origin, s.destination) if s.type in TRANSPORT else (s.city,))
        if place
    )


def tour_operator_dict(supplier) -> dict:
    """What decree 1852 requires about the tour operator (from the supplier of the tour services)."""
    amount = getattr(supplier, "security_amount", None)
    kind = str(getattr(supplier, "security_kind", "") or "")
    kind_label = supplier.get_security_kind_display() if kind and hasattr(supplier, "get_security_kind_display") \
        else kind
    return {
        "name": str(supplier.legal_name or supplier.name),
        "short_name": str(supplier.name),
        "inn": str(supplier.inn or ""),
        "address": str(getattr(supplier, "address", "") or ""),
        "registry_number": str(getattr(supplier, "registry_number", "") or ""),
        "security_kind": kind,
        "security_kind_label": str(kind_label),
        "security_amount": quantize_money(amount) if amount is not None else ZERO,
        "security_provider": str(getattr(supplier, "security_provider", "") or ""),
        "security_number": str(getattr(supplier, "security_number", "") or ""),
        "security_valid_from": _date(getattr(supplier, "security_valid_from", None)),
        "security_valid_until": _date(getattr(supplier, "security_valid_until", None)),
    }


def tour_operators(services) -> list:
    seen, result = set(), []
    for service in services:
        supplier = getattr(service, "supplier", None)
        if supplier is not None and supplier.kind == "tour_operator" and supplier.pk not in seen:
            seen.add(supplier.pk)
            result.append(supplier)
    return result


def invoice_lines(rows: list[dict], *, split_fee: bool, currency: str) -> list[dict]:
    """Lines of an invoice or act: №, name, quantity, unit, price, sum. Under the agent scheme each
    service is the amount passed to its supplier and the agent's fee is a line of its own."""
    lines = []
    for row in rows:
        amount = row["net"] if split_fee else row["price"]
        note = currency_note(amount, row["currency"], row["rate"], currency) if row["is_foreign_currency"] else ""
        lines.append({"index": len(lines) + 1, "name": row["name"], "dates": row["dates"], "quantity": 1,
                      "unit": "усл.", "price": amount, "sum": amount, "note": note, "is_agent_fee": False})
    fee = sum((row["agent_fee"] for row in rows), ZERO)
    if split_fee and fee > 0:
        lines.append({"index": len(lines) + 1, "name": "Агентское вознаграждение", "dates": "", "quantity": 1,
                      "unit": "усл.", "price": fee, "sum": fee, "note": "", "is_agent_fee": True})
    return lines


def totals_for(rows: list[dict], currency: str, agency: dict) -> dict:
    """Totals of the chosen package. Under the agent scheme (a fee in the rows) VAT is charged on the
    agent's fee only: the rest is the suppliers' money passing through (Tax Code art. 156)."""
    total = quantize_money(sum((row["price"] for row in rows), ZERO))
    fee = quantize_money(sum((row["agent_fee"] for row in rows), ZERO))
    block = totals_block(total, currency, agency)
    if fee > 0:
        vat = vat_line(fee, agency.get("vat_mode", "none"), agency.get("vat_rate"))
        if vat["applies"]:
            vat["label"] += " (с агентского вознаграждения)"
            vat["inline"] += " (с агентского вознаграждения)"
        block["vat"] = vat
    block.update({"agent_fee": fee, "suppliers_total": total - fee, "has_agent_fee": fee > 0,
                  "agent_fee_in_words": amount_in_words(fee, currency)})
    return block


def build_context(order, doc_type: str, *, requisites, number: str, doc_date: date | None = None,
                  basis: dict | None = None, valid_until: date | None = None) -> dict:
    """The whole context for one document of an order (only plain values).

    `basis`: {"number", "date"} of the contract the document is based on (acts, invoices)."""
    personal = doc_type in PERSONAL_DATA_TYPES
    services = [s for s in order.services.all() if s.status != CANCELLED]
    for service in services:
        service.order_currency = order.currency
    international = is_international(services)
    rows = [service_dict(service, index) for index, service in enumerate(services, start=1)]
    package = [row for row in rows if row["in_package"]]
    if doc_type != "offer":
        rows = package  # options and alternatives are offered, never billed
    agency = agency_dict(requisites)
    totals = totals_for(package, order.currency, agency)
    contract = basis or {}
    context = {
        "document": {
            "type": doc_type,
            "title": DOCUMENT_TITLES[doc_type],
            "number": number,
            "date": _date(doc_date or timezone.localdate()),
            "valid_until": _date(valid_until),
            "basis": _basis_text(contract, order),
            "contract_number": str(contract.get("number", "")),
            "contract_date": str(contract.get("date", "")),
        },
        "agency": agency,
        "manager": manager_dict(getattr(order, "operator", None)),
        "order": {
            "number": order.number,
            "date": _date(order.created_at),
            "currency": order.currency,
            "currency_short": currency_short(order.currency),
            "trip_start": _date(getattr(order, "trip_start", None)),
            "trip_end": _date(getattr(order, "trip_end", None)),
            "deadline": _date(order.deadline),
            "is_international": international,
            "places": _places(services),
        },
        "client": client_dict(order.client, personal=personal, international=international),
        "travellers": [person_dict(t, international=international) for t in order.travellers.all()]
        if personal else [],
        "tour_operators": [tour_operator_dict(s) for s in tour_operators(services)] if doc_type == "contract" else [],
        "services": rows,
        "lines": invoice_lines(rows, split_fee=totals["has_agent_fee"], currency=order.currency)
        if doc_type in ("invoice", "act") else [],
        "totals": totals,
    }
    ensure_plain(context)
    return context


def _basis_text(contract: dict, order) -> str:
    if contract.get("number"):
        return f"Договор № {contract['number']} от {contract['date']}"
    return f"Заказ № {order.number} от {_date(order.created_at)}"


def _places(services) -> str:
    """Where the trip goes: the distinct cities and destinations, in order."""
    seen: list[str] = []
    home = next((s.origin for s in services if s.type in TRANSPORT and s.origin), "")
    for service in services:
        for place in ((service.destination,) if service.type in TRANSPORT else (service.city,)):
            if place and place not in seen and place != home:
                seen.append(place)
    return ", ".join(seen)[:300]


# --- The sample context: upload checks, previews -------------------------------------------------

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


class _Many(list):
    """Stands in for a related manager in the sample order: `.all()` gives the items."""

    def all(self):
        return self


def _sample_passport(kind, series, number, issued, expiry, issued_by="МВД 77810"):
    return SimpleNamespace(kind=kind, series=series, number=number, issue_date=issued, expiry_date=expiry,
                           issued_by=issued_by, is_active=True, is_archived=False)


def _sample_person(last, first, middle, latin, birth, passports, contacts=()):
    person = SimpleNamespace(last_name=last, first_name=first, middle_name=middle, birth_date=birth,
                             passports=_Many(passports), contacts=_Many(contacts))
    person.full_name = f"{last} {first} {middle}".strip()
    person.full_name_latin = latin
    return person


SAMPLE_OPERATOR = SimpleNamespace(
    pk=1, kind="tour_operator", name="Анекс Тур", legal_name="ООО «Туроператор Пример»", inn="7701234567",
    address="129090, г. Москва, ул. Щепкина, д. 1", registry_number="РТО 012345", security_kind="bank_guarantee",
    security_amount=Decimal("50000000.00"), security_provider="АО «Банк Пример»", security_number="БГ-2026/001",
    security_valid_from=date(2026, 1, 1), security_valid_until=date(2026, 12, 31),
    get_security_kind_display=lambda: "Банковская гарантия",
)


def _sample_services(count: int) -> list:
    from datetime import UTC

    catalogue = [
        ("flight", (10, 6, 40), (10, 11, 5), {"origin": "SVO", "destination": "AYT"},
         {"carrier": "Аэрофлот", "flight_number": "SU 2136", "cabin_class": "economy"}, "68400.00", "RUB", "1"),
        ("transfer", (10, 12, 0), (10, 13, 30), {"origin": "AYT", "destination": "Кемер"},
         {"vehicle": "Минивэн, групповой"}, "3200.00", "RUB", "1"),
        ("hotel", (10, 14, 0), (20, 9, 0), {"city": "Кемер"},
         {"hotel_name": "Rixos Sungate", "room_type": "Deluxe", "meals": "UAI"}, "2000.00", "EUR", "92.25"),
        ("local", (14, 5, 0), (14, 19, 0), {"city": "Каппадокия"},
         {"title": "Экскурсия «Каппадокия за один день»"}, "12600.45", "RUB", "1"),
        ("flight", (20, 13, 10), (20, 17, 45), {"origin": "AYT", "destination": "SVO"},
         {"carrier": "Аэрофлот", "flight_number": "SU 2137", "cabin_class": "economy"}, "71300.00", "RUB", "1"),
        ("rail", (21, 4, 0), (21, 8, 0), {"origin": "Москва", "destination": "Санкт-Петербург"},
         {"train_number": "752А", "car": "3"}, "6400.00", "RUB", "1"),
    ]
    result = []
    for index in range(count):
        kind, start, end, place, details, price, currency, rate = catalogue[index % len(catalogue)]
        price, rate = Decimal(price), Decimal(rate)
        in_rub = quantize_money(price * rate)
        service = SimpleNamespace(
            pk=index + 1, type=kind, status="booked", timezone="Europe/Moscow",
            start_dt=datetime(2026, 7, start[0], start[1], start[2], tzinfo=UTC),
            end_dt=datetime(2026, 7, end[0], end[1], end[2], tzinfo=UTC),
            origin=place.get("origin", ""), destination=place.get("destination", ""), city=place.get("city", ""),
            address="", details=details, price=price, currency=currency, rate=rate,
            price_in_order_currency=in_rub, commission_in_order_currency=quantize_money(in_rub / 10),
            cost_in_order_currency=in_rub - quantize_money(in_rub / 10),
            supplier=SAMPLE_OPERATOR if kind in ("flight", "hotel", "transfer") else None,
            offer_option="", alternative_of_id=None,
        )
        service.title = f"{SERVICE_TYPE_LABELS[kind]} {details.get('hotel_name') or details.get('title') or ''}".strip()
        result.append(service)
    return result


def sample_order(*, services: int = 4):
    """A made-up order with every kind of data a real one has (passports, a EUR hotel, a fee)."""
    from datetime import UTC

    client = _sample_person(
        "Смирнов", "Алексей", "Викторович", "SMIRNOV ALEKSEI", date(1985, 3, 12),
        [_sample_passport("foreign", "75", "1234567", date(2021, 5, 17), date(2031, 5, 17)),
         _sample_passport("internal", "4510", "123456", date(2005, 4, 1), None)],
        [SimpleNamespace(kind="phone", value="+79161234567", is_primary=True, is_archived=False),
         SimpleNamespace(kind="email", value="smirnov@example.com", is_primary=True, is_archived=False)],
    )
    wife = _sample_person("Смирнова", "Елена", "Игоревна", "SMIRNOVA ELENA", date(1987, 11, 2),
                          [_sample_passport("foreign", "75", "7654321", date(2022, 2, 10), date(2032, 2, 10))])
    operator = SimpleNamespace(full_name="Кузнецова Ольга Андреевна", phone="+74951234567",
                               email="kuznetsova@example.com")
    extra = _sample_services(3)[2]  # a second hotel offered instead of the first one
    extra.pk, extra.offer_option, extra.alternative_of_id = 99, "alternative", 3
    extra.details = {"hotel_name": "Akra Kemer", "room_type": "Superior", "meals": "AI"}
    extra.price, extra.price_in_order_currency = Decimal("1700.00"), Decimal("156825.00")
    extra.commission_in_order_currency, extra.cost_in_order_currency = Decimal("15682.50"), Decimal("141142.50")
    optional = SimpleNamespace(**dict(vars(_sample_services(4)[3]), pk=98, offer_option="optional"))
    optional.details = {"title": "Экскурсия «Памуккале»"}
    return SimpleNamespace(
        number="2026-000042", created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), currency="RUB",
        trip_start=datetime(2026, 7, 10, 6, 40, tzinfo=UTC), trip_end=datetime(2026, 7, 21, 8, 0, tzinfo=UTC),
        deadline=datetime(2026, 12, 1, 15, 0, tzinfo=UTC), client=client, travellers=_Many([client, wife]),
        services=_Many([*_sample_services(services), extra, optional]), operator=operator,
    )


def sample_context(doc_type: str = "invoice", *, services: int = 4, vat_mode: str = "none") -> dict:
    """A complete context for a made-up order, built by build_context itself (so it has every key a
    real one has): upload checks and previews."""
    requisites = SimpleNamespace(**dict(SAMPLE_AGENCY, vat_mode=vat_mode,
                                        vat_rate=Decimal("22.00") if vat_mode == "vat" else None))
    return build_context(
        sample_order(services=services), doc_type, requisites=requisites, number=f"2026-000042-{doc_type[:1].upper()}1",
        doc_date=date(2026, 11, 26), basis={"number": "2026-000042-Д1", "date": "20.11.2026"},
        valid_until=date(2026, 11, 30),
    )
