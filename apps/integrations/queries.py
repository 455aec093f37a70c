"""Hand-written SQL of the integrations app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

Kept because the Telegram webhook benchmark needs it (BENCHMARKS.md, issue 13): every incoming
update runs these. Identifiers come from the models' metadata, values are placeholders, each text
is rendered once. Tested against their ORM equivalents in apps/integrations/tests/test_queries.py.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, LiteralString

from django.db import connection, transaction
from psycopg import sql

from apps.core.rows import column_sql, columns_sql, instance_from_row, render, table_sql
from apps.integrations.models import InboxItem, IntegrationSettings, OutboundMessage, OutboundStatus


@functools.cache
def _integration_active_statement() -> str:
    model = IntegrationSettings
    return render(
        sql.SQL("SELECT {columns} FROM {table} WHERE {pk} = %s AND {type} = %s AND {active}").format(
            columns=columns_sql(model),
            table=table_sql(model),
            pk=column_sql(model, "id"),
            type=column_sql(model, "type"),
            active=column_sql(model, "is_active"),
        )
    )


def integration_active(pk: int, integration_type: str) -> IntegrationSettings | None:
    """IntegrationSettings.objects.filter(pk=pk, type=integration_type, is_active=True).first()."""
    with connection.cursor() as cursor:
        cursor.execute(_integration_active_statement(), [pk, str(integration_type)])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(IntegrationSettings, row)


@functools.cache
def _inbox_insert_statement() -> tuple[str, list]:
    fields = [field for field in InboxItem._meta.concrete_fields if not field.primary_key]
    insert = "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING {pk}"
    statement = sql.SQL(insert).format(
        table=table_sql(InboxItem),
        columns=sql.SQL(", ").join([sql.Identifier(str(field.column)) for field in fields]),
        values=sql.SQL(", ").join([sql.Placeholder()] * len(fields)),
        pk=column_sql(InboxItem, "id"),
    )
    return render(statement), fields


def inbox_insert(item: InboxItem) -> int | None:
    """item.save() unless a unique constraint already holds the item (then None): one statement.

    Outside a transaction it commits by itself; inside one, a savepoint keeps a refused insert
    from breaking the caller's transaction.
    """
    statement, fields = _inbox_insert_statement()
    values = [field.get_db_prep_save(getattr(item, field.attname), connection) for field in fields]
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with guard, connection.cursor() as cursor:
        cursor.execute(statement, values)
        row = cursor.fetchone()
    return None if row is None else row[0]


@functools.cache
def _inbox_lock_statement() -> str:
    return render(
        sql.SQL("SELECT {status}, {attempts} FROM {table} WHERE {pk} = %s FOR UPDATE SKIP LOCKED").format(
            status=column_sql(InboxItem, "status"),
            attempts=column_sql(InboxItem, "attempts"),
            table=table_sql(InboxItem),
            pk=column_sql(InboxItem, "id"),
        )
    )


def inbox_lock(item_id: int) -> tuple[str, int] | None:
    """Lock the item's row, skipping it when another process holds it: (status, attempts) or None."""
    with connection.cursor() as cursor:
        cursor.execute(_inbox_lock_statement(), [item_id])
        return cursor.fetchone()


INBOX_DONE_FIELDS = ("status", "attempts", "processed_at", "error", "lead_pk", "lead_number")


@functools.cache
def _inbox_done_statement() -> str:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = %s").format(column_sql(InboxItem, name)) for name in INBOX_DONE_FIELDS
    )
    return render(
        sql.SQL("UPDATE {table} SET {assignments} WHERE {pk} = %s").format(
            table=table_sql(InboxItem), assignments=assignments, pk=column_sql(InboxItem, "id")
        )
    )


def inbox_save_done(item: InboxItem) -> None:
    """What item.save(update_fields=INBOX_DONE_FIELDS) writes, without compiling the UPDATE per item."""
    values: list[Any] = [
        str(item.status), item.attempts, item.processed_at, item.error, item.lead_pk, item.lead_number
    ]
    with connection.cursor() as cursor:
        cursor.execute(_inbox_done_statement(), [*values, item.pk])


# --- The reply job's claim (issue 15: it runs once per reply, on the web server's cores) ----------

OUTBOUND_CLAIM_FIELDS = ("channel", "chat_id", "text", "buttons", "attachments", "meta", "parts_done")


