"""Model instances from plain SQL rows, for the few hottest lookups that skip the ORM's compilation.

Compiling a queryset costs more CPU than an indexed lookup itself; the webhook's integration and
open-lead lookups and the order lock therefore run one statement built once from the model's
metadata and turn the row into the instance the ORM would give (database converters applied —
e.g. decryption of encrypted fields, JSON). Tests compare each of them with its ORM equivalent.
"""

import functools

from django.db import connection
from django.db.transaction import TransactionManagementError


@functools.cache
def _layout(model) -> tuple[str, list[str], list]:
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
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
