"""Normalisation of contact data before comparing, indexing or storing it.

- phones → E.164 with phonenumbers, default region RU ("8 (916) 123-45-67", "+7 916 1234567" and
  "79161234567" are one number);
- e-mails → stripped and lower-cased, checked;
- passports → upper-case letters and digits only (series and number together).
Invalid values raise django.core.exceptions.ValidationError with a Russian message.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

DEFAULT_REGION = "RU"
_PASSPORT_STRIP = re.compile(r"[^0-9A-ZА-ЯЁ]+")
_RU_ELEVEN_DIGITS = re.compile(r"^[78]\d{10}$")


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    raw = (value or "").strip()
    if not raw:
        raise ValidationError("Укажите номер телефона.", code="invalid_phone")
    digits = re.sub(r"\D", "", raw)
    candidate = raw
    if not raw.startswith("+") and _RU_ELEVEN_DIGITS.match(digits) and region == "RU":
        # "79161234567" and "89161234567" are Russian numbers written without "+".
        candidate = "+7" + digits[1:]
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"Некорректный номер телефона: «{_short(raw)}».", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"Некорректный номер телефона: «{_short(raw)}».", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not email:
        raise ValidationError("Укажите адрес электронной почты.", code="invalid_email")
    try:
        validate_email(email)
    except ValidationError:
        message = f"Некорректный адрес электронной почты: «{_short(email)}»."
        raise ValidationError(message, code="invalid_email") from None
    return email


def normalize_passport(value: str) -> str:
    normalised = _PASSPORT_STRIP.sub("", (value or "").upper()).replace("Ё", "Е")
    if not normalised:
        raise ValidationError("Укажите серию и номер документа.", code="invalid_passport")
    return normalised


def normalize_telegram(value: str) -> str:
    """Telegram user id or @username: stripped, without "@", lower-cased."""
    normalised = (value or "").strip().lstrip("@").lower()
    if not normalised or len(normalised) > 64 or not re.fullmatch(r"[a-z0-9_]+", normalised):
        raise ValidationError("Некорректный идентификатор Telegram.", code="invalid_telegram")
    return normalised


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."