@functools.cache
def _outbound_claim_statement() -> tuple[str, list]:
    message_fields = [OutboundMessage._meta.get_field(name) for name in OUTBOUND_CLAIM_FIELDS]
    statement = sql.SQL(
        "UPDATE {table} AS o SET {status} = %s, {started} = %s, {attempts} = {o_attempts} + 1 "
        "FROM {integrations} AS i WHERE {o_id} = %s AND {o_status} = %s AND {i_id} = {o_integration} "
        "RETURNING {message_columns}, {integration_columns}"
    ).format(
        table=table_sql(OutboundMessage),
        status=column_sql(OutboundMessage, "status"),
        started=column_sql(OutboundMessage, "attempt_started_at"),
        attempts=column_sql(OutboundMessage, "attempts"),
        o_attempts=column_sql(OutboundMessage, "attempts", "o"),
        integrations=table_sql(IntegrationSettings),
        o_id=column_sql(OutboundMessage, "id", "o"),
        o_status=column_sql(OutboundMessage, "status", "o"),
        i_id=column_sql(IntegrationSettings, "id", "i"),
        o_integration=column_sql(OutboundMessage, "integration", "o"),
        message_columns=sql.SQL(", ").join([column_sql(OutboundMessage, name, "o") for name in OUTBOUND_CLAIM_FIELDS]),
        integration_columns=columns_sql(IntegrationSettings, "i"),
    )
    return render(statement), message_fields


def outbound_claim_pending(message_id: int, now) -> tuple[dict, IntegrationSettings] | None:
    """One statement, committed by itself in autocommit: a pending message becomes `sending` (attempts
    + 1, attempt_started_at = now) and comes back with its integration — what

        OutboundMessage.objects.filter(pk=…, status=PENDING).update(status=SENDING, …)
        OutboundMessage.objects.select_related("integration").get(pk=…)

    gave in a transaction and a second query. None when the message is not pending (or gone)."""
    statement, message_fields = _outbound_claim_statement()
    with connection.cursor() as cursor:
        cursor.execute(statement, [OutboundStatus.SENDING, now, message_id, OutboundStatus.PENDING])
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(message_fields)
    return _field_values(message_fields, row[:count]), instance_from_row(IntegrationSettings, row[count:])


def _field_values(fields: list, values) -> dict:
    """{field name: value as the model holds it} (database converters applied: decryption, JSON)."""
    return {
        field.name: field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    }


# --- A reply stored and its job enqueued in one statement (issue 15: the webhook's hot path) ------


@dataclass(frozen=True)
class JobSpec:
    """What Procrastinate's defer writes for a task's job (queue, task name, priority, locks)."""

    queue: str
    task_name: str
    priority: int
    lock: str | None = None
    queueing_lock: str | None = None


def _outbound_insert_then(select: LiteralString) -> tuple[str, list]:
    """`WITH message AS (INSERT … ON CONFLICT DO NOTHING RETURNING id) <select>`: the select runs
    only for a row the INSERT wrote ({pk} is the new id), so an existing key enqueues nothing."""
    fields = [field for field in OutboundMessage._meta.local_concrete_fields if not field.primary_key]
    pk = column_sql(OutboundMessage, "id")
    statement = sql.SQL(
        "WITH message AS (INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING {pk}) "
        "{select}"
    ).format(
        table=table_sql(OutboundMessage),
        columns=sql.SQL(", ").join([sql.Identifier(str(field.column)) for field in fields]),
        values=sql.SQL(", ").join([sql.Placeholder()] * len(fields)),
        pk=pk,
        select=sql.SQL(select).format(pk=pk),
    )
    return render(statement), fields


@functools.cache
def _outbound_insert_deferring_statement() -> tuple[str, list]:
    # procrastinate_defer_jobs_v1 is the function Procrastinate's own defer calls (its queries.sql,
    # "defer_jobs").
    return _outbound_insert_then(
        "SELECT {pk}, procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, %s, %s, %s, "
        "jsonb_build_object('message_id', {pk}), NULL)]::procrastinate_job_to_defer_v1[]) FROM message"
    )


