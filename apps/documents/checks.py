"""Checks before a document is generated: what would make it wrong, and where to fix it.

Each finding has a level:
* ``error``   — the document is not generated (a contract without passports or without the tour
  operator's registry data, an act without a contract to refer to, unresolved offer options…);
* ``confirm`` — generated only with an explicit confirmation, which is recorded on the document
  and in the order's timeline (an act for a draft order or before the last service ends);
* ``warning`` — generated, the warning is shown and recorded (a payment deadline already past…).

What is an error for a contract is a warning for the other documents (issue 18: "generation warns,
and for a contract refuses"). The findings carry a link to the admin page where the data is fixed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.core.money import ZERO, quantize_money
from apps.documents.context import CANCELLED, is_international, passport_dict, tour_operators

ERROR, CONFIRM, WARNING = "error", "confirm", "warning"

REQUISITES_NEEDED = {
    "legal_name": "полное наименование", "inn": "ИНН", "ogrn": "ОГРН", "address": "адрес",
    "bank_name": "банк", "bik": "БИК", "account": "расчётный счёт", "corr_account": "корр. счёт",
    "director_name": "руководитель",
}
# VAT rates in force from 1 January 2026 (Tax Code art. 164 as amended by 425-FZ; 5 and 7 % for
# small businesses on the simplified system, art. 164 p. 8).
VAT_RATES_2026 = {Decimal(0), Decimal(5), Decimal(7), Decimal(10), Decimal(22)}
VAT_2026_FROM = date(2026, 1, 1)


@dataclass
class Finding:
    code: str
    level: str
    message: str
    fix_url: str = ""
    fix_label: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _url(name: str, *args, query: str = "") -> str:
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return ""


def _strict(doc_type: str) -> str:
    return ERROR if doc_type == "contract" else WARNING


def document_checks(order, doc_type: str, *, requisites, contract=None, today: date | None = None) -> list[Finding]:
    """Every finding for generating `doc_type` for the order (loaded with services, travellers and
    their passports). `contract`: the latest contract document of the order, if any."""
    today = today or timezone.localdate()
    services = [s for s in order.services.all() if s.status != CANCELLED]
    findings: list[Finding] = []
    findings += _requisites(requisites, doc_type, today)
    if doc_type != "offer":
        findings += _options_left(order, services)
        findings += _amounts(order, services, doc_type)
    if doc_type == "contract":
        findings += _travellers(order, services)
        findings += _tour_operators(services)
    elif doc_type in ("invoice", "act") and is_international(services):
        findings += [Finding(f.code, WARNING, f.message, f.fix_url, f.fix_label) for f in _travellers(order, services)]
    if doc_type == "invoice":
        findings += _invoice(order, today)
    if doc_type == "act":
        findings += _act(order, services, contract)
    if doc_type == "offer":
        findings += _offer(order, today)
    return findings


def _requisites(requisites, doc_type: str, today: date) -> list[Finding]:
    url = _url("admin:finance_agencyrequisites_changelist")
    missing = [label for name, label in REQUISITES_NEEDED.items() if not str(getattr(requisites, name, "") or "")]
    if len(str(getattr(requisites, "inn", "") or "")) == 10 and not getattr(requisites, "kpp", ""):
        missing.append("КПП")
    findings = []
    if missing:
        findings.append(Finding("requisites_incomplete", _strict(doc_type),
                                f"Реквизиты агентства не заполнены: {', '.join(missing)}.", url,
                                "Заполнить реквизиты"))
    rate = getattr(requisites, "vat_rate", None)
    if getattr(requisites, "vat_mode", "") == "vat" and rate is not None and today >= VAT_2026_FROM \
            and Decimal(rate) not in VAT_RATES_2026:
        findings.append(Finding(
            "vat_rate_outdated", WARNING,
            f"Ставка НДС {Decimal(rate).normalize():f} % не применяется с 01.01.2026: общая ставка 22 %, "
            "льготная 10 %, для УСН — 5 % или 7 %. Проверьте режим НДС в реквизитах.", url, "Изменить реквизиты"))
    return findings


def _options_left(order, services) -> list[Finding]:
    left = [s for s in services if getattr(s, "offer_option", "")]
    if not left:
        return []
    names = ", ".join(str(s.title) for s in left[:3])
    return [Finding("offer_options_left", ERROR,
                    f"В заказе остались варианты из КП ({names}): отмените невыбранные и снимите отметку "
                    "«опция / альтернатива» с выбранных — в документ идут только выбранные услуги.",
                    _url("admin:orders_order_change", order.pk), "Открыть заказ")]


def _amounts(order, services, doc_type: str) -> list[Finding]:
    total = quantize_money(sum((s.price_in_order_currency for s in services), ZERO))
    findings = []
    if total != quantize_money(order.total_amount):
        findings.append(Finding("amounts_disagree", _strict(doc_type),
                                f"Сумма услуг {total} не совпадает с суммой заказа {order.total_amount}: "
                                "пересохраните заказ, чтобы он пересчитался.",
                                _url("admin:orders_order_change", order.pk), "Открыть заказ"))
    losing = [s for s in services if s.price_in_order_currency < getattr(s, "cost_in_order_currency", ZERO)]
    if losing:
        findings.append(Finding("cost_above_price", WARNING,
                                f"Нетто поставщику больше цены у услуги «{losing[0].title}»: вознаграждение "
                                "агента отрицательное, в документ оно войдёт нулём.",
                                _url("admin:orders_order_change", order.pk), "Открыть заказ"))
    return findings


def _travellers(order, services) -> list[Finding]:
    """A passport for everyone who travels; abroad a foreign passport and the name in Latin letters."""
    international = is_international(services)
    people = list(order.travellers.all()) or [order.client]
    findings = []
    for person in people:
        url = _url("admin:clients_client_change", person.pk)
        passport = passport_dict(person, international=international)
        if not passport:
            need = "действующий заграничный паспорт" if international else "действующий паспорт"
            findings.append(Finding("passport_missing", ERROR, f"У туриста {person.full_name} нет данных: {need}.",
                                    url, f"Открыть карточку: {person.full_name}"))
        elif international and passport["expiry_iso"] and order.trip_end \
                and date.fromisoformat(passport["expiry_iso"]) < timezone.localdate(order.trip_end):
            findings.append(Finding("passport_expires", WARNING,
                                    f"Паспорт туриста {person.full_name} истекает {passport['expiry_date']}, "
                                    "раньше конца поездки.", url, f"Открыть карточку: {person.full_name}"))
        if international and not (getattr(person, "full_name_latin", "") or "").strip():
            findings.append(Finding("latin_name_missing", ERROR,
                                    f"У туриста {person.full_name} не указано имя латиницей (как в загранпаспорте).",
                                    url, f"Открыть карточку: {person.full_name}"))
    return findings


OPERATOR_FIELDS = {
    "address": "адрес", "registry_number": "реестровый номер", "security_kind": "вид финансового обеспечения",
    "security_amount": "размер обеспечения", "security_provider": "кто предоставил обеспечение",
    "security_valid_until": "срок действия обеспечения",
}


def _tour_operators(services) -> list[Finding]:
    """Decree 1852: a tour contract names the tour operator, its registry number and financial security."""
    findings = []
    kinds = {s.type for s in services}
    if not tour_operators(services) and {"flight", "hotel"} <= kinds:
        findings.append(Finding(
            "tour_operator_not_set", WARNING,
            "Перелёт и проживание без туроператора: если это туристский продукт туроператора, укажите его "
            "поставщиком услуг — договор должен назвать туроператора, его реестровый номер и финансовое обеспечение.",
            _url("admin:orders_supplier_changelist"), "Туроператоры"))
    for supplier in tour_operators(services):
        missing = [label for name, label in OPERATOR_FIELDS.items() if getattr(supplier, name, None) in (None, "")]
        if not (supplier.legal_name or "").strip():
            missing.insert(0, "полное наименование")
        if missing:
            findings.append(Finding(
                "tour_operator_incomplete", ERROR,
                f"Туроператор «{supplier.name}»: не заполнено — {', '.join(missing)}. Без этих сведений договор "
                "о реализации туристского продукта не формируется.",
                _url("admin:orders_supplier_change", supplier.pk), f"Заполнить данные туроператора «{supplier.name}»"))
    return findings


def _invoice(order, today: date) -> list[Finding]:
    findings = []
    if order.deadline and timezone.localdate(order.deadline) < today:
        findings.append(Finding("deadline_passed", WARNING,
                                f"Срок оплаты {timezone.localdate(order.deadline):%d.%m.%Y} уже прошёл — "
                                "в счёте будет просроченная дата. Перенесите срок в заказе.",
                                _url("admin:orders_order_change", order.pk), "Изменить срок в заказе"))
    if order.total_amount and order.balance_due <= 0:
        findings.append(Finding("already_paid", WARNING, "Заказ уже оплачен полностью.",
                                _url("admin:orders_order_change", order.pk), "Открыть заказ"))
    return findings


def _act(order, services, contract) -> list[Finding]:
    findings = []
    if contract is None:
        findings.append(Finding("contract_missing", ERROR,
                                "По заказу нет договора: акт ссылается на договор (номер и дату). "
                                "Сначала сформируйте договор.",
                                _url("admin:documents_document_generate", query=f"order={order.pk}&type=contract"),
                                "Сформировать договор"))
    if order.status == "draft":
        findings.append(Finding("order_is_draft", CONFIRM,
                                "Заказ — черновик: услуги не подтверждены. Акт об оказанных услугах обычно "
                                "не выставляют, пока заказ не подтверждён.",
                                _url("admin:orders_order_change", order.pk), "Открыть заказ"))
    last_end = max((s.end_dt for s in services), default=None)
    if last_end is not None and last_end > timezone.now():
        findings.append(Finding("services_not_finished", CONFIRM,
                                f"Последняя услуга заканчивается {timezone.localtime(last_end):%d.%m.%Y %H:%M}: "
                                "акт до окончания услуг подтверждает то, что ещё не оказано.",
                                _url("admin:orders_order_change", order.pk), "Открыть заказ"))
    return findings


def _offer(order, today: date) -> list[Finding]:
    valid_until = getattr(order, "offer_valid_until", None)
    url = _url("admin:orders_order_change", order.pk)
    if valid_until is None:
        return [Finding("offer_validity_missing", WARNING,
                        "Не указан срок действия КП — в предложении будет «цены действительны на дату составления».",
                        url, "Указать срок действия КП")]
    if valid_until < today:
        return [Finding("offer_validity_passed", WARNING,
                        f"Срок действия КП {valid_until:%d.%m.%Y} уже прошёл.", url, "Изменить срок действия КП")]
    return []


def blocking(findings: list[Finding], *, confirmed: bool) -> list[Finding]:
    """Findings that stop generation: errors always, confirmations unless confirmed."""
    return [f for f in findings if f.level == ERROR or (f.level == CONFIRM and not confirmed)]
