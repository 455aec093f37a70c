"""Reads of the finance app: the agency's requisites, rates, payments."""

from datetime import date
from decimal import Decimal

from django.db.models import F
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.core.errors import BusinessError
from apps.finance import queries
from apps.finance.models import AgencyRequisites, CurrencyRate, Payment, PaymentMethod, RateSource, SupplierPayment

RUB = "RUB"
RATE_QUANT = Decimal("0.0000000001")


def agency_requisites() -> AgencyRequisites:
    """The one requisites row; a clear 400 when nobody has filled it in yet."""
    requisites = AgencyRequisites.objects.first()
    if requisites is None:
        raise BusinessError(
            "Реквизиты агентства не заполнены. Руководитель заполняет их в разделе «Финансы → Реквизиты агентства».",
            code="requisites_missing",
        )
    return requisites


def rub_rates_on(on_date: date, currencies: set[str]) -> dict[str, Decimal]:
    """Rubles per unit for each currency on a date; a hand-entered rate wins over the bank's."""
    wanted = {code for code in currencies if code != RUB}
    found: dict[str, Decimal] = {RUB: Decimal(1)}
    if not wanted:
        return found
    rows = (
        CurrencyRate.objects.filter(date=on_date, currency__in=wanted)
        .order_by("currency", "-source")  # "manual" sorts after "cbr": -source puts manual first
        .values_list("currency", "source", "rate")
    )
    for currency, _source, rate in rows:
        found.setdefault(currency, rate)
    return found


def rate_missing_error(currency: str, on_date: date) -> BusinessError:
    message = (
        f"Нет курса {currency} на {on_date:%d.%m.%Y}. Загрузите курсы ЦБ на эту дату "
        f"(manage.py fetch_rates --date {on_date:%Y-%m-%d}) или введите курс вручную."
    )
    return BusinessError(message, code="rate_missing", fields={"rate": [message]},
                         currency=currency, date=on_date.isoformat())


def rate_for(currency_from: str, currency_to: str, on_date: date) -> Decimal:
    """Units of `currency_to` per one unit of `currency_from` on a date (cross rate through RUB).

    Raises BusinessError(code="rate_missing") when a needed rate is not stored.
    """
    currency_from, currency_to = currency_from.upper(), currency_to.upper()
    if currency_from == currency_to:
        return Decimal(1)
    rub = rub_rates_on(on_date, {currency_from, currency_to})
    for currency in (currency_from, currency_to):
        if currency not in rub:
            raise rate_missing_error(currency, on_date)
    return (rub[currency_from] / rub[currency_to]).quantize(RATE_QUANT)


def rates_list():
    return CurrencyRate.objects.select_related("created_by").order_by("-date", "currency", "source")


def payments_list():
    """Payments with what the list shows joined once (order, payer client, who recorded it)."""
    return Payment.objects.select_related("order", "payer_client", "created_by").order_by("-date", "-id")


def supplier_payments_list():
    """Supplier payments with the order, supplier and who recorded them joined once."""
    return SupplierPayment.objects.select_related("order", "supplier", "created_by").order_by("-date", "-id")


# --- Exports ---------------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "id", "date", "time", "type", "method", "amount", "currency", "rate", "amount_in_order_currency",
    "payer_kind", "payer_name", "payer_inn", "payer_account", "payer_bank_name", "payer_bik",
    "payer_corr_account", "comment",
)


def _export_rows(date_from: date, date_to: date):
    return (
        Payment.objects.filter(date__gte=date_from, date__lte=date_to)
        .values(
            *EXPORT_FIELDS,
            order_number=F("order__number"),
            order_date=F("order__created_at"),
            order_currency=F("order__currency"),
            client_last=F("payer_client__last_name"),
            client_first=F("payer_client__first_name"),
            client_middle=F("payer_client__middle_name"),
        )
        .order_by("date", "id")
    )


ONE_C_FIELDS = ("id", "date", "type", "amount", "payer_name", "payer_inn", "payer_kpp", "payer_account",
                "payer_bank_name", "payer_bik", "payer_corr_account", "bank_doc_number", "bank_doc_date")


def one_c_rows(payments):
    """What the 1C file needs of ruble bank transfers, as dicts (order date as a local date) — one query."""
    return (
        payments.filter(method=PaymentMethod.BANK_TRANSFER, currency=RUB)
        .values(
            *ONE_C_FIELDS,
            order_number=F("order__number"),
            order_date=TruncDate("order__created_at", tzinfo=timezone.get_current_timezone()),
            client_last=F("payer_client__last_name"),
            client_first=F("payer_client__first_name"),
            client_middle=F("payer_client__middle_name"),
        )
        .order_by("date", "id")
    )


def bank_payments_for_1c(date_from: date, date_to: date):
    """Ruble bank transfers of the period (the ruble settlement account's statement)."""
    return one_c_rows(Payment.objects.filter(date__gte=date_from, date__lte=date_to))


SUPPLIER_ONE_C_FIELDS = (
    "id", "date", "type", "amount", "counterparty_name", "counterparty_inn", "counterparty_kpp",
    "counterparty_account", "counterparty_bank_name", "counterparty_bik", "counterparty_corr_account",
    "bank_doc_number", "bank_doc_date",
)


def supplier_one_c_rows(payments):
    """What the 1C file needs of ruble bank transfers to (and refunds from) suppliers — one query."""
    return (
        payments.filter(method=PaymentMethod.BANK_TRANSFER, currency=RUB)
        .values(
            *SUPPLIER_ONE_C_FIELDS,
            order_number=F("order__number"),
            order_date=TruncDate("order__created_at", tzinfo=timezone.get_current_timezone()),
            supplier_name=F("supplier__name"),
            supplier_legal_name=F("supplier__legal_name"),
        )
        .order_by("date", "id")
    )


def bank_supplier_payments_for_1c(date_from: date, date_to: date):
    return supplier_one_c_rows(SupplierPayment.objects.filter(date__gte=date_from, date__lte=date_to))


def bank_balance_before(day: date) -> Decimal:
    """The ruble account's balance from the movements recorded before `day` (НачальныйОстаток)."""
    return queries.bank_rub_net_before(day).quantize(Decimal("0.01"))


def other_payments_for_csv(date_from: date, date_to: date):
    """Everything the 1C file leaves out: cash, card, other, and bank transfers in foreign currency."""
    return _export_rows(date_from, date_to).exclude(method=PaymentMethod.BANK_TRANSFER, currency=RUB)


def payer_display_name(row: dict) -> str:
    if row.get("payer_name"):
        return row["payer_name"]
    return " ".join(part for part in (row.get("client_last"), row.get("client_first"), row.get("client_middle"))
                    if part)


__all__ = ["RateSource", "agency_requisites", "payments_list", "rate_for", "rates_list", "rub_rates_on"]
