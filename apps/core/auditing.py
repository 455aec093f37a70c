"""Saving a changed row with the one audit entry django-auditlog would write, without its re-read.

auditlog's own update receiver reads the row again (and decrypts its encrypted fields) to diff it.
Callers that hold the row as it is in the database — read under their own row lock — pass that
copy instead: same entry, one query and the decryption less. Used by the order/service updates and
by appends to a lead.
"""

from auditlog.context import auditlog_disabled, disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings


def save_audited(instance, before, *, update_fields=None) -> None:
    """Save `instance` (all fields, or `update_fields`) and log what changed since `before`.

    Nothing is logged while auditlog is switched off, as with auditlog's own receivers.
    """
    audited = not auditlog_disabled.get()
    with disable_auditlog():
        instance.save(update_fields=update_fields)
    if not audited:
        return
    changes = model_instance_diff(
        before, instance, fields_to_check=update_fields, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
    )
    if changes:
        LogEntry.objects.log_create(instance, action=LogEntry.Action.UPDATE, changes=changes)


def audit_event(*, event: str, target=None, model=None, actor=None, data: dict | None = None, repr_text: str = ""):
    """Write a non-change event (login, export, subject request, ...) to the audit log.

    Stored as auditlog's ACCESS entry with `additional_data = {"event": event, **data}` on the
    target row, or on `model` (a class) when the event concerns no single row (a report export).
    `data` must never hold personal data in plaintext (filters are ids, dates, statuses). The actor
    and address come from auditlog's request context unless `actor` is given.
    """
    from django.contrib.contenttypes.models import ContentType

    model = target.__class__ if target is not None else model  # __class__: a lazy request.user too
    pk = str(target.pk) if target is not None else ""
    kwargs = {"actor": actor} if actor is not None else {}
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_pk=pk,
        object_id=target.pk if target is not None and isinstance(target.pk, int) else None,
        object_repr=repr_text or (str(target) if target is not None else str(model._meta.verbose_name_plural)),
        action=LogEntry.Action.ACCESS,
        changes={},
        additional_data={"event": event, **(data or {})},
        **kwargs,
    )
