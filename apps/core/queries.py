"""Hand-written SQL of apps.core (docs/development.md, "Raw SQL"), composed with psycopg.sql.

Key rotation reads and writes the encrypted columns' tokens as they are stored. Not for speed:
the ORM cannot do it — an encrypted field's converter decrypts what is read, and its
get_db_prep_save encrypts whatever is written, expressions included. Tested in
apps/clients/tests/test_services.py (test_rotate_encryption_keys_command) on real rows.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model
from psycopg import sql

from apps.core.rows import column_sql, render, table_sql


def tokens_locked(model: type[Model], fields: list[str], pks: list) -> list[tuple]:
    """(pk, *tokens) of the rows `pks`, locked FOR UPDATE, the encrypted `fields` as stored."""
    statement = sql.SQL("SELECT {pk}, {columns} FROM {table} WHERE {pk} = ANY(%s) FOR UPDATE").format(
        pk=column_sql(model, model._meta.pk.name),
        columns=sql.SQL(", ").join(column_sql(model, name) for name in fields),
        table=table_sql(model),
    )
    with connection.cursor() as cursor:
        cursor.execute(render(statement), [pks])
        return cursor.fetchall()


def tokens_write(model: type[Model], fields: list[str], pk, tokens: list) -> None:
    """Store `tokens` as they are in the encrypted `fields` of the row `pk`."""
    tokens_write_many(model, fields, [(pk, tokens)])


def tokens_write_many(model: type[Model], fields: list[str], rows: list[tuple]) -> None:
    """tokens_write for many rows [(pk, tokens)]: psycopg pipelines the UPDATEs (executemany), one
    round trip per batch instead of one per row — rotate_encryption_keys over 100 000 clients."""
    statement = sql.SQL("UPDATE {table} SET {assignments} WHERE {pk} = %s").format(
        table=table_sql(model),
        assignments=sql.SQL(", ").join(sql.SQL("{} = %s").format(column_sql(model, name)) for name in fields),
        pk=column_sql(model, model._meta.pk.name),
    )
    with connection.cursor() as cursor:
        cursor.executemany(render(statement), [[*tokens, pk] for pk, tokens in rows])


def set_config(connection, values: dict[str, str], *, local: bool) -> None:
    """PostgreSQL settings of this connection: `SELECT set_config(name, value, is_local), ...`.

    local=True is SET LOCAL (ends with the transaction), False lasts for the session. The names
    are values here (set_config takes text), so they are parameters like the values.
    """
    calls = sql.SQL(", ").join([sql.SQL("set_config(%s, %s, %s)")] * len(values))
    params = [item for name, value in values.items() for item in (name, value, local)]
    with connection.cursor() as cursor:
        cursor.execute(render(sql.SQL("SELECT {}").format(calls)), params)


def advisory_lock_try_any(lock_class: int, slots: int) -> int | None:
    """Take the first free session advisory lock (lock_class, 0..slots-1); its number, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s FROM generate_series(0, %s) AS s WHERE pg_try_advisory_lock(%s, s) LIMIT 1",
            [slots - 1, lock_class],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def advisory_unlock(lock_class: int, key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, key])
