"""Hand-written SQL of the clients app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

Kept where a benchmark needs it (BENCHMARKS.md, issue 13): the client list page (each client's
live contacts and documents as one JSON column instead of two prefetch queries building model
instances) and the CSV import's reads of who holds a blind index. Identifiers come from the
models' metadata, values are placeholders. Tested against their ORM equivalents in
apps/clients/tests/test_queries.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection
from django.db.models import Model, TextField
from django.db.models.expressions import RawSQL
from psycopg import sql

from apps.clients.models import Client, ClientContact, ClientPassport, Consent
from apps.clients.normalization import EMAIL, PHONE, TELEGRAM, WHATSAPP
from apps.core.rows import column_sql, columns_sql, instance_from_row, render, table_sql

# (columns, ORDER BY) of each child as the list shows it; "-name" sorts descending.
CONTACT_COLUMNS = ("id", "kind", "value", "is_primary", "created_at")
CONTACT_ORDER = ("kind", "-is_primary", "id")
PASSPORT_COLUMNS = ("id", "kind", "series", "number", "issue_date", "expiry_date", "issued_by", "is_active")
PASSPORT_ORDER = ("-is_active", "-issue_date", "id")


def _order_by(model: type[Model], names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("{} DESC").format(column_sql(model, name[1:], "child"))
        if name.startswith("-")
        else column_sql(model, name, "child")
        for name in names
    )


def children_json(model: type[Model], columns: Sequence[str], order: Sequence[str]) -> RawSQL:
    """An annotation: the client's live (not archived) rows of `model` as a JSON array of arrays
    (text), the same rows and order as model.objects.filter(client=..., is_archived=False)
    .order_by(*order).values_list(*columns); encrypted values stay encrypted."""
    statement = sql.SQL(
        "(SELECT coalesce(json_agg(json_build_array({columns}) ORDER BY {order}), '[]')::text "
        "FROM {table} child WHERE {client} = {outer} AND NOT {archived})"
    ).format(
        columns=sql.SQL(", ").join(column_sql(model, name, "child") for name in columns),
        order=_order_by(model, order),
        table=table_sql(model),
        client=column_sql(model, "client", "child"),
        outer=sql.Identifier(Client._meta.db_table, str(Client._meta.pk.column)),
        archived=column_sql(model, "is_archived", "child"),
    )
    return RawSQL(render(statement), [], output_field=TextField())  # noqa: S611 — identifiers only, composed above


def contacts_json() -> RawSQL:
    return children_json(ClientContact, CONTACT_COLUMNS, CONTACT_ORDER)


def passports_json() -> RawSQL:
    return children_json(ClientPassport, PASSPORT_COLUMNS, PASSPORT_ORDER)


# --- Who holds a blind index (the CSV import) ---------------------------------------------------
# Contacts carry `blind_index`, documents `number_index`; both namespaced by kind.
_INDEXED = ((ClientContact, "blind_index"), (ClientPassport, "number_index"))


_ALL = sql.SQL("TRUE")


def _live_indexes(model: type[Model], index: str, where: sql.Composable = _ALL) -> sql.Composed:
    return sql.SQL("SELECT {index}, {client} FROM {table} WHERE {where} AND NOT {archived}").format(
        index=column_sql(model, index),
        client=column_sql(model, "client"),
        table=table_sql(model),
        where=where,
        archived=column_sql(model, "is_archived"),
    )


def index_owners_all(chunk_size: int = 50_000) -> Iterator[list[tuple[str, int]]]:
    """Every live (blind index, client id) of contacts and documents, in chunks (a plain cursor:
    no model rows, no full result list in memory)."""
    statement = render(sql.SQL(" UNION ALL ").join(_live_indexes(model, index) for model, index in _INDEXED))
    with connection.cursor() as cursor:
        cursor.execute(statement)
        while chunk := cursor.fetchmany(chunk_size):
            yield chunk


def index_owners(model: type[Model], indexes: list[str]) -> list[tuple[str, int]]:
    """(index, client id) of the live rows of `model` (ClientContact or ClientPassport) holding one
    of `indexes`: one array parameter instead of thousands of IN placeholders."""
    index = dict(_INDEXED)[model]
    where = sql.SQL("{} = ANY(%s)").format(column_sql(model, index))
    with connection.cursor() as cursor:
        cursor.execute(render(_live_indexes(model, index, where)), [indexes])
        return cursor.fetchall()


# --- Bulk insert (the CSV import) ---------------------------------------------------------------


def serial_ids(model: type[Model], count: int) -> list[int]:
    """`count` fresh primary keys from the table's own sequence (for rows inserted by COPY)."""
    opts = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [opts.db_table, opts.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_in(model: type[Model], fields: list, rows: Iterable[Sequence]) -> None:
    """COPY `rows` (tuples of Python values in `fields` order) into the model's table.

    psycopg's write_row turns each value into COPY's format (escaping, NULL, dates) — no text of our own.
    """
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=table_sql(model), columns=sql.SQL(", ").join(sql.Identifier(field.column) for field in fields)
    )
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(render(statement)) as copy:
        for row in rows:
            copy.write_row(row)


