"""The jobs app's hand-written SQL against what Django says about the same data."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.jobs import queries
from apps.jobs.models import JobProgress


@pytest.mark.django_db
def test_public_tables_are_djangos_tables_plus_the_job_queues():
    tables = set(queries.public_tables())
    assert set(connection.introspection.django_table_names(only_existing=True)) <= tables
    assert {"procrastinate_jobs", "procrastinate_events"} <= tables


@pytest.mark.django_db
def test_row_counts_are_the_orms_counts():
    JobProgress.objects.create(kind="test", title="x")
    assert queries.row_counts()[JobProgress._meta.db_table] == JobProgress.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_export_snapshot_makes_a_read_only_snapshot_for_pg_dump():
    with transaction.atomic():
        assert "-" in queries.export_snapshot()
        with pytest.raises(DatabaseError, match="read-only"), transaction.atomic():
            JobProgress.objects.create(kind="test", title="x")
