"""BLIND_INDEX_KEY rotation: both keys found during the recompute; resumable; progress printed."""

import io

import pytest
from django.core.management import call_command

from apps.audit.models import BlindIndexRotation
from apps.clients.consents import consent_record, consent_text_ensure, subject_indexes_of
from apps.clients.models import Client, ClientContact, Consent
from apps.clients.selectors import clients_by_contacts, filter_by_passport
from apps.clients.tests.factories import make_client
from apps.leads.models import Lead
from apps.leads.services import lead_ingest

pytestmark = pytest.mark.django_db
OLD, NEW = "a1" * 32, "b2" * 32


def test_rotation_keeps_everything_findable_and_resumes(settings):
    settings.BLIND_INDEX_KEY = OLD
    clients = [make_client(phones=[f"+7916555{n:04d}"], telegram=[f"77{n}"]) for n in range(5)]
    lead = lead_ingest(channel="telegram", external_id="rot-1", sender={"telegram_id": "9090"}, text="тур").lead
    consent_record(text=consent_text_ensure(body="v\n"), channel="telegram", subject_kind="telegram",
                   subject_value="9090", lead_id=lead.pk)
    old_index = ClientContact.objects.filter(client=clients[0], kind="phone").get().blind_index

    settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_KEY_OLD = NEW, OLD
    # Before the recompute, lookups still find rows indexed with the old key.
    assert clients_by_contacts(phones=["+79165550000"]) == [clients[0]]
    assert filter_by_passport(Client.objects.all(), _passport(clients[1])).get() == clients[1]

    out = io.StringIO()
    call_command("rotate_blind_index", "--batch-size", "4", stdout=out)
    assert "Контакты клиентов: 4 /" in out.getvalue() and "готово" in out.getvalue()
    assert ClientContact.objects.filter(client=clients[0], kind="phone").get().blind_index != old_index
    settings.BLIND_INDEX_KEY_OLD = ""  # the old key is retired: everything is found with the new one alone
    assert clients_by_contacts(phones=["+79165550000"]) == [clients[0]]
    assert clients_by_contacts(telegram_ids=["774"]) == [clients[4]]
    assert filter_by_passport(Client.objects.all(), _passport(clients[1])).get() == clients[1]
    assert Consent.objects.filter(subject_index__in=subject_indexes_of("telegram", "9090")).exists()
    assert Lead.objects.get(pk=lead.pk).telegram_index

    again = io.StringIO()
    call_command("rotate_blind_index", stdout=again)
    assert "уже пересчитано" in again.getvalue()


def test_an_interrupted_rotation_resumes_where_it_stopped(settings):
    settings.BLIND_INDEX_KEY = OLD
    for n in range(6):
        make_client(phones=[f"+7916444{n:04d}"])
    settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_KEY_OLD = NEW, OLD
    from apps.audit.management.commands import rotate_blind_index as command

    progress = BlindIndexRotation.objects.create(key_fingerprint=_fingerprint(), part="client_contacts")
    assert command.Command._batch(ClientContact, ["blind_index"], command._contact, progress, 5)
    first_stop = progress.last_pk
    out = io.StringIO()
    call_command("rotate_blind_index", "--batch-size", "100", stdout=out)
    progress.refresh_from_db()
    assert progress.finished_at and progress.last_pk > first_stop
    assert progress.done == ClientContact.objects.count()


def _fingerprint():
    from apps.core.crypto import blind_index_key_fingerprint

    return blind_index_key_fingerprint()


def _passport(client) -> str:
    passport = client.passports.get()
    return f"{passport.series} {passport.number}"


def test_mid_rotation_lookups_find_rows_under_either_key(settings):
    """Half the rows recomputed, half not: the sender's open lead, the lead search and client
    lookups by phone / e-mail / passport find both halves; editing a client keeps its contacts."""
    settings.BLIND_INDEX_KEY = OLD
    first = make_client(phones=["+79167770001"], emails=["first@example.ru"])
    second = make_client(phones=["+79167770002"], emails=["second@example.ru"])
    lead_old = lead_ingest(channel="telegram", external_id="mid-1", sender={"telegram_id": "5151"}, text="тур").lead
    lead_web = lead_ingest(channel="web", external_id="mid-2", sender={"phone": "+79031112233"}, text="тур").lead

    settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_KEY_OLD = NEW, OLD
    from apps.audit.management.commands import rotate_blind_index as command

    # The recompute stopped after the first client's contacts: the second client's are still old.
    progress = BlindIndexRotation.objects.create(key_fingerprint=_fingerprint(), part="client_contacts")
    command.Command._batch(ClientContact, ["blind_index"], command._contact, progress, 2)
    assert ClientContact.objects.filter(client=first).count() == 2 and progress.last_pk < second.contacts.first().pk

    # The same Telegram sender writes again: their open lead (indexed under the old key) gets it.
    again = lead_ingest(channel="telegram", external_id="mid-3", sender={"telegram_id": "5151"}, text="ещё")
    assert again.lead.pk == lead_old.pk and not again.created
    from apps.leads.selectors import lead_search_ids

    assert lead_web.pk in lead_search_ids("+7 903 111-22-33")
    for client in (first, second):
        phone = client.contacts.get(kind="phone").value
        email = client.contacts.get(kind="email").value
        assert clients_by_contacts(phones=[phone]) == [client]
        assert clients_by_contacts(emails=[email]) == [client]
        assert filter_by_passport(Client.objects.all(), _passport(client)).get() == client

    # Saving the second client with its own (old-indexed) phone keeps that contact, re-indexed.
    from apps.clients.services import client_update

    contact = second.contacts.get(kind="phone")
    client_update(client=second, data={"phones": ["+79167770002"], "emails": ["second@example.ru"]})
    kept = second.contacts.get(kind="phone", is_archived=False)
    assert kept.pk == contact.pk and kept.blind_index != contact.blind_index
    settings.BLIND_INDEX_KEY_OLD = ""
    assert clients_by_contacts(phones=["+79167770002"]) == [second]
