"""Lists cost the page, not the table: ids first, bounded counts with estimates, a keyset cursor."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clients.models import Client
from apps.clients.tests.factories import make_client
from apps.core.paging import RowCount, bounded_count

URL = "/api/v1/clients/"


@pytest.fixture
def twelve_clients(db):
    return [make_client() for _ in range(12)]


def test_count_is_exact_up_to_the_limit_and_an_estimate_above_it(operator_api, twelve_clients, settings):
    body = operator_api.get(URL, {"page_size": 5}).json()
    assert body["count"] == 12 and body["count_is_estimate"] is False

    settings.LIST_EXACT_COUNT_LIMIT = 5
    body = operator_api.get(URL, {"page_size": 5}).json()
    assert body["count_is_estimate"] is True
    assert body["count"] >= 6  # the planner's estimate, never below what was counted
    assert len(body["results"]) == 5 and "page=2" in body["next"]


def test_the_estimate_is_asked_once_per_list_and_kept_for_a_while(operator_api, twelve_clients, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 5

    def explains():
        with CaptureQueriesContext(connection) as queries:
            body = operator_api.get(URL, {"page_size": 5}).json()
        assert body["count_is_estimate"] is True and body["count"] >= 6
        return [q for q in queries.captured_queries if q["sql"].startswith("EXPLAIN")]

    assert len(explains()) == 1
    assert explains() == []  # the same list again: the estimate is reused
    settings.LIST_ESTIMATE_CACHE_SECONDS = 0
    from apps.core import paging

    paging._estimates.clear()
    assert len(explains()) == 1
    assert len(explains()) == 1  # not kept when the setting is 0


def test_bounded_count_reads_at_most_limit_plus_one_rows(twelve_clients):
    assert bounded_count(Client.objects.all(), limit=100).value == 12
    estimate = bounded_count(Client.objects.all(), limit=3)
    assert estimate.is_estimate and estimate.value >= 4


def test_pages_follow_the_ordering_and_the_last_page_needs_no_count(operator_api, twelve_clients):
    expected = sorted((c.pk for c in twelve_clients), reverse=True)
    seen = []
    for page in (1, 2, 3):
        body = operator_api.get(URL, {"page_size": 5, "page": page}).json()
        assert body["count"] == 12
        seen += [row["id"] for row in body["results"]]
    assert seen == expected

    with CaptureQueriesContext(connection) as queries:
        operator_api.get(URL, {"page_size": 5, "page": 3})
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_page_past_the_end_is_a_404_in_the_error_format(operator_api, twelve_clients):
    response = operator_api.get(URL, {"page_size": 5, "page": 4})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    for bad in ("0", "-1", "abc"):
        assert operator_api.get(URL, {"page": bad}).status_code == 404


def test_cursor_walks_every_client_once_newest_first(operator_api, twelve_clients):
    expected = sorted((c.pk for c in twelve_clients), reverse=True)
    seen, url, params = [], URL, {"cursor": "", "page_size": 5}
    while url:
        body = operator_api.get(url, params).json()
        assert body["count"] is None and body["previous"] is None
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None
    assert seen == expected


def test_a_forged_cursor_is_a_400(operator_api, twelve_clients):
    for forged in ("not-base64!", "aWQ6YWJj", "eHg6MTA"):  # garbage, "id:abc", "xx:10"
        response = operator_api.get(URL, {"cursor": forged})
        assert response.status_code == 400
        assert "cursor" in response.json()["fields"]


def test_a_deep_page_runs_the_per_row_subqueries_for_the_page_only(operator_api, twelve_clients):
    with CaptureQueriesContext(connection) as queries:
        body = operator_api.get(URL, {"page_size": 2, "page": 5}).json()
    assert [row["id"] for row in body["results"]] == sorted((c.pk for c in twelve_clients), reverse=True)[8:10]
    offset_queries = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"].upper()]
    assert offset_queries and all("json" not in sql.lower() for sql in offset_queries)


def test_a_model_list_reads_its_page_rows_in_order(supervisor_api, twelve_clients):
    """Generic lists (model querysets) are paged over ids too, rows read afterwards in page order."""
    from apps.leads.services import lead_create_manual

    for n in range(7):
        lead_create_manual(data={"contact_name": f"Звонок {n}", "text": "Хочу в Сочи"}, actor=None)
    first = supervisor_api.get("/api/v1/leads/", {"page_size": 3}).json()
    second = supervisor_api.get("/api/v1/leads/", {"page_size": 3, "page": 2}).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert first["count"] == 7 and len(ids) == 6 and len(set(ids)) == 6


def test_admin_change_list_counts_boundedly_and_pages_over_ids(client, admin_user, twelve_clients, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 5
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/clients/client/")
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.paginator.count_is_estimate and changelist.result_count >= 6
    assert changelist.full_result_count is None  # no exact count of the whole table
    assert "около " in response.content.decode()  # «около 12 клиентов»: the admin says it is an estimate
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts)


def test_a_search_counts_exactly_only_up_to_its_own_lower_limit(operator_api, twelve_clients, settings):
    settings.SEARCH_EXACT_COUNT_LIMIT = 3
    body = operator_api.get(URL, {"page_size": 2, "search": "Иван"}).json()
    assert body["count_is_estimate"] is True and body["count"] >= 4

    settings.SEARCH_EXACT_COUNT_LIMIT = 0  # the default: no count query for a search with a next page
    with CaptureQueriesContext(connection) as queries:
        body = operator_api.get(URL, {"page_size": 2, "page": 2, "search": "Иван"}).json()
    assert body["count_is_estimate"] is True and body["count"] >= 5  # never below what the pages prove
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    last = operator_api.get(URL, {"page_size": 5, "page": 3, "search": "Иван"}).json()
    assert last["count"] == 12 and last["count_is_estimate"] is False  # the last page knows the count
    assert operator_api.get(URL, {"page_size": 2}).json()["count"] == 12  # a plain list counts to the usual limit


def test_a_list_past_the_limit_is_not_counted_again_for_a_while(operator_api, twelve_clients, settings):
    """Once a list has counted past LIST_EXACT_COUNT_LIMIT, this process answers with the estimate
    without reading limit + 1 rows again on every page: one statement fewer per page."""
    settings.LIST_EXACT_COUNT_LIMIT = 5

    def page():
        with CaptureQueriesContext(connection) as queries:
            body = operator_api.get(URL, {"page_size": 5}).json()
        assert body["count_is_estimate"] is True and body["count"] >= 6 and len(body["results"]) == 5
        return [q["sql"] for q in queries.captured_queries], body["count"]

    def counting(statements):
        return [sql for sql in statements if "COUNT(" in sql.upper() or sql.startswith("EXPLAIN")]

    first, count = page()
    again, same_count = page()
    assert len(counting(first)) == 2 and counting(again) == [] and same_count == count
    assert len(again) == 3  # the page's ids, its rows, the access log
    settings.LIST_EXACT_COUNT_LIMIT = 50  # another limit is another question: counted exactly
    assert operator_api.get(URL, {"page_size": 5}).json() | {"results": []} == {
        "count": 12, "count_is_estimate": False, "next": "http://testserver/api/v1/clients/?page=2&page_size=5",
        "previous": None, "results": []}


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_search_is_never_a_prepared_statement_the_plain_list_is(operator_api, twelve_clients, settings):
    """With server-side binding psycopg prepares a statement after 5 runs, and PostgreSQL may then
    plan it once for every argument: a name search switched to a generic plan 40x slower at a
    million clients. Searches run unprepared (apps.core.db.unprepared); plain pages keep preparing."""
    if not settings.DATABASES["default"]["OPTIONS"].get("server_side_binding"):
        pytest.skip("DB_PREPARED_STATEMENTS is off: nothing is prepared")  # not the case in the test settings
    for _ in range(8):
        assert operator_api.get(URL, {"page_size": 5, "search": "Иван"}).status_code == 200
        assert operator_api.get(URL, {"page_size": 5}).status_code == 200
    prepared = _prepared_statements()
    assert not [sql for sql in prepared if "LIKE" in sql]
    assert [sql for sql in prepared if '"clients_client"."id" AS "pk"' in sql and "search_name" not in sql]
    assert connection.connection.prepare_threshold == 5  # the switch is back after the search


def test_an_admin_search_is_never_a_prepared_statement(client, admin_user, twelve_clients):
    client.force_login(admin_user)
    for _ in range(8):
        assert client.get("/admin/clients/client/", {"q": "Иван"}).status_code == 200
    assert not [sql for sql in _prepared_statements() if "LIKE" in sql]


def test_a_search_page_costs_its_ids_its_rows_and_the_access_log(operator_api, twelve_clients):
    """Whatever the table's size: no count (SEARCH_EXACT_COUNT_LIMIT=0), the estimate asked once a minute."""
    operator_api.get(URL, {"page_size": 5, "search": "Иван"})  # the estimate, the user's permissions
    with CaptureQueriesContext(connection) as queries:
        body = operator_api.get(URL, {"page_size": 5, "search": "Иван"}).json()
    assert len(body["results"]) == 5 and body["count_is_estimate"] is True
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 3, statements
    assert "LIKE" in statements[0] and "json_agg" in statements[1] and "audit_accesslogentry" in statements[2]


def test_bounded_count_of_a_filter_that_matches_nothing_asks_nothing(twelve_clients, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bounded_count(Client.objects.filter(pk__in=[])) == RowCount(0, False)
        assert bounded_count(Client.objects.none(), limit=0) == RowCount(0, False)
