"""Encrypted model fields of the integrations app (Fernet / MultiFernet from FIELD_ENCRYPTION_KEY).

Unlike django-encrypted-model-fields' own fields, an undecryptable value raises instead of being
passed through as if it were plaintext (house rule 7). The plaintext lives only on the Python
object; the database column holds the Fernet token.
"""

import json

from cryptography.fernet import InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from encrypted_model_fields.fields import decrypt_str, encrypt_str


class UndecryptableValue(ImproperlyConfigured):
    """The stored value cannot be decrypted with any configured key."""


class SecretField(models.TextField):
    """A string stored encrypted; empty string means "not set" and is stored as ""."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return decrypt_str(value)
        except InvalidToken:
            raise UndecryptableValue(
                f"{self.model.__name__}.{self.name}: cannot decrypt (wrong FIELD_ENCRYPTION_KEY?)"
            ) from None

    def get_db_prep_save(self, value, connection):
        value = super().get_db_prep_save(value, connection)
        if value in (None, ""):
            return value
        return encrypt_str(str(value)).decode("ascii")


class EncryptedJSONField(models.TextField):
    """A JSON document stored encrypted (raw inbound messages carry personal data)."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return None
        try:
            return json.loads(decrypt_str(value))
        except InvalidToken:
            raise UndecryptableValue(
                f"{self.model.__name__}.{self.name}: cannot decrypt (wrong FIELD_ENCRYPTION_KEY?)"
            ) from None

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt_str(json.dumps(value, ensure_ascii=False, default=str)).decode("ascii")

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, default=str)
