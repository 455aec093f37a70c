"""Writes of the finance app: requisites, rates (fetched and manual), payments and balances."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.clients.models import Client
from apps.core.errors import BusinessError
from apps.core.money import CURRENCY_CODES, ZERO, quantize_money
from apps.core.numbers import format_decimal, format_rate
from apps.finance import cbr
from apps.finance.models import (
    AgencyRequisites,
    CurrencyRate,
    PayerKind,
    Payment,
    PaymentMethod,
    PaymentType,
    RateSource,
    SupplierPayment,
    SupplierPaymentType,
)
from apps.finance.selectors import RATE_QUANT, rate_for
from apps.orders.models import Order, OrderStatus
from apps.orders.selectors import order_lock
from apps.orders.services import order_event_add, order_recalculate

REQUISITES_FIELDS = (
    "legal_name", "short_name", "inn", "kpp", "ogrn", "address", "bank_name", "bank_city", "bik", "account",
    "corr_account", "director_name", "accountant_name", "vat_mode", "vat_rate",
)


# --- Agency requisites -----------------------------------------------------------------------------


@transaction.atomic
def requisites_save(*, data: dict, actor: User | None = None) -> AgencyRequisites:
    """Create or update the one requisites row (full_clean: checksums and the account keys)."""
    requisites = AgencyRequisites.objects.select_for_update().first() or AgencyRequisites()
    for field in REQUISITES_FIELDS:
        if field in data:
            value = data[field]
            setattr(requisites, field, value.strip() if isinstance(value, str) else value)
    requisites.full_clean()
    requisites.save()
    return requisites


# --- Rates -----------------------------------------------------------------------------------------


@dataclass
class FetchResult:
    dates: list[date]
    created: int
    updated: int
    unchanged: int
    bank_dates: dict[date, date]


def rates_fetch(*, dates: list[date]) -> FetchResult:
    """Fetch the bank's rates for the dates, then store them all in one transaction.

    Nothing is stored when any date fails (network error, broken XML): cbr.RatesFeedError propagates.
    Idempotent: a second run for the same dates changes nothing.
    """
    answers = [cbr.fetch_daily(on_date) for on_date in dates]
    return _rates_store(answers)


@transaction.atomic
def _rates_store(answers: list[cbr.DailyRates]) -> FetchResult:
    result = FetchResult(dates=[a.asked_date for a in answers], created=0, updated=0, unchanged=0, bank_dates={})
    for answer in answers:
        result.bank_dates[answer.asked_date] = answer.bank_date
        existing = {
            row.currency: row
            for row in CurrencyRate.objects.select_for_update().filter(date=answer.asked_date, source=RateSource.CBR)
        }
        for bank_rate in answer.rates:
            if bank_rate.currency not in CURRENCY_CODES or bank_rate.currency == "RUB":
                continue
            row = existing.get(bank_rate.currency)
            if row is None:
                CurrencyRate.objects.create(
                    date=answer.asked_date, bank_date=answer.bank_date, currency=bank_rate.currency,
                    nominal=bank_rate.nominal, rate=bank_rate.rate, source=RateSource.CBR,
                )
                result.created += 1
            elif (row.rate, row.nominal, row.bank_date) != (bank_rate.rate, bank_rate.nominal, answer.bank_date):
                row.rate, row.nominal, row.bank_date = bank_rate.rate, bank_rate.nominal, answer.bank_date
                row.save(update_fields=["rate", "nominal", "bank_date"])
                result.updated += 1
            else:
                result.unchanged += 1
    return result


OUTLIER_FACTOR = Decimal(10)
# A hand-made rate further than this from the bank's is shown to the person to confirm (the admin form):
# a typo or a stale rate, not a wrong nominal (that is the 10× refusal above).
DEVIATION_SHARE = Decimal("0.10")


def _cbr_reference(currency: str, on_date: date) -> CurrencyRate | None:
    """The Central Bank's nearest rate on or before the day (else its earliest one)."""
    return (CurrencyRate.objects.filter(currency=currency, source=RateSource.CBR, date__lte=on_date)
            .order_by("-date").first()
            or CurrencyRate.objects.filter(currency=currency, source=RateSource.CBR).order_by("date").first())


