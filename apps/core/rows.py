"""Model instances from plain SQL rows, for the few hottest lookups that skip the ORM's compilation.

Compiling a queryset costs more CPU than an indexed lookup itself; the webhook's integration and
open-lead lookups and the order lock therefore run one statement built once from the model's
metadata and turn the row into the instance the ORM would give (database converters applied —
e.g. decryption of encrypted fields, JSON). Tests compare each of them with its ORM equivalent.
"""

import functools

from django.db import connection
from django.db.transaction import TransactionManagementError
from psycopg import sql


@functools.cache
def _layout(model) -> tuple[str, list[str], list]:
    fields = model._meta.concrete_fields
    columns = render(columns_sql(model))
    converters = [(index, field) for index, field in enumerate(fields) if hasattr(field, "from_db_value")]
    return columns, [field.attname for field in fields], converters


def model_columns(model) -> str:
    """Every concrete column of the model, quoted, in the order instance_from_row expects."""
    return _layout(model)[0]


def instance_from_row(model, row):
    """The model instance for a row selected with model_columns(model)."""
    _, names, converters = _layout(model)
    values = list(row)
    for index, field in converters:
        values[index] = field.from_db_value(values[index], None, connection)
    return model.from_db(connection.alias, names, values)


def require_transaction() -> None:
    """As the ORM's select_for_update: a row lock must live in a transaction."""
    if connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")


# --- Composing statements -----------------------------------------------------------------------
# Every app's queries.py composes its statements with psycopg.sql: identifiers (tables, columns)
# are sql.Identifier from the model's metadata, values are placeholders; the text is rendered once.


def table_sql(model) -> sql.Identifier:
    """The model's table, quoted."""
    return sql.Identifier(model._meta.db_table)


def column_sql(model, name: str, alias: str | None = None) -> sql.Identifier:
    """A field's column (by field name), quoted, optionally qualified by a table alias."""
    column = model._meta.get_field(name).column
    return sql.Identifier(alias, column) if alias else sql.Identifier(column)


def columns_sql(model, alias: str | None = None) -> sql.Composed:
    """Every concrete column of the model in instance_from_row's order, quoted (and qualified)."""
    names = [field.column for field in model._meta.concrete_fields]
    return sql.SQL(", ").join(sql.Identifier(alias, name) if alias else sql.Identifier(name) for name in names)


def placeholders(count: int) -> sql.Composed:
    """`%s, %s, ...` for an IN (...) list of `count` values."""
    return sql.SQL(", ").join([sql.Placeholder()] * count)


def render(statement: sql.Composable) -> str:
    """The statement's text for Django's cursor (identifiers are quoted without a connection)."""
    return statement.as_string()
