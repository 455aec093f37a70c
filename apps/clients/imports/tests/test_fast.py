"""The fast paths give exactly what apps.core gives (or defer to it)."""

import random
from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError

from apps.clients.imports.fast import BlindIndexer, FastEncryptor, fast_email, fast_phone
from apps.clients.models import ClientContact
from apps.core.crypto import blind_index, decrypt_str
from apps.core.normalize import normalize_email, normalize_phone


def test_tokens_are_standard_fernet_with_the_first_key():
    encryptor = FastEncryptor()
    for text in ["", "+79161234567", "Иванов Иван", "x" * 15, "y" * 16, "z" * 33, "ОВД района Хамовники г. Москвы"]:
        token = encryptor.encrypt(text)
        assert decrypt_str(token) == text
        assert Fernet(settings.FIELD_ENCRYPTION_KEY[0]).decrypt(token.encode()).decode() == text
    assert encryptor.encrypt("same") != encryptor.encrypt("same")  # a fresh IV every time


@pytest.mark.django_db
def test_copied_rows_read_back_decrypted_with_defaults():
    from apps.clients.models import Client

    client = Client.objects.create(last_name="Тест", first_name="Тест")
    encryptor = FastEncryptor()
    rows = [{"client_id": client.pk, "kind": "phone", "value": "+79161234567", "blind_index": "a" * 64}]
    encryptor.copy_insert(ClientContact, rows)
    contact = ClientContact.objects.get()
    assert contact.value == "+79161234567" and contact.created_at is not None
    assert contact.is_primary is False and contact.is_archived is False  # model defaults
    ids = encryptor.copy_insert(Client, [{"last_name": "А", "first_name": "Б", "birth_date": date(1990, 1, 2)}],
                                return_ids=True)
    created = Client.objects.get(pk=ids[0])
    assert created.birth_date == date(1990, 1, 2) and created.citizenship == "RU"


def test_blind_index_is_the_cores():
    indexer = BlindIndexer()
    for kind, value in [("phone", "+79161234567"), ("email", "a@b.ru"), ("passport", "4510123456")]:
        assert indexer(kind, value) == blind_index(kind, value)


def _core_or_error(function, value):
    try:
        return function(value)
    except ValidationError:
        return "invalid"


def test_phone_fast_path_agrees_with_the_core():
    rnd = random.Random(7)
    samples = ["8 (916) 123-45-67", "+7 916 1234567", "79161234567", "89161234567", "+8 916 123 45 67",
               "+7 (930) 000-00-00", "+7 939 123 45 67", "8-800-555-35-35", "+7 495 123-45-67", "9161234567",
               "+79161234567 доб. 5", "+44 20 7946 0958", "12345", "+7 (999) 999.99.99", " 8 916 1234567 "]
    for _ in range(3000):
        digits = "".join(rnd.choice("0123456789") for _ in range(10))
        prefix = rnd.choice(["+7", "8", "7", "+7 ", "8 (", "+8"])
        close = ")" if prefix.endswith("(") else ""
        samples.append(f"{prefix}{digits[:3]}{close} {digits[3:6]}-{digits[6:8]}-{digits[8:]}")
    for sample in samples:
        assert _core_or_error(fast_phone, sample) == _core_or_error(normalize_phone, sample), sample


def test_email_fast_path_agrees_with_the_core():
    samples = ["Ivanov@Example.com", " anna.petrova@mail.ru ", "a+b@x.io", "bad@", "@bad.ru", "a..b@x.ru",
               "имя@почта.рф", "a@b", "a@-b.ru", "a@b-.ru", "x@y.z", "user_name-1@sub.domain.travel",
               "very.long." + "a" * 250 + "@x.ru", "a@" + "b" * 64 + ".ru"]
    for sample in samples:
        assert _core_or_error(fast_email, sample) == _core_or_error(normalize_email, sample), sample


@pytest.mark.django_db
def test_copy_keeps_awkward_text_intact():
    from apps.clients.models import Client

    encryptor = FastEncryptor()
    notes = "таб\tперевод\nстроки\r\\N обратный \\ слэш"
    ids = encryptor.copy_insert(Client, [{"last_name": "О'Нил", "first_name": "Б\\", "notes": notes}], return_ids=True)
    client = Client.objects.get(pk=ids[0])
    assert (client.last_name, client.first_name, client.notes) == ("О'Нил", "Б\\", notes)
    assert client.birth_date is None and client.operator_id is None


def test_many_tokens_at_once_decrypt():
    texts = ["", "a", "b" * 16, "c" * 40, "ОВД района Хамовники г. Москвы", "+79161234567"] * 50
    tokens = FastEncryptor().encrypt_many(texts)
    assert [decrypt_str(token) for token in tokens] == texts
