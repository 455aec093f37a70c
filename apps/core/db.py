"""PostgreSQL session settings for the two kinds of queries that must not share one plan or one limit.

- **Plans that fit the parameters.** With server-side binding (DB_PREPARED_STATEMENTS) psycopg
  prepares a query after 5 runs on a connection, and PostgreSQL may then switch to a generic plan
  cached for every later argument. For the hot lookups that is the point; for reports, whose best
  plan depends on the period and filters, a generic plan was 100× slower (the clients report went
  from 0.1 s to 11–25 s at a million orders). `custom_plans()` makes one transaction plan every
  statement for its arguments and gives it more `work_mem` for its sorts and hashes.
- **Searches are planned for their words.** `unprepared()` runs a block's statements without
  server-side preparation (psycopg's `prepare_threshold = None`): each is planned for its own
  arguments, like a custom plan, while the rest of the connection keeps its prepared statements.
  A name search after five runs on one connection had switched to a generic plan of
  `search_name LIKE $1 AND search_name LIKE $2 ORDER BY id DESC LIMIT 51` — a bitmap heap scan
  of every candidate (32 000 pages, 490 ms at a million clients) instead of walking the primary key
  backwards until 51 match (12 ms for «семенов ив»). The pagination uses it for `?search=`, the
  admin's change lists for `?q=`.
- **No runaway query holds a web worker.** `enable_statement_timeout()` (called by the WSGI entry
  point only, so management commands and background workers are not limited) sets
  `statement_timeout` on every new web connection; a query past it is cancelled by PostgreSQL and
  the request answers 503 `query_timeout` (`is_query_timeout`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.backends.signals import connection_created

from apps.core import queries


@contextmanager
def custom_plans(*, work_mem: str | None = None, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """One transaction whose statements are planned for their own arguments (never a cached
    generic plan), with `work_mem` (default settings.REPORT_WORK_MEM) for its sorts and hashes."""
    with transaction.atomic(using=using):
        queries.set_config(
            connections[using],
            {"plan_cache_mode": "force_custom_plan", "work_mem": work_mem or settings.REPORT_WORK_MEM},
            local=True,  # SET LOCAL: it ends with this transaction
        )
        yield


@contextmanager
def unprepared(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Statements run in this block are not prepared on the server, so PostgreSQL plans each for its
    own arguments (an unnamed statement); already prepared ones run unprepared too. No round trip:
    psycopg's switch lives in the client. Without server-side binding (DB_PREPARED_STATEMENTS off)
    nothing is prepared anyway and this does nothing."""
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    previous = getattr(raw, "prepare_threshold", None)
    if previous is None:
        yield
        return
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = previous


def enable_statement_timeout() -> None:
    """Every new connection of this (web) process gets settings.API_STATEMENT_TIMEOUT_MS."""
    if settings.API_STATEMENT_TIMEOUT_MS > 0:
        connection_created.connect(_set_statement_timeout, dispatch_uid="travelcrm-statement-timeout")


def _set_statement_timeout(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql":
        return
    queries.set_config(connection, {"statement_timeout": f"{settings.API_STATEMENT_TIMEOUT_MS}ms"}, local=False)


def is_write_conflict(error: BaseException) -> bool:
    """PostgreSQL aborted the transaction to break a deadlock (or a serialization failure): two
    requests wrote the same rows in opposite order — e.g. the report summaries' day rows that the
    finance triggers update. Nothing was saved; repeating the action succeeds."""
    conflicts = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
    return isinstance(error, OperationalError) and isinstance(error.__cause__, conflicts)


def is_query_timeout(error: BaseException) -> bool:
    """A statement PostgreSQL cancelled (statement_timeout), as Django raises it."""
    return isinstance(error, OperationalError) and isinstance(error.__cause__, psycopg.errors.QueryCanceled)
