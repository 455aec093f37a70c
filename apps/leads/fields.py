"""The leads' encrypted JSON field (migrations name it here); the implementation lives in core."""

from apps.core import crypto


class EncryptedJSONField(crypto.EncryptedJSONField):
    pass
