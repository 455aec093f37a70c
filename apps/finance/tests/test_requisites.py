import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import BusinessError
from apps.finance import validators as v
from apps.finance.selectors import agency_requisites
from apps.finance.services import requisites_save

VALID = {
    "legal_name": "Общество с ограниченной ответственностью «Тест Тур»",
    "short_name": "ООО «Тест Тур»",
    "inn": "7701234560",
    "kpp": "770101001",
    "ogrn": "1167746123456",
    "address": "г. Москва, ул. Тверская, д. 1",
    "bank_name": "ПАО Сбербанк",
    "bank_city": "г. Москва",
    "bik": "044525225",
    "account": "40702810200000012345",
    "corr_account": "30101810400000000225",
    "director_name": "Иванов Иван Иванович",
    "accountant_name": "Петрова Анна Сергеевна",
    "vat_mode": "usn",
}


def test_checksums():
    assert v.inn_is_valid("7707083893") and v.inn_is_valid("770708389324")
    assert not v.inn_is_valid("7707083894") and not v.inn_is_valid("770708389325") and not v.inn_is_valid("12345")
    assert v.ogrn_is_valid("1027700132195") and v.ogrn_is_valid("304770100000016")
    assert not v.ogrn_is_valid("1027700132196") and not v.ogrn_is_valid("304770100000017")
    assert v.account_matches_bik("40702810200000012345", "044525225")
    assert not v.account_matches_bik("40702810300000012345", "044525225")
    assert v.corr_account_matches_bik("30101810400000000225", "044525225")
    assert not v.corr_account_matches_bik("30101810400000000225", "044535225")


@pytest.mark.django_db
def test_requisites_single_row_saved_and_read():
    requisites_save(data=VALID)
    requisites_save(data={**VALID, "short_name": "Тест Тур"})
    assert agency_requisites().short_name == "Тест Тур"
    from apps.finance.models import AgencyRequisites

    assert AgencyRequisites.objects.count() == 1


@pytest.mark.django_db
def test_requisites_missing_is_a_clear_error():
    with pytest.raises(BusinessError) as error:
        agency_requisites()
    assert error.value.code == "requisites_missing"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("inn", "7701234561", "контрольное число"),
        ("inn", "77012345", "10"),
        ("kpp", "77010100", "9 знаков"),
        ("kpp", "", "КПП обязателен"),
        ("ogrn", "1167746123457", "контрольная цифра"),
        ("ogrn", "304770100000016", "ОГРНИП"),
        ("bik", "04452522", "9 цифр"),
        ("account", "40702810300000012345", "не соответствует БИК"),
        ("account", "4070281020000001234x", "20 цифр"),
        ("corr_account", "30101810500000000225", "не соответствует БИК"),
        ("vat_rate", "20", "только в режиме"),
    ],
)
def test_requisites_bad_values_have_russian_messages(field, value, fragment):
    with pytest.raises(ValidationError) as error:
        requisites_save(data={**VALID, field: value})
    assert fragment in " ".join(error.value.message_dict[field])


@pytest.mark.django_db
def test_vat_mode_needs_a_rate():
    with pytest.raises(ValidationError):
        requisites_save(data={**VALID, "vat_mode": "vat"})
    assert requisites_save(data={**VALID, "vat_mode": "vat", "vat_rate": "20"}).vat_rate == 20
