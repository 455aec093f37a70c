"""Encrypted fields of the integrations app (migrations name them here; they live in core).

They are apps.core.crypto's strict fields: an undecryptable value raises instead of passing through,
and `manage.py rotate_encryption_keys` re-encrypts them with the newest key like every other.
"""

from apps.core import crypto
from apps.core.crypto import UndecryptableValueError as UndecryptableValue

__all__ = ["EncryptedJSONField", "SecretField", "UndecryptableValue"]


class SecretField(crypto.EncryptedSecretField):
    pass


class EncryptedJSONField(crypto.EncryptedJSONField):
    pass
