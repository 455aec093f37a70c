"""Numbers as Russians type them: a decimal comma, spaces between thousands; nothing dropped silently."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.forms import RuDecimalField
from apps.core.numbers import format_decimal, format_money, format_rate, parse_decimal


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("91,11", "91.11"),
        ("91.11", "91.11"),
        ("50 000,50", "50000.50"),
        ("50\u00a0000,50", "50000.50"),
        ("1\u202f234\u202f567,8", "1234567.8"),
        ("12 345", "12345"),
        (" 7 ", "7"),
        ("1 000 ₽", "1000"),
        ("12,5 %", "12.5"),
        ("-3,5", "-3.5"),
        ("0,", "0"),
    ],
)
def test_parses_what_people_type(typed, number):
    assert parse_decimal(typed) == Decimal(number)


@pytest.mark.parametrize("typed", ["91,11,2", "1.234,56", "1,234.56", "12 34", "9l", "1e5", "abc", ",5,", "--1", "NaN"])
def test_refuses_what_it_cannot_read_in_russian(typed):
    with pytest.raises(ValidationError) as error:
        parse_decimal(typed)
    assert "Не удалось прочитать число" in error.value.messages[0]


def test_empty_is_none():
    assert parse_decimal("  ") is None
    assert parse_decimal(None) is None


def test_formats_money_with_a_comma_and_nbsp_thousands():
    assert format_money(Decimal("1234.56")) == "1\u00a0234,56\u00a0₽"
    assert format_money(Decimal("11000000"), "USD") == "11\u00a0000\u00a0000,00\u00a0$"
    assert format_money(Decimal("0.005"), "AED") == "0,01\u00a0AED"  # rounded half up, once
    assert format_decimal(Decimal("-1234567.891"), 2) == "-1\u00a0234\u00a0567,89"
    assert format_rate(Decimal("91.12340000")) == "91,1234"
    assert format_rate(Decimal("1")) == "1,00"


def test_form_field_reads_a_comma_and_keeps_decimal_places_strict():
    field = RuDecimalField(max_digits=14, decimal_places=2)
    assert field.clean("50 000,50") == Decimal("50000.50")
    with pytest.raises(ValidationError):
        field.clean("91,111")  # three places where two are allowed: an error, not a silent round
    with pytest.raises(ValidationError):
        field.clean("9,11,1")
    html = field.widget.render("price", field.prepare_value(Decimal("50000.50")))
    assert 'type="text"' in html and 'inputmode="decimal"' in html and "50\u00a0000,50" in html