def outbound_insert_deferring(message: OutboundMessage, job: JobSpec) -> int | None:
    """message.save() and `job`'s defer(message_id=<the new id>) in one statement, in the caller's
    transaction — what outbound_enqueue did in two (the INSERT, then Procrastinate's defer_jobs).
    None, and no job, when the message's key is already stored."""
    statement, fields = _outbound_insert_deferring_statement()
    values = [field.get_db_prep_save(field.pre_save(message, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, job.queue, job.task_name, job.priority, job.lock, job.queueing_lock])
        row = cursor.fetchone()
    return None if row is None else row[0]


# --- Whether a new-lead notice could be sent at all (once per new lead) ---------------------------


@functools.cache
def _notices_possible_statement() -> str:
    from apps.accounts.models import User

    return render(
        sql.SQL(
            "SELECT EXISTS (SELECT 1 FROM {integrations} WHERE {type} = %s AND {purpose} = %s AND {active}) "
            "AND EXISTS (SELECT 1 FROM {users} WHERE {user_active} AND {chat_id} <> '')"
        ).format(
            integrations=table_sql(IntegrationSettings),
            type=column_sql(IntegrationSettings, "type"),
            purpose=column_sql(IntegrationSettings, "purpose"),
            active=column_sql(IntegrationSettings, "is_active"),
            users=table_sql(User),
            user_active=column_sql(User, "is_active"),
            chat_id=column_sql(User, "telegram_chat_id"),
        )
    )


def notices_possible(integration_type: str, purpose: str) -> bool:
    """An active bot of this type and purpose exists and so does an active user with a Telegram chat
    id — what

        IntegrationSettings.objects.filter(Exists(User.objects.filter(is_active=True)
            .exclude(telegram_chat_id="")), type=…, purpose=…, is_active=True).exists()

    answers, without compiling two querysets for every new lead."""
    with connection.cursor() as cursor:
        cursor.execute(_notices_possible_statement(), [str(integration_type), str(purpose)])
        return bool(cursor.fetchone()[0])


# --- The replies drain (apps/integrations/drain.py): a text reply stored with a drain job --------
# Held shared by every transaction that stores a drained reply, from its INSERT to its commit; the
# drain finishes only when it can take it exclusively, i.e. when no reply it might have skipped is
# still uncommitted (see drain.py). An arbitrary constant: no other advisory lock uses it.
DRAIN_BARRIER_KEY = 7_115_001


@functools.cache
def _outbound_insert_draining_statement() -> tuple[str, list]:
    # integrations_defer_reply_drain (migration 0006): the barrier lock, then — only when none is
    # waiting — the drain job.
    return _outbound_insert_then("SELECT {pk}, integrations_defer_reply_drain(%s, %s, %s, %s, %s, %s) FROM message")


def outbound_insert_draining(message: OutboundMessage, drain: JobSpec) -> int | None:
    """message.save() and, unless a drain job is already waiting, the drain job's defer — one
    statement in the caller's transaction. `drain` must have a queueing_lock. None, and nothing
    enqueued, when the message's key is already stored."""
    statement, fields = _outbound_insert_draining_statement()
    values = [field.get_db_prep_save(field.pre_save(message, add=True), connection) for field in fields]
    job: list[Any] = [DRAIN_BARRIER_KEY, drain.queue, drain.task_name, drain.priority, drain.lock, drain.queueing_lock]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *job])
        row = cursor.fetchone()
    return None if row is None else row[0]


# The drain's own statements run on the worker's asynchronous connection pool (Procrastinate's
# connector, named %(placeholders)s), not through Django's thread: no hop per statement.
DRAIN_MESSAGE_FIELDS = ("id", "chat_id", "text", "buttons", "parts_done")


def _as_django_reads(field: Any, alias: str, name: str) -> sql.Composed:
    """A column as Django's connection returns it: JSON as text (its fields parse it themselves;
    the pool's psycopg would hand over parsed objects)."""
    cast = "::text" if field.db_type(connection) in ("jsonb", "json") else ""
    return sql.SQL("{}" + cast + " AS {}").format(sql.Identifier(alias, field.column), sql.Identifier(name))


def _drain_message_fields() -> list[Any]:
    return [OutboundMessage._meta.get_field(name) for name in DRAIN_MESSAGE_FIELDS]


def _integration_aliases(alias: str) -> sql.Composed:
    return sql.SQL(", ").join(
        [_as_django_reads(field, alias, f"i__{field.column}") for field in IntegrationSettings._meta.concrete_fields]
    )


def _outbound(name: str, alias: str | None = None) -> sql.Identifier:
    return column_sql(OutboundMessage, name, alias)


@functools.cache
def drain_claim_statement() -> str:
    """Up to %(limit)s waiting drained replies become `sending` (attempts + 1, this drain job's id),
    oldest first, skipping rows another drain holds; with what sending them needs."""
    # The picked rows in a MATERIALIZED CTE: run once. As `o.id IN (SELECT … LIMIT n)` the planner
    # may re-run the subquery per row (a nested loop) and claim more than n.
    return render(sql.SQL(
        "WITH picked AS MATERIALIZED (SELECT {id} FROM {table} WHERE {by_drain} AND {status} = 'pending' "
        "ORDER BY {id} LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
        "UPDATE {table} AS o SET {status} = 'sending', {started} = now(), {attempts} = {o_attempts} + 1, "
        "{job} = %(job)s FROM picked, {integrations} AS i "
        "WHERE {o_id} = picked.{id} AND {o_status} = 'pending' AND {i_id} = {o_integration} "
        "RETURNING {message_columns}, {integration_columns}"
    ).format(
        table=table_sql(OutboundMessage), integrations=table_sql(IntegrationSettings),
        status=_outbound("status"), started=_outbound("attempt_started_at"), attempts=_outbound("attempts"),
        o_attempts=_outbound("attempts", "o"), job=_outbound("drain_job_id"), o_id=_outbound("id", "o"),
        id=_outbound("id"), by_drain=_outbound("by_drain"), o_status=_outbound("status", "o"),
        i_id=column_sql(IntegrationSettings, "id", "i"), o_integration=_outbound("integration", "o"),
        message_columns=sql.SQL(", ").join(
            [_as_django_reads(field, "o", field.column) for field in _drain_message_fields()]),
        integration_columns=_integration_aliases("i"),
    ))


