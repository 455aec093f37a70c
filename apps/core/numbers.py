"""Numbers as Russians type and read them: «50 000,50» in, «1 234,56 ₽» out.

`parse_decimal` accepts a decimal comma (or point) and spaces / no-break spaces / thin spaces /
apostrophes as thousands separators, and refuses anything else with a Russian message — it never
drops a character silently (the browser's <input type=number> did: «91,11» became 9111).
`format_decimal` / `format_money` render with a decimal comma and no-break-space thousands.
"""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from apps.core.money import quantize_money

NBSP = "\u00a0"
# Characters people (and spreadsheets) put between thousands: space, NBSP, narrow NBSP, thin space, '.
_GROUP_CHARS = " \u00a0\u202f\u2009'"
_SHAPE = re.compile(r"^[+-]?(\d+)([.,](\d*))?$")

CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥", "TRY": "₺"}

PARSE_ERROR = "Не удалось прочитать число «%(value)s». Пишите так: 50 000,50 — запятая отделяет копейки."


def parse_decimal(value) -> Decimal | None:
    """Text typed by a person → Decimal; None for an empty field; ValidationError otherwise."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip()
    for sign in ("₽", "руб.", "руб", "%"):
        if text.endswith(sign):
            text = text[: -len(sign)].rstrip()
    if not text:
        return None
    compact = text
    for char in _GROUP_CHARS:
        compact = compact.replace(char, "")
    if "," in compact and "." in compact:
        # «1.234,56» or «1,234.56»: which one is the decimal separator is a guess — ask instead.
        raise ValidationError(PARSE_ERROR, code="invalid_number", params={"value": text})
    match = _SHAPE.match(compact)
    if not match or not _groups_ok(text):
        raise ValidationError(PARSE_ERROR, code="invalid_number", params={"value": text})
    try:
        return Decimal(compact.replace(",", "."))
    except InvalidOperation as error:  # pragma: no cover - the regex admits only digits
        raise ValidationError(PARSE_ERROR, code="invalid_number", params={"value": text}) from error


def _groups_ok(text: str) -> bool:
    """Thousands groups, when used, are of three digits («12 345», not «1 23 45»)."""
    integer = re.split(r"[.,]", text.lstrip("+-"), maxsplit=1)[0]
    groups = re.split(f"[{_GROUP_CHARS}]+", integer.strip())
    if len(groups) == 1:
        return True
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])


def format_decimal(value, places: int | None = 2, *, strip_zeros: bool = False) -> str:
    """Decimal → «1 234 567,89» (no-break spaces between thousands, a decimal comma)."""
    if value is None or value == "":
        return ""
    number = Decimal(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places)) if places else number.quantize(Decimal(1))
    text = f"{number:,f}"
    if strip_zeros and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", NBSP).replace(".", ",")


def format_money(amount, currency: str = "RUB") -> str:
    """Decimal and an ISO code → «1 234,56 ₽», «90,00 $», «500,00 AED»."""
    if amount is None or amount == "":
        return "—"
    sign = CURRENCY_SIGNS.get(currency or "RUB", currency)
    return f"{format_decimal(quantize_money(amount))}{NBSP}{sign}"


def format_rate(value) -> str:
    """A rate with as many places as it needs, at least two: «91,1234», «1,00»."""
    if value is None:
        return ""
    text = format_decimal(value, places=None, strip_zeros=True)
    whole, _, frac = text.partition(",")
    return f"{whole},{frac.ljust(2, '0')}"
