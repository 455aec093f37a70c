"""The encrypted fields of apps.core.crypto on the clients' real tables (core itself has no models)."""

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from apps.clients.models import Client, ClientContact
from apps.core.crypto import UndecryptableValueError

pytestmark = pytest.mark.django_db


def test_field_raises_when_row_cannot_be_decrypted(settings):
    client = Client.objects.create(last_name="Иванов", first_name="Иван")
    ClientContact.objects.create(client=client, kind="phone", value="+79161234567", blind_index="x" * 64)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_clientcontact SET value = %s", ["garbage-not-fernet"])
    with pytest.raises(UndecryptableValueError):
        list(ClientContact.objects.all())


def test_lookups_on_encrypted_fields_are_refused_instead_of_matching_nothing():
    with pytest.raises(FieldError):
        list(ClientContact.objects.filter(value="+79161234567"))
    assert list(ClientContact.objects.filter(value__isnull=True)) == []
