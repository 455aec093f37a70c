"""Normalised values and blind indexes of client contacts and documents.

WhatsApp ids are phone numbers, so a WhatsApp contact is indexed in the phone namespace: a
lookup by phone finds it and a WhatsApp sender is found by the client's phone.
"""

from django.core.exceptions import ValidationError

from apps.core.crypto import blind_index, blind_index_candidates
from apps.core.normalize import normalize_email, normalize_passport, normalize_phone, normalize_telegram

PHONE, EMAIL, TELEGRAM, WHATSAPP = "phone", "email", "telegram", "whatsapp"
_INDEX_NAMESPACE = {PHONE: PHONE, WHATSAPP: PHONE, EMAIL: EMAIL, TELEGRAM: TELEGRAM}
_NORMALISERS = {PHONE: normalize_phone, WHATSAPP: normalize_phone, EMAIL: normalize_email, TELEGRAM: normalize_telegram}


def normalize_contact(kind: str, value: str) -> str:
    try:
        normaliser = _NORMALISERS[kind]
    except KeyError:
        raise ValidationError(f"Неизвестный тип контакта: «{kind}».", code="invalid_kind") from None
    return normaliser(str(value) if value is not None else "")


def contact_index(kind: str, normalised: str) -> str:
    return blind_index(_INDEX_NAMESPACE[kind], normalised)


def contact_index_candidates(kind: str, normalised: str) -> list[str]:
    """For lookups: the old key's index too while BLIND_INDEX_KEY is being rotated."""
    return blind_index_candidates(_INDEX_NAMESPACE[kind], normalised)


def passport_normalised(series: str, number: str) -> str:
    return normalize_passport(f"{series or ''}{number or ''}")


def passport_index(normalised: str) -> str:
    return blind_index("passport", normalised)


def passport_index_candidates(normalised: str) -> list[str]:
    return blind_index_candidates("passport", normalised)
