"""Business rules of clients: normalisation, dedup (also under concurrency), update, merge, lookups."""

import threading
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections

from apps.clients import selectors, services
from apps.clients.models import Client, ClientContact, ClientPassport
from apps.clients.references import _FOREIGN_KEYS, register_client_reference
from apps.clients.selectors import clients_by_contacts, search_clients
from apps.clients.services import client_create, client_merge, client_soft_delete, client_update
from apps.clients.tests.factories import make_client
from apps.core.errors import BusinessError, ConflictError

pytestmark = pytest.mark.django_db


def test_three_spellings_of_one_phone_are_one_client():
    first = client_create(data={"last_name": "Иванов", "first_name": "Иван", "phones": ["8 (916) 123-45-67"]})
    for spelling in ("+7 916 1234567", "79161234567"):
        with pytest.raises(ConflictError) as error:
            client_create(data={"last_name": "Другой", "first_name": "Человек", "phones": [spelling]})
        assert error.value.code == "duplicate_client"
        assert error.value.extra["matches"] == [{"id": first.pk, "name": "Иванов Иван", "matched_on": ["phone"]}]
    assert Client.objects.count() == 1


def test_duplicate_by_email_and_passport_writes_nothing():
    first = make_client(emails=["anna@mail.ru"], passports=[{"kind": "foreign", "series": "75", "number": "1234567"}])
    with pytest.raises(ConflictError) as error:
        client_create(data={
            "last_name": "Анна", "first_name": "Анна", "emails": [" ANNA@mail.ru"],
            "phones": ["+79990001122"], "passports": [{"kind": "foreign", "series": "75", "number": "123 45 67"}],
        })
    assert error.value.extra["matches"][0]["id"] == first.pk
    assert error.value.extra["matches"][0]["matched_on"] == ["passport", "email"]
    assert Client.objects.count() == 1
    assert ClientContact.objects.count() == 2  # the first client's phone and e-mail only


def test_link_returns_the_existing_client_unchanged():
    first = make_client(phones=["+79161112233"])
    linked = client_create(data={"last_name": "X", "first_name": "Y", "phones": ["89161112233"]}, on_duplicate="link")
    assert linked.pk == first.pk and linked.linked
    assert Client.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phones": ["12345"]}, "phones.0"),
        ({"emails": ["not-an-email"]}, "emails.0"),
        ({"birth_date": "31.02.1990"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"passports": [{"kind": "internal", "series": "45", "number": "1"}]}, "passports.0.number"),
        ({"passports": [{"kind": "foreign", "number": "1234567", "issue_date": "2020-01-01",
                         "expiry_date": "2019-01-01"}]}, "passports.0.expiry_date"),
        ({"citizenship": "Россия"}, "citizenship"),
    ],
)
def test_bad_input_is_refused_with_a_field_error(data, field):
    with pytest.raises(ValidationError) as error:
        client_create(data={"last_name": "Иванов", "first_name": "Иван", **data})
    assert field in error.value.message_dict
    assert Client.objects.count() == 0


def test_update_replaces_phones_and_refuses_another_clients_phone():
    first = make_client(phones=["+79161234567", "+79161234568"])
    other = make_client(phones=["+79990000001"])
    client_update(client=first, data={"phones": ["+79161234568", "+79161234569"], "first_name": "Пётр"})
    first.refresh_from_db()
    assert first.first_name == "Пётр"
    assert sorted(c.value for c in first.contacts.filter(kind="phone")) == ["+79161234568", "+79161234569"]
    with pytest.raises(ConflictError) as error:
        client_update(client=first, data={"phones": ["+79990000001"]})
    assert error.value.extra["matches"][0]["id"] == other.pk
    assert first.contacts.filter(kind="phone").count() == 2


def test_merge_moves_contacts_passports_and_references():
    target = make_client(last_name="Иванов", phones=["+79161234567"])
    other = make_client(last_name="Иванов", middle_name="Петрович", phones=["+79161234568"], emails=["x@mail.ru"])
    ClientPassport.objects.filter(client=other).update(is_active=False)
    merged = client_merge(target=target, other=other)
    assert merged.pk == target.pk
    assert sorted(c.value for c in target.contacts.filter(kind="phone")) == ["+79161234567", "+79161234568"]
    assert target.contacts.filter(kind="phone", is_primary=True).count() == 1
    assert target.passports.count() == 2
    assert Client.all_objects.get(pk=other.pk).merged_into_id == target.pk
    assert not Client.objects.filter(pk=other.pk).exists()
    target.refresh_from_db()
    assert target.middle_name == "Петрович"
    assert clients_by_contacts(emails=["x@mail.ru"]) == [target]
    from auditlog.models import LogEntry

    entry = LogEntry.objects.filter(object_id=target.pk, changes__event__1="merged").get()
    assert entry.additional_data["merged_client_id"] == other.pk


