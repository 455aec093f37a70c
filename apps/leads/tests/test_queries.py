"""Each statement of apps/leads/queries.py gives what its ORM equivalent gives, on the same data."""

import functools
import operator

import pytest
from django.db import transaction
from django.db.models import Q

from apps.leads import queries
from apps.leads.contacts import sender_contacts
from apps.leads.models import OPEN_STATUSES, Lead, LeadMessage, LeadStatus
from apps.leads.services import lead_ingest

pytestmark = pytest.mark.django_db


def ingest(external_id, sender, channel="web"):
    return lead_ingest(channel=channel, external_id=external_id, sender=sender, text="Хотим на море")


def _orm_open_lead(terms):
    if not terms:
        return None
    any_term = functools.reduce(operator.or_, (Q(**{f"{name}__in": values}) for name, values in terms))
    return (
        Lead.objects.select_for_update()
        .filter(any_term, status__in=OPEN_STATUSES)
        .order_by("-created_at", "-id")
        .first()
    )


def test_message_id_taken_is_the_orms_lookup():
    message = ingest("m-1", {"name": "Анна", "phone": "+79161234567"}).message
    for channel, external_id in (("web", "m-1"), ("web", "m-2"), ("telegram", "m-1")):
        orm = LeadMessage.objects.filter(channel=channel, external_id=external_id).values_list("id", flat=True).first()
        assert queries.message_id_taken(channel, external_id) == orm
    assert queries.message_id_taken("web", "m-1") == message.pk


def test_lead_open_locked_is_the_orms_select_for_update():
    ingest("1", {"name": "Анна", "phone": "+79161234567", "email": "a@example.com"})
    newer = ingest("2", {"name": "Анна", "email": "a@example.com"}, channel="email").lead
    ingest("3", {"name": "Борис", "phone": "+79160000000"})
    Lead.objects.filter(pk=newer.pk).update(status=LeadStatus.REJECTED)  # closed: not an open lead any more
    cases = [
        sender_contacts({"phone": "+79161234567", "email": "a@example.com"}).lead_terms(),
        sender_contacts({"whatsapp_id": "79161234567"}).lead_terms(),
        sender_contacts({"email": "a@example.com"}).lead_terms(),
        sender_contacts({"telegram_id": "404"}).lead_terms(),
    ]
    fields = [field.attname for field in Lead._meta.concrete_fields]
    for terms in cases:
        with transaction.atomic():
            raw, orm = queries.lead_open_locked(terms), _orm_open_lead(terms)
        if orm is None:
            assert raw is None
            continue
        assert [getattr(raw, name) for name in fields] == [getattr(orm, name) for name in fields]
        assert not raw._state.adding


def _advisory_locks_held() -> int:
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return cursor.fetchone()[0]


def test_advisory_locks_are_taken_in_a_transaction():
    before = _advisory_locks_held()  # e.g. the test database's own
    with transaction.atomic():
        queries.advisory_locks([1, -2, 2**62])
        assert _advisory_locks_held() == before + 3
