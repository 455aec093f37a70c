"""Reports plan for their own arguments; a runaway query of a web request is a 503, not a stuck worker."""

import pytest
from django.db import connection, connections
from django.db.utils import OperationalError
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.core import db as core_db
from apps.finance.tests.test_reports import book  # noqa: F401 - the reports' fixture
from travelcrm.api import ApiErrorMiddleware, BaseAPIView

pytestmark = pytest.mark.django_db


def _report_statement_plans(marker: str) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
            "FROM pg_prepared_statements WHERE statement ILIKE %s",
            [f"%{marker}%"],
        )
        return tuple(int(value) for value in cursor.fetchone())


def test_the_clients_report_keeps_custom_plans_after_20_runs_on_one_connection(accountant_api, book):  # noqa: F811
    for _ in range(20):
        assert accountant_api.get("/api/v1/reports/clients/", {"date_from": "2020-01-01"}).status_code == 200
    # The report reads its summary (apps.finance.models.ReportClientDay): one statement per run.
    generic, custom = _report_statement_plans('FROM "finance_reportclientday"')
    # psycopg prepared the report's statement after 5 runs; every later run was planned for its
    # arguments (force_custom_plan) instead of switching to PostgreSQL's cached generic plan.
    assert custom >= 15
    assert generic == 0


def test_without_custom_plans_postgres_would_switch_to_a_generic_plan():
    """The control: the same kind of prepared statement, run 20 times outside custom_plans()."""
    with connection.cursor() as cursor:
        for _ in range(20):
            cursor.execute("SELECT count(*) FROM orders_order WHERE created_at >= %s /* plan-control */",
                           ["2020-01-01"])
    generic, _ = _report_statement_plans("plan-control")
    assert generic > 0


@pytest.mark.django_db(transaction=True)
def test_custom_plans_sets_the_mode_and_work_mem_for_its_transaction_only(settings):
    settings.REPORT_WORK_MEM = "48MB"
    with core_db.custom_plans(), connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == "48MB"
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "auto"


def test_web_connections_get_the_statement_timeout(settings):
    settings.API_STATEMENT_TIMEOUT_MS = 1500
    core_db.enable_statement_timeout()
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "1500ms"
    finally:
        fresh.close()
        from django.db.backends.signals import connection_created

        connection_created.disconnect(dispatch_uid="travelcrm-statement-timeout")


class _SlowView(BaseAPIView):
    required_permissions = []

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        return None


def test_a_cancelled_query_is_a_503_query_timeout(operator):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
    request = APIRequestFactory().get("/api/v1/slow/")
    force_authenticate(request, user=operator)
    response = _SlowView.as_view()(request)
    assert response.status_code == 503
    assert response.data["code"] == "query_timeout" and "прерван" in response.data["detail"]
    assert response["Retry-After"] == "30"


def test_an_admin_page_whose_query_is_cancelled_answers_503(rf):
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT before_timeout")
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
        try:
            cursor.execute("SELECT pg_sleep(5)")
        except OperationalError as error:
            cancelled = error
        cursor.execute("ROLLBACK TO SAVEPOINT before_timeout")
    middleware = ApiErrorMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/admin/clients/client/"), cancelled)
    assert response.status_code == 503 and "прерван" in response.content.decode()
    assert middleware.process_exception(rf.get("/admin/"), ValueError("other")) is None


class _DeadlockingView(BaseAPIView):
    """Writes row 1 then row 2, while another session holds row 2 and then asks for row 1."""

    required_permissions = []

    def get(self, request):
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '3s'")  # checks first (once, after 3 s): the victim
            cursor.execute("UPDATE deadlock_probe SET hits = hits + 1 WHERE id = 1")
            cursor.execute("UPDATE deadlock_probe SET hits = hits + 1 WHERE id = 2")
        return None


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_is_a_503_write_conflict_and_saves_nothing(operator):
    """Two writers taking the same rows in opposite order (as two requests updating the report
    summaries' day rows could): PostgreSQL aborts one — a clear 503 to repeat, not a 500."""
    import threading
    import time

    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE deadlock_probe (id int PRIMARY KEY, hits int NOT NULL)")
        cursor.execute("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)")
    params = connection.settings_dict
    other = psycopg.connect(dbname=params["NAME"], user=params["USER"], host=params["HOST"] or None,
                            port=params["PORT"] or None)
    try:
        other.execute("SET deadlock_timeout = '60s'")
        other.execute("UPDATE deadlock_probe SET hits = hits + 10 WHERE id = 2")  # holds row 2
        closing = threading.Thread(target=lambda: (time.sleep(0.2), other.execute(
            "UPDATE deadlock_probe SET hits = hits + 10 WHERE id = 1")))  # then wants row 1
        closing.start()
        request = APIRequestFactory().get("/api/v1/deadlock/")
        force_authenticate(request, user=operator)
        response = _DeadlockingView.as_view()(request)
        closing.join(timeout=90)
        other.commit()
        assert response.status_code == 503 and response["Retry-After"] == "1"
        assert response.data["code"] == "write_conflict" and "ничего не сохранено" in response.data["detail"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, hits FROM deadlock_probe ORDER BY id")
            assert cursor.fetchall() == [(1, 10), (2, 10)]  # the request's writes rolled back, the other's kept
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS deadlock_probe")
