"""Retention of personal data (152-FZ): what is past its term is removed, category by category.

Terms in days come from settings.PERSONAL_DATA_RETENTION_DAYS (env RETENTION_*_DAYS); 0 keeps a
category forever. `manage.py purge_personal_data [--dry-run]` and the daily job call
`retention_purge`; running it again the same day finds nothing more (idempotent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AccessLogEntry
from apps.clients.models import Consent
from apps.core.auditing import audit_event
from apps.core.erasure import retention_purgers, run_subject_erasers
from apps.core.storage import keys_older_than
from apps.leads.models import Lead, LeadAttachment, LeadStatus

LABELS = {
    "inbox_payloads": "исходные входящие сообщения (после обработки)",
    "rejected_leads": "отклонённые заявки (со спамом)",
    "import_files": "брошенные файлы импорта клиентов",
    "reply_files": "брошенные файлы ответов клиентам (ответ не сохранён)",
    "lockout_records": "записи о неудачных входах и блокировках",
    "access_log": "журнал доступа к персональным данным",
}
IMPORT_PREFIX = "imports/pending/"


@dataclass
class PurgeLine:
    category: str
    label: str
    days: int
    count: int


def _before(days: int, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=days)


def retention_purge(*, dry_run: bool = False, now: dt.datetime | None = None) -> list[PurgeLine]:
    now = now or timezone.now()
    terms = settings.PERSONAL_DATA_RETENTION_DAYS
    lines = []
    own = {
        "rejected_leads": _purge_rejected_leads,
        "import_files": _purge_import_files,
        "lockout_records": _purge_lockouts,
        "access_log": _purge_access_log,
    }
    registered = {name: func for name, (_setting, func) in retention_purgers().items()}
    for category, func in {**registered, **own}.items():
        days = int(terms.get(category, 0))
        if days <= 0:
            continue
        with transaction.atomic():
            count = func(before=_before(days, now), dry_run=dry_run)
        lines.append(PurgeLine(category, LABELS.get(category, category), days, count))
    if not dry_run and any(line.count for line in lines):
        audit_event(event="retention_purge", model=AccessLogEntry, repr_text="Удаление по срокам хранения",
                    data={line.category: line.count for line in lines})
    return lines


def _purge_rejected_leads(*, before, dry_run: bool) -> int:
    """Rejected leads closed before the term and never tied to a client, with their messages, files,
    raw payloads and the consents their senders gave for them alone."""
    leads = Lead.objects.filter(status=LeadStatus.REJECTED, closed_at__lt=before, client__isnull=True,
                                order__isnull=True)
    lead_ids = list(leads.values_list("pk", flat=True))
    if dry_run or not lead_ids:
        return len(lead_ids)
    keys = [k for k in LeadAttachment.objects.filter(lead_id__in=lead_ids).values_list("file", flat=True) if k]
    run_subject_erasers(client_id=0, lead_ids=lead_ids)
    Consent.objects.filter(lead_id__in=lead_ids, client__isnull=True).delete()
    Lead.objects.filter(pk__in=lead_ids).delete()
    transaction.on_commit(lambda: [default_storage.delete(key) for key in keys])
    return len(lead_ids)


def _purge_import_files(*, before, dry_run: bool) -> int:
    """CSV files of admin imports never confirmed (they hold passports) — by their age in storage."""
    stale = keys_older_than(IMPORT_PREFIX, before)
    if not dry_run:
        for key in stale:
            default_storage.delete(key)
    return len(stale)


def _purge_lockouts(*, before, dry_run: bool) -> int:
    attempts = AccessAttempt.objects.filter(attempt_time__lt=before)
    failures = AccessFailureLog.objects.filter(attempt_time__lt=before)
    if dry_run:
        return attempts.count() + failures.count()
    return attempts.delete()[0] + failures.delete()[0]


def _purge_access_log(*, before, dry_run: bool) -> int:
    entries = AccessLogEntry.objects.filter(at__lt=before)
    return entries.count() if dry_run else entries.delete()[0]