def drain_claimed(row: dict) -> tuple[dict, IntegrationSettings]:
    """A row of drain_claim_statement(): the message's fields (decrypted) and its integration."""
    fields = _drain_message_fields()
    columns = [row[f"i__{field.column}"] for field in IntegrationSettings._meta.concrete_fields]
    message = _field_values(fields, [row[field.column] for field in fields])
    return message, instance_from_row(IntegrationSettings, columns)


@functools.cache
def drain_sent_statement() -> str:
    """Every message of %(ids)s sent, with its external id of %(external_ids)s (a slow attempt that
    answers after it was given up as unconfirmed still wins, as in outbound_mark_sent)."""
    return render(sql.SQL(
        "UPDATE {table} AS o SET {status} = 'sent', {sent_at} = now(), {external_id} = v.external_id, "
        "{error} = '' FROM unnest(%(ids)s::bigint[], %(external_ids)s::text[]) AS v(id, external_id) "
        "WHERE {o_id} = v.id AND {o_status} IN ('sending', 'unconfirmed')"
    ).format(
        table=table_sql(OutboundMessage), status=_outbound("status"), sent_at=_outbound("sent_at"),
        external_id=_outbound("external_id"), error=_outbound("error"), o_id=_outbound("id", "o"),
        o_status=_outbound("status", "o"),
    ))


@functools.cache
def drain_settle_statement() -> str:
    """An attempt that ended without delivery: the message becomes %(status)s (failed, unconfirmed)."""
    return render(sql.SQL(
        "UPDATE {table} SET {status} = %(status)s, {error} = %(error)s WHERE {id} = %(id)s AND {status} = 'sending'"
    ).format(table=table_sql(OutboundMessage), status=_outbound("status"), error=_outbound("error"),
             id=_outbound("id")))


@functools.cache
def drain_hand_over_statement() -> str:
    """The drain's attempt delivered nothing: the message leaves the drain (pending, its own
    send_outbound job scheduled %(delay)s seconds from now) — one statement, so it is never left
    pending without a job."""
    return render(sql.SQL(
        "WITH released AS (UPDATE {table} SET {status} = 'pending', {by_drain} = false, {error} = %(error)s "
        "WHERE {id} = %(id)s AND {status} = 'sending' RETURNING {id}) "
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%(queue)s, %(task)s, %(priority)s, %(lock)s, "
        "%(queueing_lock)s, jsonb_build_object('message_id', {id}), "
        "now() + make_interval(secs => %(delay)s))]::procrastinate_job_to_defer_v1[]) FROM released"
    ).format(table=table_sql(OutboundMessage), status=_outbound("status"), by_drain=_outbound("by_drain"),
             error=_outbound("error"), id=_outbound("id")))


@functools.cache
def drain_sweep_statement() -> str:
    """Drained messages left `sending` by a dead attempt — of this drain job's earlier run (a job
    starts with none of its own), or of a drain job that is no longer running — become unconfirmed."""
    return render(sql.SQL(
        "UPDATE {table} AS o SET {status} = 'unconfirmed', {error} = %(error)s "
        "WHERE {o_status} = 'sending' AND {o_by_drain} AND ({o_job} = %(job)s OR NOT EXISTS ("
        "SELECT 1 FROM procrastinate_jobs AS j WHERE j.id = {o_job} AND j.status = 'doing')) RETURNING {o_id}"
    ).format(table=table_sql(OutboundMessage), status=_outbound("status"), error=_outbound("error"),
             o_status=_outbound("status", "o"), o_by_drain=_outbound("by_drain", "o"),
             o_job=_outbound("drain_job_id", "o"), o_id=_outbound("id", "o")))


# Whether no request holds the barrier now: taken and let go within the statement, so a worker
# descheduled between its statement and its COMMIT never holds the requests up.
DRAIN_BARRIER_FREE = (
    "SELECT CASE WHEN pg_try_advisory_lock(%(key)s::bigint) THEN pg_advisory_unlock(%(key)s::bigint) "
    "ELSE false END AS free"
)

# A fresh drain job, unless one is already waiting (the drain that ran its time hands over): the
# function a request's INSERT calls (migration 0006), so the job row is written in one place.
DRAIN_FOLLOW_UP = (
    "SELECT integrations_defer_reply_drain(%(barrier)s, %(queue)s, %(task)s, %(priority)s, %(lock)s, "
    "%(queueing_lock)s)"
)
