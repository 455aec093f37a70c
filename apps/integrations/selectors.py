"""Reads of the integrations app."""

from django.db.models import QuerySet

from apps.integrations.models import IntegrationSettings


def integrations_list() -> QuerySet[IntegrationSettings]:
    return IntegrationSettings.objects.order_by("id")


def integration_get(pk) -> IntegrationSettings | None:
    try:
        return IntegrationSettings.objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None
