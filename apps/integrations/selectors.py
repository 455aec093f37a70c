"""Reads of the integrations app."""

from django.db.models import QuerySet

from apps.integrations import queries
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

    Every webhook call runs this: apps.integrations.queries gives the instance the ORM would
    (secrets decrypted by their fields) without compiling a queryset per call.
    """
    return queries.integration_active(pk, integration_type)
