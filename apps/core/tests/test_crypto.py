import base64

import pytest
from cryptography.fernet import Fernet

from apps.core.crypto import UndecryptableValueError, blind_index, decrypt_str, encrypt_str, rotate_token


def test_encrypt_decrypt_roundtrip():
    token = encrypt_str("+79161234567")
    assert token != "+79161234567"
    assert decrypt_str(token) == "+79161234567"


def test_undecryptable_value_raises(settings):
    token = encrypt_str("секрет")
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(UndecryptableValueError):
        decrypt_str(token)
    with pytest.raises(UndecryptableValueError):
        decrypt_str("not-a-token")


def test_key_rotation_first_key_encrypts_all_decrypt(settings):
    old_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old_key]
    old_token = encrypt_str("4510 123012")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]
    assert decrypt_str(old_token) == "4510 123012"
    rotated = rotate_token(old_token)
    settings.FIELD_ENCRYPTION_KEY = [new_key]
    assert decrypt_str(rotated) == "4510 123012"
    with pytest.raises(UndecryptableValueError):
        decrypt_str(old_token)


def test_blind_index_is_keyed_and_namespaced(settings):
    first = blind_index("phone", "+79161234567")
    assert len(first) == 64
    assert first == blind_index("phone", "+79161234567")
    assert first != blind_index("email", "+79161234567")
    settings.BLIND_INDEX_KEY = "aa" * 32
    assert blind_index("phone", "+79161234567") != first


@pytest.mark.parametrize(
    "text", ["", "a", "x" * 15, "y" * 16, "z" * 17, "ГУ МВД России по г. Москве " * 5, "+79161234567"]
)
def test_decrypt_reads_what_fernet_writes_and_the_reverse(settings, text):
    key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [key]
    assert decrypt_str(Fernet(key).encrypt(text.encode()).decode()) == text
    assert Fernet(key).decrypt(encrypt_str(text).encode()).decode() == text


def test_tampered_token_raises():
    token = bytearray(base64.urlsafe_b64decode(encrypt_str("+79161234567")))
    for position in (0, 5, 12, 30, len(token) - 40, len(token) - 1):
        broken = bytearray(token)
        broken[position] ^= 0x01
        with pytest.raises(UndecryptableValueError):
            decrypt_str(base64.urlsafe_b64encode(bytes(broken)).decode())
    with pytest.raises(UndecryptableValueError):
        decrypt_str(base64.urlsafe_b64encode(bytes(token[:-1])).decode())
