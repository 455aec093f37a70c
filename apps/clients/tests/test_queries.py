"""Each statement of apps/clients/queries.py gives what its ORM equivalent gives, on the same data."""

from datetime import date, datetime

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
