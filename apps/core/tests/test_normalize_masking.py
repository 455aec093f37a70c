import datetime

import pytest
from django.core.exceptions import ValidationError

from apps.core.masking import mask_date, mask_email, mask_passport, mask_phone
from apps.core.normalize import normalize_email, normalize_passport, normalize_phone


@pytest.mark.parametrize(
    "raw", ["8 (916) 123-45-67", "+7 916 1234567", "79161234567", "9161234567", " +7(916)123 45 67 "]
)
def test_russian_phone_spellings_are_one_number(raw):
    assert normalize_phone(raw) == "+79161234567"


def test_foreign_phone_keeps_its_country():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "123", "abc", "+7 000 000", "8 (916) 123-45-6"])
def test_invalid_phone_refused_in_russian(raw):
    with pytest.raises(ValidationError) as error:
        normalize_phone(raw)
    assert "телефон" in error.value.messages[0]


def test_email_is_stripped_and_lowercased():
    assert normalize_email("  Ivan.Petrov@Mail.RU ") == "ivan.petrov@mail.ru"


@pytest.mark.parametrize("raw", ["", "ivan", "ivan@", "@mail.ru", "ivan petrov@mail.ru"])
def test_invalid_email_refused(raw):
    with pytest.raises(ValidationError) as error:
        normalize_email(raw)
    assert "почты" in error.value.messages[0]


def test_passport_letters_and_digits_uppercased():
    assert normalize_passport("45 10 № 123-012") == "4510123012"
    assert normalize_passport("iv-мю 123456") == "IVМЮ123456"
    with pytest.raises(ValidationError):
        normalize_passport(" - ")


def test_masks():
    assert mask_phone("+79161234567") == "+7 *** ***-45-67"
    assert mask_email("ivan@mail.ru") == "i***@mail.ru"
    assert mask_passport("4510", "123012") == "45** ***012"
    assert mask_passport("4510 123012") == "45** ***012"
    assert mask_date(datetime.date(1985, 3, 1)) == "**.**.1985"
    assert mask_phone("") == mask_email(None) == mask_date(None) == ""
