"""Encryption at rest and blind indexes for personal data.

- Fields: subclasses of django-encrypted-model-fields that use MultiFernet over
  settings.FIELD_ENCRYPTION_KEY (a list, newest key first: the first key encrypts, every key
  decrypts) and **raise** UndecryptableValueError when a stored value cannot be decrypted.
  The package itself swallows InvalidToken and hands the ciphertext to the caller as if it were
  data; that would show ciphertext to staff and, worse, re-encrypt it on the next save.
- blind_index(kind, normalised): HMAC-SHA256 with settings.BLIND_INDEX_KEY (its own key, never the
  encryption key) over "kind:value", so equal normalised values can be found and kept unique
  without storing them in plaintext.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from functools import lru_cache

import django.db.models
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from encrypted_model_fields.fields import EncryptedMixin


class UndecryptableValueError(Exception):
    """A stored encrypted value cannot be decrypted with any configured key."""


def _configured_keys() -> tuple[str, ...]:
    keys = settings.FIELD_ENCRYPTION_KEY
    if isinstance(keys, str):
        keys = [keys]
    return tuple(keys)


@lru_cache(maxsize=8)
def _crypter_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


_last: tuple[object, MultiFernet] | None = None  # (the setting's value object, its MultiFernet)


def get_crypter() -> MultiFernet:
    """MultiFernet of the keys configured now. Called once per encrypted value read (750 000 times
    for a month's 1C file): the setting is re-read every time, so a new key list (tests, rotation —
    the setting is always replaced, never changed in place) applies at once, but the key tuple is
    rebuilt and looked up only when the setting's object changes."""
    global _last
    keys = settings.FIELD_ENCRYPTION_KEY
    last = _last
    if last is not None and last[0] is keys:
        return last[1]
    crypter = _crypter_for(_configured_keys())
    _last = (keys, crypter)
    return crypter


def encrypt_str(value: str) -> str:
    return get_crypter().encrypt(value.encode("utf-8")).decode("ascii")


def encryptor() -> Callable[[str], str]:
    """encrypt_str with the key looked up once: for bulk writes (the CSV import). MultiFernet
    encrypts with its first key, so this is the Fernet of the first configured key."""
    fernet = Fernet(_configured_keys()[0])
    return lambda value: fernet.encrypt(value.encode("utf-8")).decode("ascii")


_UNDECRYPTABLE = (
    "Stored encrypted value cannot be decrypted with any key in FIELD_ENCRYPTION_KEY "
    "(wrong key, removed old key, or corrupted data)."
)


def decrypt_str(token: str) -> str:
    """Decrypt a stored Fernet token or raise UndecryptableValueError (never return the ciphertext).

    Decryption is left to `cryptography`'s MultiFernet (cached per key set): a hand-written
    Fernet was measured ~3x faster, but crypto code is not ours to maintain for ~6 ms a page.
    """
    return _decrypt(get_crypter(), token)


def decryptor() -> Callable[[str], str]:
    """decrypt_str with the key set looked up once: for loops over many values (a page of clients)."""
    crypter = get_crypter()
    return lambda token: _decrypt(crypter, token)


def _decrypt(crypter: MultiFernet, token: str) -> str:
    try:
        return crypter.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        raise UndecryptableValueError(_UNDECRYPTABLE) from None


def rotate_token(token: str) -> str:
    """Re-encrypt a stored token with the first (newest) key."""
    try:
        return get_crypter().rotate(token.encode("utf-8")).decode("ascii")
    except InvalidToken:
        raise UndecryptableValueError("Stored encrypted value cannot be decrypted for rotation.") from None


class StrictEncryptedMixin(EncryptedMixin):
    """Encrypts on save; decrypts on load and raises when that fails.

    Values held in Python (forms, services, serializers) are always plaintext, so to_python
    only converts types; decryption happens once, in from_db_value.
    """

    def to_python(self, value):
        return super(EncryptedMixin, self).to_python(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return super(EncryptedMixin, self).to_python(decrypt_str(value))

    def get_lookup(self, lookup_name):
        # Fernet is randomised: filter(field=value) would compare against ciphertext and silently
        # match nothing. Only isnull makes sense; look values up through a blind index instead.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_db_prep_save(self, value, connection):
        value = super(EncryptedMixin, self).get_db_prep_save(value, connection)
        if value is None:
            return None
        return encrypt_str(str(value))


class EncryptedCharField(StrictEncryptedMixin, django.db.models.CharField):
    pass


class EncryptedTextField(StrictEncryptedMixin, django.db.models.TextField):
    pass


class EncryptedDateField(StrictEncryptedMixin, django.db.models.DateField):
    pass


class EncryptedEmailField(StrictEncryptedMixin, django.db.models.EmailField):
    pass


class EncryptedJSONField(StrictEncryptedMixin, django.db.models.TextField):
    """A dict/list stored as Fernet-encrypted JSON text (raw messages carry personal data).

    Not queryable, by design. An empty column reads as None.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, "", b""):
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return json.loads(decrypt_str(value))

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        return value

    def get_db_prep_save(self, value, connection):
        if value is None:
            return None
        return encrypt_str(json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, cls=DjangoJSONEncoder)


class EncryptedSecretField(StrictEncryptedMixin, django.db.models.TextField):
    """A secret string (token, password); "" means "not set" and is stored as "" unencrypted."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return super().from_db_value(value, expression, connection)

    def get_db_prep_save(self, value, connection):
        if value in (None, ""):
            return value
        return super().get_db_prep_save(value, connection)


def encrypted_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if isinstance(field, StrictEncryptedMixin)]


def _key_bytes(raw: str) -> bytes:
    try:
        return bytes.fromhex(raw)
    except ValueError:
        return raw.encode("utf-8")


def _blind_index_key() -> bytes:
    return _key_bytes(settings.BLIND_INDEX_KEY)


def blind_index(kind: str, normalised: str) -> str:
    """HMAC-SHA256 (hex, 64 chars) of a normalised value, namespaced by kind ("phone", "email", ...)."""
    message = f"{kind}:{normalised}".encode()
    return hmac.new(_blind_index_key(), message, hashlib.sha256).hexdigest()


def blind_index_candidates(kind: str, normalised: str) -> list[str]:
    """Indexes a lookup must accept: the current key's, and while a rotation runs (BLIND_INDEX_KEY_OLD
    set; `manage.py rotate_blind_index`) the old key's too. Writes always use blind_index()."""
    found = [blind_index(kind, normalised)]
    old = getattr(settings, "BLIND_INDEX_KEY_OLD", "")
    if old:
        message = f"{kind}:{normalised}".encode()
        found.append(hmac.new(_key_bytes(old), message, hashlib.sha256).hexdigest())
    return found


def blind_index_key_fingerprint() -> str:
    """Names the current key without revealing it (rotation progress is kept per target key)."""
    return hashlib.sha256(b"travelcrm-blind-index-key:" + _blind_index_key()).hexdigest()[:16]
