"""Reads of the integrations app."""

import functools

from django.db import connection
from django.db.models import QuerySet

from apps.integrations.models import IntegrationSettings


def integrations_list() -> QuerySet[IntegrationSettings]:
    return IntegrationSettings.objects.order_by("id")


def integration_get(pk) -> IntegrationSettings | None:
    try:
        return IntegrationSettings.objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def integration_active(pk: int, integration_type: str) -> IntegrationSettings | None:
    """The active integration of that type (what a webhook call is addressed to), or None.

    Every webhook call runs this: one statement built once from the model instead of a queryset
    compiled per call; the same instance (secrets decrypted by their fields) the ORM would give.
    """
    columns, names, converters = _integration_columns()
    table = connection.ops.quote_name(IntegrationSettings._meta.db_table)
    with connection.cursor() as cursor:
        # Identifiers from the model's metadata, quoted; every value is a parameter.
        cursor.execute(
            f"SELECT {columns} FROM {table} WHERE id = %s AND type = %s AND is_active",  # noqa: S608
            [pk, str(integration_type)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for index, field in converters:
        row[index] = field.from_db_value(row[index], None, connection)
    return IntegrationSettings.from_db(connection.alias, names, row)


@functools.cache
def _integration_columns() -> tuple[str, list[str], list]:
    fields = IntegrationSettings._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    converters = [(index, field) for index, field in enumerate(fields) if hasattr(field, "from_db_value")]
    return columns, [field.attname for field in fields], converters
