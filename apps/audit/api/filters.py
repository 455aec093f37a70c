import django_filters
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from apps.audit.labels import ACTION_BY_CODE
from apps.audit.models import AccessLogEntry
from travelcrm.filters import IdFilter


class AuditLogFilter(django_filters.FilterSet):
    user = IdFilter(field_name="actor_id")
    model = django_filters.CharFilter(method="filter_model", help_text="app_label.model, e.g. clients.client")
    object_id = django_filters.CharFilter(field_name="object_pk")
    # Text codes (the model's action is an integer): documented as a string enum, not as integers.
    action = extend_schema_field({"type": "string", "enum": list(ACTION_BY_CODE)})(django_filters.ChoiceFilter(
        choices=[(code, code) for code in ACTION_BY_CODE], method="filter_action",
        help_text="create | update | delete | access",
    ))
    event = django_filters.CharFilter(field_name="additional_data__event", help_text="login, export, anonymize, ...")
    date_from = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__lte")

    class Meta:
        model = LogEntry
        fields = ["user", "model", "object_id", "action", "event", "date_from", "date_to"]

    def filter_model(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        if content_type is None:
            message = "Неизвестная модель. Формат: приложение.модель, например clients.client."
            raise ValidationError({"model": [message]})
        return queryset.filter(content_type=content_type)

    def filter_action(self, queryset, name, value):
        return queryset.filter(action=ACTION_BY_CODE[value])


class AccessLogFilter(django_filters.FilterSet):
    user = IdFilter(field_name="user_id")
    client = IdFilter(method="filter_client")
    date_from = django_filters.DateFilter(field_name="at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AccessLogEntry
        fields = ["user", "client", "date_from", "date_to"]

    def filter_client(self, queryset, name, value):
        return queryset.filter(client_ids__contains=[int(value)])
