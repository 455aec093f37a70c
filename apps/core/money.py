"""Money: Decimal only, ISO 4217 codes, one rounding rule (ROUND_HALF_UP to kopecks) in one place."""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.00000001")

# Currencies the agency works with; extend as needed (ISO 4217 alphabetic codes).
CURRENCIES = [
    ("RUB", "Российский рубль"),
    ("USD", "Доллар США"),
    ("EUR", "Евро"),
    ("CNY", "Китайский юань"),
    ("TRY", "Турецкая лира"),
    ("AED", "Дирхам ОАЭ"),
    ("THB", "Тайский бат"),
    ("KZT", "Казахстанский тенге"),
    ("BYN", "Белорусский рубль"),
    ("GBP", "Фунт стерлингов"),
    ("CHF", "Швейцарский франк"),
    ("JPY", "Японская иена"),
    ("GEL", "Грузинский лари"),
    ("AMD", "Армянский драм"),
    ("UZS", "Узбекский сум"),
    ("EGP", "Египетский фунт"),
    ("INR", "Индийская рупия"),
    ("VND", "Вьетнамский донг"),
    ("IDR", "Индонезийская рупия"),
]
CURRENCY_CODES = {code for code, _ in CURRENCIES}
DEFAULT_CURRENCY = "RUB"


def quantize_money(value: Decimal | int | str) -> Decimal:
    """Round to kopecks, half up — the only place money is rounded."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def quantize_rate(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    """amount in currency A × rate (units of B per 1 A) → amount in B, rounded once."""
    return quantize_money(Decimal(amount) * Decimal(rate))
