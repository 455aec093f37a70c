"""Each statement of apps/clients/queries.py gives what its ORM equivalent gives, on the same data."""

from datetime import UTC, date, datetime

import orjson
import pytest
from django.db.models import F

from apps.clients import queries
from apps.clients.models import Client, ClientContact, ClientPassport
from apps.clients.tests.factories import make_client, phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients():
    anna = make_client(
        phones=[phone(1), phone(2)], emails=["anna@example.ru"],
        passports=[{"kind": "internal", "series": "4510", "number": "000001"},
                   {"kind": "foreign", "number": "751234567", "issue_date": "2020-01-10"}],
    )  # fmt: skip
    boris = make_client(phones=[], emails=[], passports=[])
    ClientContact.objects.filter(client=anna, kind="email").update(is_archived=True)  # archived: not listed
    return [anna, boris]


def _orm_children(model, client, columns, order):
    ordering = [F(name[1:]).desc() if name.startswith("-") else name for name in order]
    rows = model.objects.filter(client=client, is_archived=False).order_by(*ordering)
    return [list(row) for row in rows.values_list(*columns)]


def test_children_json_are_the_orms_live_children(clients):
    annotated = Client.objects.filter(pk__in=[c.pk for c in clients]).annotate(
        contacts_text=queries.contacts_json(), passports_text=queries.passports_json()
    )
    for client in annotated:
        for text, model, columns, order in (
            (client.contacts_text, ClientContact, queries.CONTACT_COLUMNS, queries.CONTACT_ORDER),
            (client.passports_text, ClientPassport, queries.PASSPORT_COLUMNS, queries.PASSPORT_ORDER),
        ):
            raw = orjson.loads(text)
            orm = _orm_children(model, client, ["id", *columns[1:]], order)
            assert [row[0] for row in raw] == [row[0] for row in orm]  # same rows, same order
            encrypted = {"value", "series", "number", "issued_by"}
            plain = [i for i, name in enumerate(columns) if name not in encrypted]
            for raw_row, orm_row in zip(raw, orm, strict=True):
                for i in plain:
                    value = raw_row[i]
                    if columns[i] == "created_at":
                        value = datetime.fromisoformat(value)
                    elif columns[i] in ("issue_date", "expiry_date") and value is not None:
                        value = date.fromisoformat(value)
                    assert value == orm_row[i], columns[i]


def test_index_owners_are_the_orms_live_indexes(clients):
    orm_contacts = set(ClientContact.objects.filter(is_archived=False).values_list("blind_index", "client_id"))
    orm_passports = set(ClientPassport.objects.filter(is_archived=False).values_list("number_index", "client_id"))
    every = [pair for chunk in queries.index_owners_all(chunk_size=2) for pair in chunk]
    assert sorted(every) == sorted(orm_contacts | orm_passports)
    wanted = [index for index, _ in orm_contacts][:2] + ["no-such-index"]
    assert set(queries.index_owners(ClientContact, wanted)) == {p for p in orm_contacts if p[0] in wanted}
    archived = ClientContact.objects.filter(is_archived=True).values_list("blind_index", flat=True)
    assert queries.index_owners(ClientContact, list(archived)) == []
    numbers = [index for index, _ in orm_passports]
    assert set(queries.index_owners(ClientPassport, numbers)) == orm_passports


def test_clients_by_contact_indexes_are_the_orms_clients_by_contacts(clients):
    from apps.clients.selectors import _contact_indexes, client_of_contacts, clients_by_contacts

    anna, _ = clients
    vera = make_client(phones=[], emails=[], passports=[], telegram=["@vera_travel"], whatsapp=[phone(3)])
    cases = [
        {"phones": [phone(1)]},  # anna's phone
        {"whatsapp_ids": [phone(3)]},  # vera's WhatsApp
        {"phones": [phone(3)]},  # a phone matches a WhatsApp contact too
        {"emails": ["anna@example.ru"]},  # archived: nobody
        {"telegram_ids": ["vera_travel"]},
        {"phones": [phone(2)], "telegram_ids": ["vera_travel"]},  # both: ambiguous
        {"phones": ["не телефон"]},
    ]
    for case in cases:
        orm = clients_by_contacts(**case)
        indexes = _contact_indexes(**case)
        raw = queries.clients_by_contact_indexes(
            phone_indexes=sorted(indexes.phone), email_indexes=sorted(indexes.email),
            telegram_indexes=sorted(indexes.telegram), limit=10,
        )
        assert [c.pk for c in raw] == [c.pk for c in orm], case
        for got, want in zip(raw, orm, strict=True):
            for field in Client._meta.concrete_fields:
                assert getattr(got, field.attname) == getattr(want, field.attname), field.name
        assert client_of_contacts(**case) == (orm[0] if len(orm) == 1 else None), case
    assert client_of_contacts(phones=[phone(1)]) == anna  # not a vacuous comparison: the lookups find
    assert client_of_contacts(telegram_ids=["vera_travel"]) == vera
    assert client_of_contacts(phones=[phone(3)]) == vera
    assert client_of_contacts(phones=[phone(2)], telegram_ids=["vera_travel"]) is None
    Client.objects.filter(pk=anna.pk).update(is_deleted=True, deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert client_of_contacts(phones=[phone(1)]) is None  # soft-deleted: left out, as by the default manager


def test_consent_active_exists_is_the_orms_exists(clients):
    from django.db.models import Q
    from django.utils import timezone

    from apps.clients.consents import consent_active_exists, consent_record, consent_text_ensure, subject_indexes_of
    from apps.clients.models import Consent

    anna, boris = clients
    text = consent_text_ensure(body="Согласие на обработку персональных данных")
    consent_record(text=text, channel="telegram", subject_kind="telegram", subject_value="123456789", lead_id=11)
    consent_record(text=text, channel="web", client=anna)
    withdrawn = consent_record(text=text, channel="web", client=boris, lead_id=12)
    Consent.objects.filter(pk=withdrawn.pk).update(withdrawn_at=timezone.now())
    cases = [
        (11, None, "", ""), (12, None, "", ""), (13, None, "", ""), (None, anna.pk, "", ""), (13, boris.pk, "", ""),
        (13, None, "telegram", "123456789"), (13, None, "telegram", "987654321"), (None, None, "", ""),
    ]
    for lead_id, client_id, kind, value in cases:
        condition = Q(lead_id=lead_id) if lead_id else Q(pk__in=[])
        if client_id:
            condition |= Q(client_id=client_id)
        if value:
            condition |= Q(subject_kind=kind, subject_index__in=subject_indexes_of(kind, value))
        orm = Consent.objects.filter(condition, withdrawn_at__isnull=True).exists()
        raw = consent_active_exists(lead_id=lead_id, client_id=client_id, subject_kind=kind, subject_value=value)
        assert raw is orm, (lead_id, client_id, kind, value)
