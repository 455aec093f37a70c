"""Writes of the finance app: requisites, rates (fetched and manual), payments and balances."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from apps.core.errors import BusinessError
from apps.core.money import CURRENCY_CODES
from apps.finance import cbr
from apps.finance.models import AgencyRequisites, CurrencyRate, RateSource

REQUISITES_FIELDS = (
    "legal_name", "short_name", "inn", "kpp", "ogrn", "address", "bank_name", "bank_city", "bik", "account",
    "corr_account", "director_name", "accountant_name", "vat_mode", "vat_rate",
)


# --- Agency requisites -----------------------------------------------------------------------------


@transaction.atomic
def requisites_save(*, data: dict, actor=None) -> AgencyRequisites:
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


@transaction.atomic
def rate_set_manual(*, currency: str, on_date: date, rate: Decimal, nominal: int = 1, actor=None) -> CurrencyRate:
    """Enter (or correct) a hand-made rate: rubles per `nominal` units of the currency on a date."""
    currency = (currency or "").upper()
    if currency not in CURRENCY_CODES or currency == "RUB":
        raise BusinessError(f"Неизвестная валюта «{currency}».", code="unknown_currency",
                            fields={"currency": ["Неизвестная валюта."]})
    if rate is None or Decimal(rate) <= 0 or nominal <= 0:
        raise BusinessError("Курс и номинал должны быть больше нуля.", code="invalid_rate",
                            fields={"rate": ["Курс должен быть больше нуля."]})
    per_unit = (Decimal(rate) / nominal).quantize(Decimal("0.0000000001"))
    row, _ = CurrencyRate.objects.update_or_create(
        date=on_date, currency=currency, source=RateSource.MANUAL,
        defaults={"rate": per_unit, "nominal": nominal, "bank_date": None, "created_by": actor},
    )
    row.full_clean()
    return row
