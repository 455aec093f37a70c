"""The personal-data access log: one row per request that showed unmasked data, none otherwise."""

import pytest
from django.test import Client as BrowserClient

from apps.audit.models import AccessLogEntry
from apps.clients.tests.factories import make_client

pytestmark = pytest.mark.django_db


def test_client_list_is_one_access_row_naming_every_client_shown(operator, operator_api):
    clients = [make_client() for _ in range(3)]
    response = operator_api.get("/api/v1/clients/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    (entry,) = AccessLogEntry.objects.all()
    assert entry.user == operator
    assert set(entry.client_ids) >= {c.pk for c in clients}
    assert set(entry.categories) >= {"phone", "email", "passport"}
    assert entry.endpoint == "/api/v1/clients/" and entry.method == "GET"
    assert entry.remote_addr == "10.1.2.3"


def test_masked_output_is_not_logged(accountant_api):
    make_client()
    assert accountant_api.get("/api/v1/clients/").status_code == 200
    assert not AccessLogEntry.objects.exists()


def test_client_card_and_children_are_logged(operator_api):
    client = make_client(birth_date="1980-02-03")
    operator_api.get(f"/api/v1/clients/{client.pk}/")
    operator_api.get(f"/api/v1/clients/{client.pk}/passports/")
    card, passports = AccessLogEntry.objects.order_by("id")
    assert card.client_ids == [client.pk] and "birth_date" in card.categories
    assert passports.client_ids == [client.pk] and passports.categories == ["passport"]


def test_failed_request_is_not_logged(operator_api):
    assert operator_api.get("/api/v1/clients/999999/").status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_list_costs_one_insert_whatever_the_page_size(operator_api, django_assert_max_num_queries):
    for _ in range(5):
        make_client()
    with django_assert_max_num_queries(12) as small:
        operator_api.get("/api/v1/clients/", {"page_size": 2})
    for _ in range(10):
        make_client()
    with django_assert_max_num_queries(len(small.captured_queries)) as big:
        operator_api.get("/api/v1/clients/", {"page_size": 15})
    inserts = [q for q in big.captured_queries if 'INSERT INTO "audit_accesslogentry"' in q["sql"]]
    assert len(inserts) == 1


def test_admin_change_page_is_logged(supervisor):
    client = make_client()
    browser = BrowserClient()
    browser.force_login(supervisor)
    assert browser.get(f"/admin/clients/client/{client.pk}/change/").status_code == 200
    entry = AccessLogEntry.objects.get(endpoint=f"/admin/clients/client/{client.pk}/change/")
    assert entry.user == supervisor and entry.client_ids == [client.pk]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_row_is_one_statement_committed_without_waiting(operator, operator_api):
    """The middleware runs in autocommit in production (not inside the test's transaction as the tests
    above): the row is written by one statement whose own commit is asynchronous
    (apps.audit.queries), with the same values the ORM would store, and the session keeps the
    synchronous commit for every other write."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = [make_client() for _ in range(2)]
    with CaptureQueriesContext(connection) as ctx:
        response = operator_api.get("/api/v1/clients/", REMOTE_ADDR="10.1.2.4", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 200
    inserts = [q["sql"] for q in ctx.captured_queries if "audit_accesslogentry" in q["sql"]]
    assert len(inserts) == 1 and "set_config('synchronous_commit', 'off', true)" in inserts[0]
    (entry,) = AccessLogEntry.objects.all()
    assert entry.user == operator and entry.method == "GET" and entry.endpoint == "/api/v1/clients/"
    assert entry.client_ids == sorted(c.pk for c in clients) and entry.remote_addr == "10.1.2.4"
    assert set(entry.categories) >= {"phone", "email", "passport"} and entry.channel == ""
    assert entry.at is not None and entry.request_id
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