def rate_outlier_message(*, currency: str, on_date: date, per_unit: Decimal,
                         reference: CurrencyRate | None = None) -> str:
    """A warning when a hand-made rate is off the Central Bank's nearest rate by more than 10×
    (a nominal forgotten: KZT, JPY, AMD… are quoted per 10 or 100 units); "" when it is plausible."""
    reference = reference or _cbr_reference(currency, on_date)
    if reference is None:
        return ""
    if reference.rate / OUTLIER_FACTOR <= per_unit <= reference.rate * OUTLIER_FACTOR:
        return ""
    bank = reference.rate * reference.nominal
    return (
        f"Курс {per_unit.normalize():f} ₽ за 1 {currency} отличается от курса ЦБ на {reference.date:%d.%m.%Y} "
        f"({reference.rate.normalize():f} ₽ за 1 {currency}; {bank.normalize():f} ₽ за {reference.nominal} {currency}) "
        "больше чем в 10 раз. Проверьте номинал (за сколько единиц указан курс) или подтвердите курс."
    )


def rate_check_message(*, currency: str, on_date: date, per_unit: Decimal) -> str:
    """What the rate form asks to confirm: the 10× outlier (above), or a rate more than 10 % away from
    the Central Bank's nearest one; "" when it is close (or the bank has no rate of the currency)."""
    reference = _cbr_reference(currency, on_date)
    if reference is None:
        return ""
    outlier = rate_outlier_message(currency=currency, on_date=on_date, per_unit=per_unit, reference=reference)
    if outlier:
        return outlier
    share = abs(per_unit - reference.rate) / reference.rate
    if share <= DEVIATION_SHARE:
        return ""
    percent = format_decimal(share * 100, places=1)
    return (
        f"Курс {format_rate(per_unit)} ₽ за 1 {currency} отличается от курса ЦБ на {reference.date:%d.%m.%Y} "
        f"({format_rate(reference.rate)} ₽ за 1 {currency}) на {percent} % — больше чем на 10 %. "
        "Проверьте курс или подтвердите его."
    )


@transaction.atomic
def rate_set_manual(*, currency: str, on_date: date, rate: Decimal, nominal: int = 1, actor: User | None = None,
                    confirmed: bool = False) -> CurrencyRate:
    """Enter (or correct) a hand-made rate: rubles per `nominal` units of the currency on a date.

    A rate off the Central Bank's by more than 10× is refused (code `rate_outlier`) unless `confirmed`."""
    currency = (currency or "").upper()
    if currency not in CURRENCY_CODES or currency == "RUB":
        raise BusinessError(f"Неизвестная валюта «{currency}».", code="unknown_currency",
                            fields={"currency": ["Неизвестная валюта."]})
    if rate is None or Decimal(rate) <= 0 or nominal <= 0:
        raise BusinessError("Курс и номинал должны быть больше нуля.", code="invalid_rate",
                            fields={"rate": ["Курс должен быть больше нуля."]})
    per_unit = (Decimal(rate) / nominal).quantize(Decimal("0.0000000001"))
    warning = rate_outlier_message(currency=currency, on_date=on_date, per_unit=per_unit)
    if warning and not confirmed:
        raise BusinessError(warning, code="rate_outlier", fields={"rate": [warning]})
    row, _ = CurrencyRate.objects.update_or_create(
        date=on_date, currency=currency, source=RateSource.MANUAL,
        defaults={"rate": per_unit, "nominal": nominal, "bank_date": None, "created_by": actor},
    )
    row.full_clean()
    return row


# --- Payments --------------------------------------------------------------------------------------

PAYMENT_EDITABLE_FIELDS = (
    "method", "date", "time", "payer_kind", "payer_client", "payer_name", "payer_inn", "payer_kpp", "payer_account",
    "payer_bank_name", "payer_bik", "payer_corr_account", "bank_doc_number", "bank_doc_date", "comment",
)
PAYMENT_FIXED_FIELDS = ("order", "type", "currency")
OVERPAID_CODE = "overpaid"


