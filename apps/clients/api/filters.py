"""Query filters of the client list: ?phone= ?email= ?passport= by blind index, ?search= by name."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from apps.clients import selectors
from apps.clients.models import Client
from apps.core.personal_data import require_personal_data
from travelcrm.filters import IdFilter

_LOOKUP_NAMES = {"phone": "поиск по телефону", "email": "поиск по e-mail", "passport": "поиск по паспорту"}


class ClientFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(method="filter_phone", label="Phone (any spelling; exact number)")
    email = django_filters.CharFilter(method="filter_email", label="E-mail (exact, case-insensitive)")
    passport = django_filters.CharFilter(method="filter_passport", label="Passport series and number")
    search = django_filters.CharFilter(method="filter_search", label="Name (partial, Cyrillic or Latin)")
    operator = IdFilter(field_name="operator_id")
    citizenship = django_filters.CharFilter(field_name="citizenship", lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Client
        fields: list[str] = []

    def _by(self, function, name, queryset, value):
        # A lookup by an exact value would reveal a masked one to whoever guesses it right.
        require_personal_data(getattr(self.request, "user", None), _LOOKUP_NAMES[name])
        try:
            return function(queryset, value)
        except DjangoValidationError as error:
            raise ValidationError({name: error.messages}) from None

    def filter_phone(self, queryset, name, value):
        return self._by(selectors.filter_by_phone, name, queryset, value)

    def filter_email(self, queryset, name, value):
        return self._by(selectors.filter_by_email, name, queryset, value)

    def filter_passport(self, queryset, name, value):
        return self._by(selectors.filter_by_passport, name, queryset, value)

    def filter_search(self, queryset, name, value):
        return selectors.search_clients(queryset, value)
