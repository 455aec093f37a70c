"""EncryptedJSONField: the raw payload of an incoming message holds personal data (names, phone
numbers, addresses), so it is stored encrypted like the contact fields, as JSON text."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from apps.core.crypto import StrictEncryptedMixin, decrypt_str, encrypt_str


class EncryptedJSONField(StrictEncryptedMixin, models.TextField):
    """A dict/list stored as Fernet-encrypted JSON text. Not queryable, by design."""

    def from_db_value(self, value, expression, connection):
        if value is None:
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
