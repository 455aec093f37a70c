"""Masking of personal data for logs and for roles that may not see it unmasked."""

from datetime import date

MASK = "*"


def mask_phone(value: str | None) -> str:
    """"+79161234567" → "+7 *** ***-45-67" (country code and the last four digits stay)."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) < 5:
        return MASK * 3
    country = "7" if digits.startswith("7") and len(digits) == 11 else digits[: max(len(digits) - 10, 1)]
    return f"+{country} *** ***-{digits[-4:-2]}-{digits[-2:]}"


def mask_email(value: str | None) -> str:
    """"ivanov@mail.ru" → "i***@mail.ru"."""
    if not value:
        return ""
    local, at, domain = value.partition("@")
    if not at:
        return (local[:1] + MASK * 3) if local else ""
    return f"{local[:1]}{MASK * 3}@{domain}"


def _mask_series(series: str) -> str:
    series = series.replace(" ", "")
    keep = 2 if len(series) > 2 else 0
    return series[:keep] + MASK * (len(series) - keep)


def _mask_number(number: str) -> str:
    number = number.replace(" ", "")
    keep = 3 if len(number) > 3 else 0
    return MASK * (len(number) - keep) + number[len(number) - keep :]


def mask_passport(series: str | None, number: str | None = None) -> str:
    """series "4510", number "123012" → "45** ***012".

    Called with one argument, the value is taken as "series number" (split on the first space)
    or, without a space, as a number alone.
    """
    if number is None:
        text = (series or "").strip()
        series, _, number = text.partition(" ") if " " in text else ("", "", text)
    series, number = series or "", number or ""
    parts = [part for part in (_mask_series(series), _mask_number(number)) if part]
    return " ".join(parts)


def mask_passport_series(series: str | None) -> str:
    return _mask_series(series or "")


def mask_passport_number(number: str | None) -> str:
    return _mask_number(number or "")


def mask_date(value: date | str | None) -> str:
    """A birth date → "**.**.1985" (only the year stays)."""
    if not value:
        return ""
    year = value.year if isinstance(value, date) else str(value)[:4]
    return f"**.**.{year}"


def mask_requisite(value: str | None, keep: int = 4) -> str:
    """An INN or a bank account → "••••••3893": only the last `keep` characters stay."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep:
        return MASK * len(value)
    return MASK * (len(value) - keep) + value[-keep:]


def mask_name(value: str | None) -> str:
    """A payer's name (a person or a company) → "О***": only the first letter stays."""
    if not value:
        return ""
    return f"{str(value).strip()[:1]}{MASK * 3}"
