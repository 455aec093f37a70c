"""Reads of the audit app: the audit log and the access log for supervisors."""

from auditlog.models import LogEntry
from django.db.models import QuerySet

from apps.audit.models import AccessLogEntry, DestructionRecord


def audit_log_queryset() -> QuerySet[LogEntry]:
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")


def access_log_queryset() -> QuerySet[AccessLogEntry]:
    return AccessLogEntry.objects.select_related("user").order_by("-at", "-id")


def access_log_for_client(client_id: int) -> QuerySet[AccessLogEntry]:
    return access_log_queryset().filter(client_ids__contains=[client_id])


def destruction_records() -> QuerySet[DestructionRecord]:
    return DestructionRecord.objects.select_related("performed_by").order_by("-performed_at", "-id")
