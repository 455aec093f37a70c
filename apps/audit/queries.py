"""Hand-written SQL of the audit app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

The personal-data access log is written on every request that shows unmasked data — every page
of the client list and every search. As a plain INSERT in autocommit its commit waited for the
WAL to reach the disk: 4–30 ms per request on the shared machine (BENCHMARKS.md, issue 19), more
than the list's own queries. `insert_access_entry` writes the row in one statement whose own
transaction commits with `synchronous_commit = off` (set_config(..., is_local => true) inside the
statement: it lasts for that statement's implicit transaction only, and PostgreSQL reads it when
it writes the commit record).

The trade-off (docs/operations.md): the row is committed and visible at once, and the WAL writer
flushes it within 3 × wal_writer_delay (0.6 s by default); a normal shutdown or restart of
PostgreSQL flushes it too. Only a crash of PostgreSQL or of the machine inside that window can lose
the last rows of the log — never a business write, which keeps the synchronous commit (this
setting is never left on the session). Inside a transaction of the caller the ORM's INSERT is used
instead, so an outer transaction's commit is never made asynchronous.
"""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import Field
from psycopg import sql

from apps.audit.models import AccessLogEntry
from apps.core.rows import column_sql, render, table_sql

_FIELDS = ("at", "user", "client_ids", "categories", "endpoint", "method", "channel", "remote_addr", "request_id")


def _fields() -> list[Field]:
    by_name = {field.name: field for field in AccessLogEntry._meta.concrete_fields}
    return [by_name[name] for name in _FIELDS]


@functools.cache
def _statement() -> str:
    casts: list[sql.Composable] = [
        sql.SQL("%s::{}").format(sql.SQL(str(field.db_type(connection)))) for field in _fields()  # model metadata only
    ]
    # Explicit casts from the fields' own column types: a SELECT list does not take the target
    # column's type the way VALUES does (a text parameter would not go into the inet column).
    statement = sql.SQL(
        "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true)) "
        "INSERT INTO {table} ({columns}) SELECT {values} FROM asynchronous"
    ).format(
        table=table_sql(AccessLogEntry),
        columns=sql.SQL(", ").join(column_sql(AccessLogEntry, name) for name in _FIELDS),
        values=sql.SQL(", ").join(casts),
    )
    return render(statement)


def insert_access_entry(**values) -> None:
    """One AccessLogEntry (keyword arguments as for AccessLogEntry.objects.create), committed
    without waiting for the WAL flush when the caller is not inside a transaction."""
    entry = AccessLogEntry(**values)
    if not connection.get_autocommit() or connection.in_atomic_block:
        entry.save(force_insert=True)
        return
    params = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in _fields()]
    with connection.cursor() as cursor:
        cursor.execute(_statement(), params)
