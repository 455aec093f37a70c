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