# --- Consents (152-FZ): asked once per new lead from a messenger or e-mail -----------------------


@functools.cache
def _consent_active_statement() -> str:
    return render(
        sql.SQL(
            "SELECT EXISTS (SELECT 1 FROM {table} WHERE {withdrawn} IS NULL AND "
            "({lead} = %s OR {client} = %s OR ({kind} = %s AND {index} = ANY(%s))))"
        ).format(
            table=table_sql(Consent),
            withdrawn=column_sql(Consent, "withdrawn_at"),
            lead=column_sql(Consent, "lead_id"),
            client=column_sql(Consent, "client"),
            kind=column_sql(Consent, "subject_kind"),
            index=column_sql(Consent, "subject_index"),
        )
    )


def consent_active_exists(
    *, lead_id: int | None, client_id: int | None, subject_kind: str = "", subject_indexes: Sequence[str] = ()
) -> bool:
    """An active (not withdrawn) consent of the lead, of the client, or of the subject's blind
    indexes: Consent.objects.filter(Q(lead_id=…) | Q(client_id=…) | Q(subject_kind=…,
    subject_index__in=…), withdrawn_at__isnull=True).exists() in one statement built once
    (each branch has its own index: a bitmap OR, never a scan of the registry)."""
    indexes = list(subject_indexes) if subject_kind else []
    with connection.cursor() as cursor:
        cursor.execute(_consent_active_statement(), [lead_id, client_id, subject_kind, indexes])
        return bool(cursor.fetchone()[0])


# --- The client of an incoming message's sender (every Telegram / WhatsApp / e-mail message) -----


@functools.cache
def _clients_by_contact_indexes_statement() -> str:
    return render(
        sql.SQL(
            "SELECT {columns} FROM {clients} AS c WHERE NOT {deleted} AND {id} IN ("
            "SELECT {client} FROM {contacts} AS cc WHERE NOT {archived} AND ("
            "({kind} = ANY(%s) AND {index} = ANY(%s)) OR ({kind} = %s AND {index} = ANY(%s)) "
            "OR ({kind} = %s AND {index} = ANY(%s)))) ORDER BY {id} LIMIT %s"
        ).format(
            columns=columns_sql(Client, "c"),
            clients=table_sql(Client),
            deleted=column_sql(Client, "is_deleted", "c"),
            id=column_sql(Client, "id", "c"),
            client=column_sql(ClientContact, "client", "cc"),
            contacts=table_sql(ClientContact),
            archived=column_sql(ClientContact, "is_archived", "cc"),
            kind=column_sql(ClientContact, "kind", "cc"),
            index=column_sql(ClientContact, "blind_index", "cc"),
        )
    )


def clients_by_contact_indexes(
    *, phone_indexes: Sequence[str] = (), email_indexes: Sequence[str] = (), telegram_indexes: Sequence[str] = (),
    limit: int = 2,
) -> list[Client]:
    """Live clients with a live contact of these blind indexes (a phone index matches phone and
    WhatsApp contacts), by id, at most `limit` — what selectors.clients_by_contacts' queryset gives,
    in one statement built once."""
    with connection.cursor() as cursor:
        cursor.execute(
            _clients_by_contact_indexes_statement(),
            [[PHONE, WHATSAPP], list(phone_indexes), EMAIL, list(email_indexes), TELEGRAM, list(telegram_indexes),
             limit],
        )
        rows = cursor.fetchall()
    return [instance_from_row(Client, row) for row in rows]
