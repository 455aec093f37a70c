"""Migration 0004: the old web-form consents (integrations.Consent) move into the clients' registry."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.clients.consents import consents_of_client
from apps.clients.models import Consent
from apps.clients.normalization import contact_index
from apps.clients.tests.factories import make_client
from apps.integrations.models import InboxItem
from apps.leads.services import lead_create_manual

BEFORE = [("integrations", "0003_outbound_states_smtp")]
AFTER = [("integrations", "0004_consents_to_registry")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Leave the database at the latest migrations (later ones than AFTER exist), for the next tests."""
    yield
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_old_web_form_consents_move_to_the_registry():
    person = make_client(phones=["+79161112233"])
    old_apps = _migrate(BEFORE)
    OldConsent = old_apps.get_model("integrations", "Consent")
    given = timezone.now() - dt.timedelta(days=3)

    def old(external_id, form, lead=None, ip="203.0.113.9"):
        payload = {"form": form} if form else None
        item = InboxItem.objects.create(channel="web", external_id=external_id, payload=payload)
        return OldConsent.objects.create(channel="web", text_version="2026-11-01", given_at=given, ip_address=ip,
                                         inbox_item_id=item.pk, lead_pk=lead.pk if lead else None)

    lead = lead_create_manual(data={"contact_name": "Анна", "contact_phone": "+79161112233", "client": person})
    old("web:a", {"phone": "+7 916 111-22-33", "email": ""}, lead)  # a client's lead
    old("web:b", {"phone": "", "email": "Sender@Example.ru"})  # a sender, no client yet
    old("web:c", None)  # payload purged, lead gone: names nobody
    _migrate(AFTER)

    rows = {c.evidence_message_id: c for c in Consent.objects.select_related("text")}
    assert set(rows) == {"web:a", "web:b"}
    first, second = rows["web:a"], rows["web:b"]
    assert (first.client_id, first.lead_id, first.channel, first.purposes) == (person.pk, lead.pk, "web", ["contract"])
    assert (first.given_at, first.evidence_ip) == (given, "203.0.113.9")
    assert first.text.version == "web-2026-11-01" and "Редакция 2026-11-01" in first.text.body
    assert len(first.text.sha256) == 64 and second.text_id == first.text_id
    assert (second.client_id, second.subject_kind, second.subject_value) == (None, "email", "sender@example.ru")
    assert second.subject_index == contact_index("email", "sender@example.ru")
    assert list(consents_of_client(person.pk)) == [first]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('integrations_consent')")
        assert cursor.fetchone()[0] is None  # the old table is gone
