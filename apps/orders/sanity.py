"""Plausibility warnings the manager must confirm before saving (typos, not rule violations).

A rate far from the Central Bank's rate of the day, or an order total that jumps more than tenfold,
is usually a slip of the keyboard (9 111 typed for 91,11). The admin shows these warnings and saves
only once the manager ticks «Подтверждаю»; the API and the services are not affected.
"""

from datetime import date
from decimal import Decimal

from apps.core.errors import BusinessError
from apps.core.numbers import format_money, format_rate
from apps.orders.rates import rate_provider

RATE_TOLERANCE = Decimal("0.10")
TOTAL_JUMP_FACTOR = Decimal(10)


def reference_rate(currency_from: str, currency_to: str, on_date: date) -> Decimal | None:
    """The stored rate of the day (the bank's, or a hand-entered one), or None when not loaded."""
    rate_for = rate_provider()  # finance registers it (it sits above orders)
    if rate_for is None:
        return None
    try:
        return rate_for(currency_from, currency_to, on_date)
    except BusinessError:
        return None


def rate_warning(*, currency_from: str, currency_to: str, rate: Decimal, on_date: date) -> str | None:
    if currency_from == currency_to or not rate:
        return None
    reference = reference_rate(currency_from, currency_to, on_date)
    if not reference:
        return None
    if abs(Decimal(rate) / reference - 1) <= RATE_TOLERANCE:
        return None
    return (
        f"Курс {currency_from}→{currency_to} {format_rate(rate)} отличается от курса ЦБ на "
        f"{on_date:%d.%m.%Y} ({format_rate(reference)}) больше чем на 10 %."
    )


def total_jump_warning(*, old_total: Decimal, new_total: Decimal, currency: str) -> str | None:
    if old_total <= 0 or new_total <= old_total * TOTAL_JUMP_FACTOR:
        return None
    return (
        f"Сумма заказа вырастет с {format_money(old_total, currency)} до {format_money(new_total, currency)} "
        f"— больше чем в 10 раз."
    )