def _fail(field: str, message: str, code: str) -> BusinessError:
    return BusinessError(message, code=code, fields={field: [message]})


def _check_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, TypeError, ValueError):
        raise _fail("amount", "Сумма должна быть числом.", "invalid_amount") from None
    if not value.is_finite() or value <= 0:
        raise _fail("amount", "Сумма должна быть больше нуля (возврат вносится видом «Возврат», "
                              "а не отрицательной суммой).", "invalid_amount")
    if value != quantize_money(value):
        raise _fail("amount", "Сумма указывается с точностью до копеек.", "invalid_amount")
    return value


def _check_currency(currency) -> str:
    code = (currency or "").upper()
    if code not in CURRENCY_CODES:
        raise _fail("currency", f"Неизвестная валюта «{currency}».", "unknown_currency")
    return code


def _check_date(on_date: date) -> None:
    if on_date > timezone.localdate():
        raise _fail("date", "Дата платежа не может быть позже сегодняшней.", "date_in_future")


def _parse_rate(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _fail("rate", "Курс должен быть числом.", "invalid_rate") from None
    if not rate.is_finite() or rate <= 0:
        raise _fail("rate", "Курс должен быть больше нуля.", "invalid_rate")
    return rate.quantize(RATE_QUANT)


def _resolve_rate(*, currency: str, order_currency: str, on_date: date, manual_rate) -> tuple[Decimal, bool]:
    """(rate, is_manual): a rate given by hand wins; otherwise the stored bank rate of the date."""
    manual = _parse_rate(manual_rate)
    if currency == order_currency:
        if manual is not None and manual != 1:
            raise _fail("rate", "Платёж в валюте заказа: курс всегда 1.", "invalid_rate")
        return Decimal(1), False
    if manual is not None:
        return manual, True
    return rate_for(currency, order_currency, on_date), False


def _refuse_draft(order) -> None:
    """The one rule for drafts (docs/user/accountant.md): money moves only on a confirmed order.

    A draft is an offer that may still change, so it is in no debt report and no balance; a payment
    on it is refused until the order is confirmed (and a confirmed order with money on it cannot go
    back to draft: the orders app refuses that).
    """
    if order.status == OrderStatus.DRAFT:
        raise _fail("order", f"Заказ {order.number} — черновик: сначала подтвердите его, потом вносите платежи.",
                    "order_draft")


def _lock_order(order_id: int):
    try:
        return order_lock(order_id)
    except ObjectDoesNotExist:
        raise BusinessError("Заказ не найден.", code="not_found", status_code=404) from None


def order_balance_totals(order_id: int) -> tuple[Decimal, Decimal]:
    """(paid, refunded) of an order in its currency — one aggregate query."""
    totals = Payment.objects.filter(order_id=order_id).aggregate(
        paid=Sum("amount_in_order_currency", filter=Q(type=PaymentType.PAYMENT)),
        refunded=Sum("amount_in_order_currency", filter=Q(type=PaymentType.REFUND)),
    )
    return totals["paid"] or ZERO, totals["refunded"] or ZERO


def overpaid_warnings(order) -> list[dict]:
    """Warning provider for the orders app: money received beyond the order's total."""
    received = (order.paid_amount or ZERO) - (order.refunded_amount or ZERO)
    if received > (order.total_amount or ZERO) and received > 0:
        excess = quantize_money(received - (order.total_amount or ZERO))
        return [{
            "code": OVERPAID_CODE,
            "message": f"Переплата {excess} {order.currency}: получено больше суммы заказа — "
                       "оформите возврат или зачёт.",
            "service_ids": [],
        }]
    return []


def order_balance_refresh(*, order):
    """Recompute paid / refunded of a locked order from its payments; the orders app then recomputes
    balance_due and warnings (our "overpaid" provider included). Returns the fresh order.

    Refuses (and so rolls back the caller's transaction) when refunds exceed payments.
    """
    paid, refunded = order_balance_totals(order.pk)
    if refunded > paid:
        raise _fail(
            "amount",
            f"Возврат больше оплаченного: оплачено {paid} {order.currency}, возвратов было бы {refunded} "
            f"{order.currency}.",
            "refund_exceeds_paid",
        )
    order.paid_amount, order.refunded_amount = paid, refunded
    order.save(update_fields=["paid_amount", "refunded_amount"])
    return order_recalculate(order=order)


def _payment_moment(payment: Payment) -> datetime:
    tz = timezone.get_current_timezone()
    if payment.time is None and payment.date == timezone.localdate():
        return timezone.now()
    return datetime.combine(payment.date, payment.time or time(0, 0), tzinfo=tz)


def _payment_title(payment: Payment, verb: str) -> str:
    amount = f"{payment.amount:,.2f}".replace(",", " ").replace(".", ",")
    return f"{verb}: {amount} {payment.currency} ({payment.get_method_display().lower()})"


def _event(*, payment: Payment, order, kind: str, verb: str, actor) -> None:
    """A timeline event: a payment or refund at its own moment; a change or deletion at the time it happens."""
    order_event_add(
        order=order,
        kind=kind,
        title=_payment_title(payment, verb),
        data={
            "payment_id": payment.pk,
            "type": payment.type,
            "method": payment.method,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "rate": str(payment.rate),
            "amount_in_order_currency": str(payment.amount_in_order_currency),
            "date": payment.date.isoformat(),
            "balance_due": str(order.balance_due),
        },
        actor=actor,
        occurred_at=_payment_moment(payment) if kind in ("payment", "refund") else timezone.now(),
    )


class PaymentData(TypedDict, total=False):
    """What payment_create / payment_update take (keys as the API's serializer gives them)."""

    order: Order  # payment_update refuses a change
    type: str
    amount: Decimal
    currency: str
    rate: Decimal | None
    method: str
    date: date
    time: time | None
    payer_kind: str
    payer_client: Client | None
    payer_name: str
    payer_inn: str
    payer_kpp: str
    payer_account: str
    payer_bank_name: str
    payer_bik: str
    payer_corr_account: str
    bank_doc_number: str
    bank_doc_date: date | None
    comment: str


def _apply_payer(payment: Payment, data: Mapping[str, Any]) -> None:
    for field in PAYMENT_EDITABLE_FIELDS:
        if field in data:
            value = data[field]
            setattr(payment, field, value.strip() if isinstance(value, str) else value)
    if payment.payer_kind == PayerKind.OTHER:
        payment.payer_client = None
    elif payment.payer_client_id is None:
        payment.payer_client_id = payment.order.client_id


@transaction.atomic
def payment_create(*, order_id: int, data: PaymentData, actor: User | None = None) -> Payment:
    """Record a payment or a refund; fixes the rate, updates the order's balance under its lock."""
    order = _lock_order(order_id)
    payment_type = data.get("type") or PaymentType.PAYMENT
    if payment_type not in PaymentType.values:
        raise _fail("type", "Вид: оплата (payment) или возврат (refund).", "invalid_type")
    amount = _check_amount(data.get("amount"))
    currency = _check_currency(data.get("currency") or order.currency)
    on_date = data.get("date") or timezone.localdate()
    _check_date(on_date)
    if payment_type == PaymentType.PAYMENT and order.status == "cancelled":
        raise _fail("order", "Заказ отменён: принять оплату нельзя, можно только оформить возврат.",
                    "order_cancelled")
    _refuse_draft(order)
    rate, manual = _resolve_rate(currency=currency, order_currency=order.currency, on_date=on_date,
                                 manual_rate=data.get("rate"))
    payment = Payment(order=order, type=payment_type, amount=amount, currency=currency, rate=rate,
                      rate_is_manual=manual, amount_in_order_currency=quantize_money(amount * rate),
                      in_other_currency=currency != order.currency,
                      created_by=actor, method=data.get("method") or PaymentMethod.BANK_TRANSFER)
    _apply_payer(payment, {**data, "date": on_date})
    payment.full_clean()
    payment.save()
    order = order_balance_refresh(order=order)
    kind, verb = ("payment", "Оплата") if payment_type == PaymentType.PAYMENT else ("refund", "Возврат")
    _event(payment=payment, order=order, kind=kind, verb=verb, actor=actor)
    payment.order = order
    return payment


def _fixed_value(value) -> str:
    return str(getattr(value, "pk", value)).upper()


@transaction.atomic
def payment_update(*, payment_id: int, data: PaymentData, actor: User | None = None) -> Payment:
    """Edit a payment. The fixed rate never changes unless a new manual `rate` is given;
    a new amount is converted at the fixed rate. Order, type and currency cannot change."""
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    order = _lock_order(order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.order = order
    values: Mapping[str, Any] = data
    for field in PAYMENT_FIXED_FIELDS:
        if field in values and _fixed_value(values[field]) != _fixed_value(getattr(payment, field)):
            raise _fail(field, "Заказ, вид и валюту платежа изменить нельзя: удалите платёж и внесите заново.",
                        "immutable_field")
    if "amount" in data:
        payment.amount = _check_amount(data["amount"])
    new_rate = _parse_rate(data.get("rate"))
    if new_rate is not None and new_rate != payment.rate:
        payment.rate, payment.rate_is_manual = _resolve_rate(
            currency=payment.currency, order_currency=order.currency, on_date=payment.date, manual_rate=new_rate
        )
    if "date" in data:
        _check_date(data["date"])
    payment.amount_in_order_currency = quantize_money(payment.amount * payment.rate)
    _apply_payer(payment, data)
    payment.full_clean()
    payment.save()
    order = order_balance_refresh(order=order)
    _event(payment=payment, order=order, kind="payment_changed", verb="Платёж изменён", actor=actor)
    return payment


@transaction.atomic
def payment_delete(*, payment_id: int, actor: User | None = None) -> None:
    """Delete a payment (supervisors; django-auditlog keeps the deleted row's values)."""
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    order = _lock_order(order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.order = order
    payment.delete()
    payment.pk = payment_id
    try:
        order = order_balance_refresh(order=order)
    except BusinessError as error:
        if error.code != "refund_exceeds_paid":
            raise
        raise BusinessError(
            "Платёж удалить нельзя: возвраты по заказу превысили бы оставшиеся оплаты. Сначала удалите возврат.",
            code="refund_exceeds_paid",
        ) from None
    _event(payment=payment, order=order, kind="payment_deleted", verb="Платёж удалён", actor=actor)


# --- Supplier payments -----------------------------------------------------------------------------

SUPPLIER_PAYMENT_EDITABLE_FIELDS = (
    "method", "date", "counterparty_name", "counterparty_inn", "counterparty_kpp", "counterparty_account",
    "counterparty_bank_name", "counterparty_bik", "counterparty_corr_account", "bank_doc_number", "bank_doc_date",
    "comment",
)
SUPPLIER_PAYMENT_FIXED_FIELDS = ("order", "supplier", "service", "type", "currency")


def _pk(value):
    return getattr(value, "pk", value)


def _supplier_of_payment(order, data: dict):
    """(supplier, service) of a new supplier payment: the service's supplier when only a service is given."""
    from apps.orders.models import Service, Supplier, SupplierBalance

    service = None
    if data.get("service") not in (None, ""):
        service = Service.objects.filter(pk=_pk(data["service"]), order_id=order.pk).select_related("supplier").first()
        if service is None:
            raise _fail("service", "Такой услуги в этом заказе нет.", "service_not_in_order")
    supplier_id = _pk(data.get("supplier")) or (service.supplier_id if service else None)
    if supplier_id in (None, ""):
        raise _fail("supplier", "Укажите поставщика (или услугу заказа с поставщиком).", "supplier_required")
    if service is not None and service.supplier_id != int(supplier_id):
        raise _fail("service", "У этой услуги другой поставщик.", "service_supplier_mismatch")
    supplier = Supplier.objects.filter(pk=supplier_id).first()
    if supplier is None:
        raise _fail("supplier", "Поставщик не найден.", "not_found")
    if not SupplierBalance.objects.filter(order_id=order.pk, supplier_id=supplier.pk).exists():
        raise _fail("supplier", f"Поставщика «{supplier.name}» нет в услугах заказа {order.number}.",
                    "supplier_not_in_order")
    return supplier, service


def supplier_paid_totals(order_id: int, supplier_id: int) -> tuple[Decimal, Decimal]:
    """(net paid to this supplier on the order, net paid to all its suppliers) — one aggregate query."""
    sign = Case(When(type=SupplierPaymentType.REFUND, then=Value(-1)), default=Value(1))
    totals = SupplierPayment.objects.filter(order_id=order_id).aggregate(
        supplier=Sum(F("amount_in_order_currency") * sign, filter=Q(supplier_id=supplier_id)),
        order=Sum(F("amount_in_order_currency") * sign),
    )
    return quantize_money(totals["supplier"] or ZERO), quantize_money(totals["order"] or ZERO)


def supplier_balance_refresh(*, order, supplier_id: int):
    """Recompute what a locked order paid one supplier and all of them; refuses (rolling the caller
    back) when the supplier would have refunded more than it was paid on this order."""
    from apps.orders.models import SupplierBalance

    paid, order_paid = supplier_paid_totals(order.pk, supplier_id)
    if paid < 0:
        raise _fail("amount", f"Возврат от поставщика больше оплаченного ему по заказу {order.number}.",
                    "refund_exceeds_paid")
    SupplierBalance.objects.filter(order_id=order.pk, supplier_id=supplier_id).update(
        paid=paid, balance=F("cost") - paid
    )
    order.supplier_paid_amount = order_paid
    order.save(update_fields=["supplier_paid_amount"])
    return order_recalculate(order=order)


def _supplier_event(*, payment: SupplierPayment, order, verb: str, actor, moment: datetime | None = None) -> None:
    amount = f"{payment.amount:,.2f}".replace(",", " ").replace(".", ",")
    order_event_add(
        order=order,
        kind=f"supplier_{payment.type}" if moment is not None else "supplier_payment_changed",
        title=f"{verb}: {amount} {payment.currency}, {payment.supplier.name}",
        data={
            "supplier_payment_id": payment.pk,
            "supplier_id": payment.supplier_id,
            "type": payment.type,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "rate": str(payment.rate),
            "amount_in_order_currency": str(payment.amount_in_order_currency),
            "date": payment.date.isoformat(),
            "supplier_balance_due": str(order.supplier_balance_due),
        },
        actor=actor,
        occurred_at=moment or timezone.now(),
    )


def _apply_counterparty(payment: SupplierPayment, data: dict) -> None:
    for field in SUPPLIER_PAYMENT_EDITABLE_FIELDS:
        if field in data and data[field] is not None:
            value = data[field]
            setattr(payment, field, value.strip() if isinstance(value, str) else value)
    # The supplier's own requisites from the directory when the payment order does not say otherwise.
    if not payment.counterparty_name:
        payment.counterparty_name = payment.supplier.legal_name or payment.supplier.name
    if not payment.counterparty_inn:
        payment.counterparty_inn = payment.supplier.inn


@transaction.atomic
def supplier_payment_create(*, order_id: int, data: dict, actor: User | None = None) -> SupplierPayment:
    """Pay a supplier for an order (or take its refund): fixes the rate, updates what we owe it."""
    order = _lock_order(order_id)
    payment_type = data.get("type") or SupplierPaymentType.PAYMENT
    if payment_type not in SupplierPaymentType.values:
        raise _fail("type", "Вид: оплата поставщику (payment) или возврат от поставщика (refund).", "invalid_type")
    amount = _check_amount(data.get("amount"))
    currency = _check_currency(data.get("currency") or order.currency)
    on_date = data.get("date") or timezone.localdate()
    _check_date(on_date)
    _refuse_draft(order)
    if payment_type == SupplierPaymentType.PAYMENT and order.status == OrderStatus.CANCELLED:
        raise _fail("order", "Заказ отменён: платить поставщику нельзя, можно только принять его возврат.",
                    "order_cancelled")
    supplier, service = _supplier_of_payment(order, data)
    rate, manual = _resolve_rate(currency=currency, order_currency=order.currency, on_date=on_date,
                                 manual_rate=data.get("rate"))
    payment = SupplierPayment(
        order=order, supplier=supplier, service=service, type=payment_type, amount=amount, currency=currency,
        rate=rate, rate_is_manual=manual, amount_in_order_currency=quantize_money(amount * rate), created_by=actor,
        method=data.get("method") or PaymentMethod.BANK_TRANSFER,
    )
    _apply_counterparty(payment, {**data, "date": on_date})
    payment.full_clean()
    payment.save()
    order = supplier_balance_refresh(order=order, supplier_id=supplier.pk)
    verb = "Оплата поставщику" if payment_type == SupplierPaymentType.PAYMENT else "Возврат от поставщика"
    moment = datetime.combine(on_date, time(12, 0), tzinfo=timezone.get_current_timezone())
    _supplier_event(payment=payment, order=order, verb=verb, actor=actor,
                    moment=timezone.now() if on_date == timezone.localdate() else moment)
    payment.order = order
    return payment


def _locked_supplier_payment(payment_id: int):
    try:
        order_id = SupplierPayment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    except SupplierPayment.DoesNotExist:
        raise BusinessError("Платёж поставщику не найден.", code="not_found", status_code=404) from None
    order = _lock_order(order_id)
    payment = SupplierPayment.objects.select_for_update().select_related("supplier").get(pk=payment_id)
    payment.order = order
    return order, payment


@transaction.atomic
def supplier_payment_update(*, payment_id: int, data: dict, actor: User | None = None) -> SupplierPayment:
    """Edit a supplier payment: the fixed rate stays unless a new manual `rate` is given; order,
    supplier, service, type and currency cannot change (delete and enter again)."""
    order, payment = _locked_supplier_payment(payment_id)
    for field in SUPPLIER_PAYMENT_FIXED_FIELDS:
        if field in data and _fixed_value(data[field]) != _fixed_value(getattr(payment, field)):
            raise _fail(field, "Заказ, поставщика, услугу, вид и валюту изменить нельзя: удалите платёж и внесите "
                               "заново.", "immutable_field")
    if "amount" in data:
        payment.amount = _check_amount(data["amount"])
    new_rate = _parse_rate(data.get("rate"))
    if new_rate is not None and new_rate != payment.rate:
        payment.rate, payment.rate_is_manual = _resolve_rate(
            currency=payment.currency, order_currency=order.currency, on_date=payment.date, manual_rate=new_rate
        )
    if data.get("date") is not None:
        _check_date(data["date"])
    payment.amount_in_order_currency = quantize_money(payment.amount * payment.rate)
    _apply_counterparty(payment, data)
    payment.full_clean()
    payment.save()
    order = supplier_balance_refresh(order=order, supplier_id=payment.supplier_id)
    _supplier_event(payment=payment, order=order, verb="Платёж поставщику изменён", actor=actor)
    return payment


@transaction.atomic
def supplier_payment_delete(*, payment_id: int, actor: User | None = None) -> None:
    order, payment = _locked_supplier_payment(payment_id)
    payment.delete()
    payment.pk = payment_id
    try:
        order = supplier_balance_refresh(order=order, supplier_id=payment.supplier_id)
    except BusinessError as error:
        if error.code != "refund_exceeds_paid":
            raise
        raise BusinessError("Платёж удалить нельзя: возвраты от поставщика превысили бы оплаты ему. Сначала "
                            "удалите возврат.", code="refund_exceeds_paid") from None
    _supplier_event(payment=payment, order=order, verb="Платёж поставщику удалён", actor=actor)
