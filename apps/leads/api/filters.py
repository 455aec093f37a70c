import django_filters

from apps.leads.models import Lead, LeadSource, LeadStatus
from travelcrm.filters import IdFilter, StrictBooleanFilter


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    operator = IdFilter(field_name="operator_id")
    client = IdFilter(field_name="client_id")
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Создана с")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Создана по")
    unassigned = StrictBooleanFilter(field_name="operator", lookup_expr="isnull", label="Без ответственного")

    class Meta:
        model = Lead
        fields = ["status", "source", "operator", "client", "created_from", "created_to", "unassigned"]
