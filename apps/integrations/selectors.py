"""Reads of the integrations app."""

from django.db import connection
from django.db.models import QuerySet

from apps.core.rows import instance_from_row, model_columns
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
    table = connection.ops.quote_name(IntegrationSettings._meta.db_table)
    with connection.cursor() as cursor:
        # Identifiers from the model's metadata, quoted; every value is a parameter.
        cursor.execute(
            f"SELECT {model_columns(IntegrationSettings)} FROM {table} WHERE id = %s AND type = %s AND is_active",  # noqa: S608
            [pk, str(integration_type)],
        )
        row = cursor.fetchone()
    return None if row is None else instance_from_row(IntegrationSettings, row)
