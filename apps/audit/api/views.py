"""Read-only audit API for supervisors: the audit log, the access log, destruction acts."""

from auditlog.models import LogEntry
from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.audit import selectors
from apps.audit.api.filters import AccessLogFilter, AuditLogFilter
from apps.audit.api.serializers import AccessEntrySerializer, AuditEntrySerializer, DestructionRecordSerializer
from apps.audit.models import AccessLogEntry, DestructionRecord
from travelcrm.api import BaseReadOnlyViewSet


@extend_schema_view(
    list=extend_schema(tags=["audit"], summary="Audit log: changes and events (filters: user, model, object_id, "
                                               "action, event, date_from, date_to)"),
    retrieve=extend_schema(tags=["audit"], summary="One audit log entry"),
)
class AuditLogViewSet(BaseReadOnlyViewSet):
    """Model changes (create / update / delete) and events (logins, exports, subject requests)."""

    queryset = LogEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditLogFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.audit_log_queryset()


@extend_schema_view(
    list=extend_schema(tags=["audit"], summary="Personal-data access log (filters: user, client, date_from, date_to)"),
    retrieve=extend_schema(tags=["audit"], summary="One access log entry"),
)
class AccessLogViewSet(BaseReadOnlyViewSet):
    """Who saw which clients' unmasked personal data, through which endpoint, when, from where."""

    queryset = AccessLogEntry.objects.all()
    serializer_class = AccessEntrySerializer
    filterset_class = AccessLogFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.access_log_queryset()


@extend_schema_view(
    list=extend_schema(tags=["audit"], summary="Acts of destruction of personal data"),
    retrieve=extend_schema(tags=["audit"], summary="One act"),
)
class DestructionRecordViewSet(BaseReadOnlyViewSet):
    queryset = DestructionRecord.objects.all()
    serializer_class = DestructionRecordSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.destruction_records()
