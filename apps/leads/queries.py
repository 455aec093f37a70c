"""Hand-written SQL of the leads app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

Kept because the Telegram webhook benchmark needs it (BENCHMARKS.md, issue 13): every incoming
message runs these lookups, and compiling a queryset cost the webhook more CPU than the indexed
lookup itself. Identifiers come from the models' metadata, values are placeholders. Tested against
their ORM equivalents in apps/leads/tests/test_queries.py.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection
from psycopg import sql

from apps.core.rows import (
    column_sql,
    columns_sql,
    instance_from_row,
    placeholders,
    render,
    require_transaction,
    table_sql,
)
from apps.leads.models import OPEN_STATUSES, Lead, LeadMessage


@functools.cache
def _message_id_statement() -> str:
    return render(
        sql.SQL("SELECT {pk} FROM {table} WHERE {channel} = %s AND {external_id} = %s").format(
            pk=column_sql(LeadMessage, "id"),
            table=table_sql(LeadMessage),
            channel=column_sql(LeadMessage, "channel"),
            external_id=column_sql(LeadMessage, "external_id"),
        )
    )


def message_id_taken(channel: str, external_id: str) -> int | None:
    """LeadMessage.objects.filter(channel=, external_id=).values_list("id", flat=True).first().

    The equality implies `external_id IS NOT NULL`: the partial unique index answers.
    """
    with connection.cursor() as cursor:
        cursor.execute(_message_id_statement(), [channel, external_id])
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _open_lead_statement(shape: tuple[tuple[str, int], ...]) -> str:
    """The statement for terms of that shape: ((field name, number of values), ...)."""
    conditions = sql.SQL(" OR ").join(
        sql.SQL("{} IN ({})").format(column_sql(Lead, name), placeholders(count)) for name, count in shape
    )
    return render(
        sql.SQL(
            "SELECT {columns} FROM {table} WHERE ({conditions}) AND {status} IN ({statuses}) "
            "ORDER BY {created_at} DESC, {pk} DESC LIMIT 1 FOR UPDATE"
        ).format(
            columns=columns_sql(Lead),
            table=table_sql(Lead),
            conditions=conditions,
            status=column_sql(Lead, "status"),
            statuses=placeholders(len(OPEN_STATUSES)),
            created_at=column_sql(Lead, "created_at"),
            pk=column_sql(Lead, "id"),
        )
    )


def lead_open_locked(terms: Sequence[tuple[str, Sequence[str]]]) -> Lead | None:
    """Lead.objects.select_for_update().filter(<any term>, status__in=OPEN_STATUSES)
    .order_by("-created_at", "-id").first(); terms are (field name, values) pairs, any one matching."""
    require_transaction()
    if not terms:  # nothing to match: no statement (an empty OR would be invalid SQL)
        return None
    shape = tuple((name, len(values)) for name, values in terms)
    params = [value for _, values in terms for value in values]
    params += [str(status.value) for status in OPEN_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(_open_lead_statement(shape), params)
        row = cursor.fetchone()
    return None if row is None else instance_from_row(Lead, row)


@functools.cache
def _advisory_locks_statement(count: int) -> str:
    return render(sql.SQL("SELECT {}").format(sql.SQL(", ").join([sql.SQL("pg_advisory_xact_lock(%s)")] * count)))


def advisory_locks(keys: Sequence[int]) -> None:
    """Transaction-scoped advisory locks on 64-bit keys, taken in the given order (PostgreSQL
    evaluates a select list left to right). No ORM equivalent."""
    with connection.cursor() as cursor:
        cursor.execute(_advisory_locks_statement(len(keys)), list(keys))
