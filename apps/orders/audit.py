"""Audit entries for the travellers of orders and services, written by the orders services.

django-auditlog logs the fields of Order and Service itself (apps.orders.apps). Their links to
clients (`travellers`) are logged here instead of by auditlog's m2m receiver, for two reasons:

- auditlog names linked objects by str(), and a client's str() is the full name: personal data in
  plaintext in the audit log. Here a client is named by id only («клиент #12»);
- auditlog's receiver re-reads the linked clients (a query per change) and a new service would get
  two entries (created, then travellers added). A new order or service gets one CREATE entry with
  its fields and its travellers.

Entries keep auditlog's own m2m shape, `{"travellers": {"type": "m2m", "operation": "add" |
"delete", "objects": [...]}}`, so the admin's log view shows them like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.db import models

from apps.orders import queries

FIELD = "travellers"


def client_labels(client_ids: Iterable[int]) -> list[str]:
    return [f"клиент #{pk}" for pk in sorted(client_ids)]


def _travellers_change(operation: str, client_ids: Iterable[int]) -> dict:
    return {"type": "m2m", "operation": operation, "objects": client_labels(client_ids)}


def _through(model: type[models.Model] | models.Model):
    """The m2m model of `travellers`, and the names of its owner (order/service) and client fields."""
    field = model._meta.get_field(FIELD)
    return field.remote_field.through, field.m2m_field_name(), field.m2m_reverse_field_name()


def create_with_travellers(instance: models.Model, client_ids: list[int]) -> None:
    """Save a new order or service with its travellers; one CREATE entry records fields and travellers."""
    with disable_auditlog():  # auditlog's post_save entry is replaced by the one below
        instance.save()
    if client_ids:
        queries.travellers_link(instance, client_ids)
    changes = model_instance_diff(None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES) or {}
    if client_ids:
        changes[FIELD] = _travellers_change("add", client_ids)
    LogEntry.objects.log_create(instance, action=LogEntry.Action.CREATE, changes=changes, force_log=True)


def set_travellers(instance: models.Model, client_ids: Iterable[int], current: Iterable[int]) -> None:
    """Make the travellers of a saved order or service `client_ids` (now `current`); log what changed."""
    wanted, current = set(client_ids), set(current)
    added, removed = wanted - current, current - wanted
    through, owner, client = _through(instance)
    if removed:
        through.objects.filter(**{f"{owner}_id": instance.pk, f"{client}_id__in": removed}).delete()
        LogEntry.objects.log_create(
            instance, action=LogEntry.Action.UPDATE, changes={FIELD: _travellers_change("delete", removed)}
        )
    if added:
        queries.travellers_link(instance, sorted(added))
        LogEntry.objects.log_create(
            instance, action=LogEntry.Action.UPDATE, changes={FIELD: _travellers_change("add", added)}
        )
