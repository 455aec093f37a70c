"""Checks of Russian requisites: INN, KPP, OGRN(IP), BIC and bank accounts (control keys).

Each validator raises django.core.exceptions.ValidationError with a Russian message; the pure
`*_is_valid` helpers return bool and are used by the validators and by the demo data.
"""

import re

from django.core.exceptions import ValidationError

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3) * 8
_KPP_RE = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")


def _digits(value: str) -> list[int]:
    return [int(char) for char in value]


def _weighted_check(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    if not value.isdigit() or len(value) not in (10, 12):
        return False
    digits = _digits(value)
    if len(value) == 10:
        return _weighted_check(digits, _INN10_WEIGHTS) == digits[9]
    return (
        _weighted_check(digits, _INN11_WEIGHTS) == digits[10]
        and _weighted_check(digits, _INN12_WEIGHTS) == digits[11]
    )


def ogrn_is_valid(value: str) -> bool:
    if not value.isdigit():
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    if len(value) == 15:
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


def _account_key_ok(key: str) -> bool:
    return sum((d * w) % 10 for d, w in zip(_digits(key), _ACCOUNT_WEIGHTS[:23], strict=True)) % 10 == 0


def account_matches_bik(account: str, bik: str) -> bool:
    """Settlement account: the last three digits of the BIC followed by the account."""
    if not (account.isdigit() and len(account) == 20 and bik.isdigit() and len(bik) == 9):
        return False
    return _account_key_ok(bik[-3:] + account)


def corr_account_matches_bik(corr_account: str, bik: str) -> bool:
    """Correspondent account: "0", BIC digits 5–6, then the account."""
    if not (corr_account.isdigit() and len(corr_account) == 20 and bik.isdigit() and len(bik) == 9):
        return False
    return _account_key_ok("0" + bik[4:6] + corr_account)


def control_digit_for_account(account: str, bik: str, *, corr: bool = False) -> str:
    """The account with its control digit (position 9) set so that the key is right."""
    for digit in "0123456789":
        candidate = account[:8] + digit + account[9:]
        if (corr_account_matches_bik if corr else account_matches_bik)(candidate, bik):
            return candidate
    raise ValueError("no control digit fits")  # unreachable for 20-digit input


# --- Django validators -----------------------------------------------------------------------------


def validate_inn(value: str) -> None:
    if not value.isdigit() or len(value) not in (10, 12):
        raise ValidationError("ИНН состоит из 10 (организация) или 12 (ИП, физлицо) цифр.", code="inn_format")
    if not inn_is_valid(value):
        raise ValidationError("Неверный ИНН: не сходится контрольное число.", code="inn_checksum")


def validate_kpp(value: str) -> None:
    if not _KPP_RE.match(value):
        raise ValidationError("КПП состоит из 9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры.",
                              code="kpp_format")


def validate_ogrn(value: str) -> None:
    if not value.isdigit() or len(value) not in (13, 15):
        raise ValidationError("ОГРН состоит из 13 цифр (ОГРНИП — из 15).", code="ogrn_format")
    if not ogrn_is_valid(value):
        raise ValidationError("Неверный ОГРН: не сходится контрольная цифра.", code="ogrn_checksum")


def validate_bik(value: str) -> None:
    if not value.isdigit() or len(value) != 9:
        raise ValidationError("БИК состоит из 9 цифр.", code="bik_format")


def validate_account_digits(value: str) -> None:
    if not value.isdigit() or len(value) != 20:
        raise ValidationError("Номер счёта состоит из 20 цифр.", code="account_format")


def validate_bank_doc_number(value: str) -> None:
    if not value.isdigit() or len(value) > 6 or int(value) == 0:
        raise ValidationError("Номер платёжного поручения — от 1 до 6 цифр, не ноль.", code="bank_doc_number")
