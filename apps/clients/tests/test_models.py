"""Storage of personal data: encrypted at rest, blind-indexed, never in plaintext in the audit log."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, transaction

from apps.clients.models import Client, ClientContact
from apps.clients.services import client_update
from apps.clients.tests.factories import make_client

pytestmark = pytest.mark.django_db

PLAINTEXT = ["+79161234567", "ivan.petrov@mail.ru", "4510", "123012", "1985-03-01", "ОВД Тверского района"]


def _create_ivan():
    return make_client(
        last_name="Петров", first_name="Иван", birth_date="1985-03-01",
        phones=["8 (916) 123-45-67"], emails=["Ivan.Petrov@Mail.ru"],
        passports=[{"kind": "internal", "series": "4510", "number": "123012", "issued_by": "ОВД Тверского района"}],
    )


def _raw_dump(*tables: str) -> str:
    parts = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            parts.extend(str(row) for row in cursor.fetchall())
    return "\n".join(parts)


def test_raw_tables_hold_no_plaintext_personal_data():
    client = _create_ivan()
    dump = _raw_dump("clients_client", "clients_clientcontact", "clients_clientpassport")
    for value in PLAINTEXT:
        assert value not in dump
    assert "Петров" in dump  # names are not encrypted (searchable), the rest is
    client = Client.objects.get(pk=client.pk)
    assert client.birth_date == datetime.date(1985, 3, 1)
    assert sorted(client.contacts.values_list("kind", flat=True)) == ["email", "phone"]
    assert {c.value for c in client.contacts.all()} == {"+79161234567", "ivan.petrov@mail.ru"}


def test_audit_log_rows_hold_no_plaintext_personal_data():
    client = _create_ivan()
    client_update(client=client, data={"phones": ["+7 916 765-43-21"], "birth_date": "1986-04-02"})
    entries = LogEntry.objects.filter(content_type__app_label="clients")
    assert entries.count() >= 4
    dump = "\n".join(f"{e.object_repr} {e.changes} {e.changes_text} {e.additional_data}" for e in entries)
    for value in [*PLAINTEXT, "+79167654321", "1986-04-02"]:
        assert value not in dump
    assert "[скрыто]" in dump


def test_database_refuses_a_second_live_owner_of_a_phone():
    client = _create_ivan()
    other = Client.objects.create(last_name="Сидоров", first_name="Сидор")
    index = client.contacts.get(kind="phone").blind_index
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientContact.objects.create(client=other, kind="phone", value="+79161234567", blind_index=index)


def test_soft_deleted_client_is_hidden_and_frees_its_contacts():
    from apps.clients.services import client_soft_delete

    client = _create_ivan()
    client_soft_delete(client=client)
    assert not Client.objects.filter(pk=client.pk).exists()
    assert Client.all_objects.get(pk=client.pk).deleted_at is not None
    again = _create_ivan()
    assert again.pk != client.pk


def test_contact_str_is_masked():
    client = _create_ivan()
    assert [str(c) for c in client.contacts.order_by("kind")] == ["E-mail: i***@mail.ru", "Телефон: +7 *** ***-45-67"]
    assert str(client.passports.get()) == "Паспорт РФ 45** ***012"
