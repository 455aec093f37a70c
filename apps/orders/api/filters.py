"""Filters of the order list: status, client, traveller, operator, deadline range, trip (services) range."""

from datetime import datetime, time

import django_filters
from django.utils import timezone

from apps.orders.models import Order, OrderStatus
from travelcrm.filters import IdFilter


def _day_start(value):
    return timezone.make_aware(datetime.combine(value, time.min))


def _day_end(value):
    return timezone.make_aware(datetime.combine(value, time.max))


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, help_text="Статус (можно несколько).")
    client = IdFilter(field_name="client_id", help_text="Клиент-плательщик.")
    traveller = IdFilter(field_name="travellers", distinct=True, help_text="Турист заказа.")
    operator = IdFilter(field_name="operator_id", help_text="Ответственный менеджер.")
    deadline_from = django_filters.DateFilter(method="filter_deadline_from", help_text="Срок не раньше (дата).")
    deadline_to = django_filters.DateFilter(method="filter_deadline_to", help_text="Срок не позже (дата).")
    services_from = django_filters.DateFilter(
        method="filter_services_from", help_text="Услуги заказа идут в этот день или позже (дата)."
    )
    services_to = django_filters.DateFilter(
        method="filter_services_to", help_text="Услуги заказа начинаются в этот день или раньше (дата)."
    )

    class Meta:
        model = Order
        fields = ["status", "client", "traveller", "operator", "currency"]

    def filter_deadline_from(self, queryset, name, value):
        return queryset.filter(deadline__gte=_day_start(value))

    def filter_deadline_to(self, queryset, name, value):
        return queryset.filter(deadline__lte=_day_end(value))

    def filter_services_from(self, queryset, name, value):
        return queryset.filter(trip_end__gte=_day_start(value))

    def filter_services_to(self, queryset, name, value):
        return queryset.filter(trip_start__lte=_day_end(value))