def test_merge_moves_registered_foreign_keys(django_user_model):
    """A registered reference (here the audit log entries' actor is not a client; use a real FK: merged_into)."""
    target, other, third = make_client(), make_client(), make_client()
    Client.all_objects.filter(pk=third.pk).update(merged_into=other)
    register_client_reference("clients.Client", "merged_into")
    try:
        client_merge(target=target, other=other)
    finally:
        _FOREIGN_KEYS.remove(("clients.Client", "merged_into"))
    assert Client.all_objects.get(pk=third.pk).merged_into_id == target.pk


def test_merge_self_and_unknown_are_refused():
    client = make_client()
    with pytest.raises(BusinessError) as error:
        client_merge(target=client, other=client)
    assert error.value.code == "merge_self"
    gone = make_client()
    client_soft_delete(client=gone)
    with pytest.raises(BusinessError) as error:
        client_merge(target=client, other=gone)
    assert error.value.code == "merge_not_found"


def test_lookup_by_contacts_and_whatsapp_shares_the_phone_index():
    client = make_client(phones=["+79161234567"], contacts=[{"kind": "telegram", "value": "@Ivan_Travel"}])
    assert clients_by_contacts(phones=["8 916 123 45 67"]) == [client]
    assert clients_by_contacts(whatsapp_ids=["79161234567"]) == [client]
    assert clients_by_contacts(telegram_ids=["ivan_travel"]) == [client]
    assert clients_by_contacts(phones=["garbage"], emails=["nobody@mail.ru"]) == []


def test_search_by_name_cyrillic_latin_partial_case_insensitive():
    client = make_client(last_name="Ёлкина", first_name="Анна", last_name_latin="Elkina", first_name_latin="Anna")
    make_client(last_name="Петров", first_name="Пётр")
    base = Client.objects.all()
    for term in ("елкин", "ЁЛК", "elk", "ANNA", "анна ёлкина"):
        assert list(search_clients(base, term)) == [client], term


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_race_past_the_precheck():
    barrier = threading.Barrier(2, timeout=10)
    local = threading.local()
    real_duplicates = services.client_duplicates

    def duplicates_then_wait(**kwargs):
        result = real_duplicates(**kwargs)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()  # both threads have checked: neither saw the other
        return result

    outcomes: list = []

    def create(n: int) -> None:
        try:
            client = client_create(data={"last_name": f"Поток{n}", "first_name": "Т", "phones": ["+79161234567"]})
            outcomes.append(("created", client.pk))
        except ConflictError as error:
            outcomes.append(("conflict", error.extra["matches"]))
        finally:
            connections.close_all()

    services.client_duplicates = duplicates_then_wait
    try:
        threads = [threading.Thread(target=create, args=(n,)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    finally:
        services.client_duplicates = real_duplicates
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["conflict", "created"], outcomes
    created_id = next(value for kind, value in outcomes if kind == "created")
    conflict = next(value for kind, value in outcomes if kind == "conflict")
    assert conflict[0]["id"] == created_id
    assert Client.objects.count() == 1
    assert ClientContact.objects.count() == 1


def test_rotate_encryption_keys_command(settings):
    from cryptography.fernet import Fernet

    client = make_client(birth_date="1990-05-06", phones=["+79161234567"])
    old_keys = list(settings.FIELD_ENCRYPTION_KEY)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new_key, *old_keys]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "clients.Client" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEY = [new_key]  # old key removed: every row must still decrypt
    reloaded = Client.objects.get(pk=client.pk)
    assert str(reloaded.birth_date) == "1990-05-06"
    assert [c.value for c in reloaded.contacts.filter(kind="phone")] == ["+79161234567"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM clients_clientcontact")
        assert all(row[0].startswith("gAAAAA") for row in cursor.fetchall())


def test_selectors_list_queryset_hides_deleted():
    alive, gone = make_client(), make_client()
    client_soft_delete(client=gone)
    assert list(selectors.client_list_queryset()) == [alive]


def test_demo_is_idempotent():
    from apps.clients.demo import DEMO_CLIENTS, load_demo

    load_demo(StringIO())
    load_demo(StringIO())
    assert Client.objects.count() == len(DEMO_CLIENTS)


def test_m2m_reference_move_skips_links_that_already_exist(django_user_model):
    """The M2M half of the registry (orders' travellers use it), exercised on User.groups."""
    from django.contrib.auth.models import Group

    from apps.clients.references import _move_m2m

    source, target = Group.objects.create(name="src"), Group.objects.create(name="dst")
    both = django_user_model.objects.create_user(email="both@test.travelcrm")
    only_source = django_user_model.objects.create_user(email="src@test.travelcrm")
    both.groups.add(source, target)
    only_source.groups.add(source)
    moved = _move_m2m(django_user_model, "groups", source.pk, target.pk)
    assert moved == 1
    assert set(target.user_set.all()) == {both, only_source}
    assert not source.user_set.exists()
