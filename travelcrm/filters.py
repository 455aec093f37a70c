"""The API's django-filter backend, named in settings.REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"].

Kept apart from travelcrm/api.py for the same reason as travelcrm/permissions.py: DRF imports
the default backends while rest_framework.generics is loading.
"""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request has no parameter its filterset reads.

    Building a FilterSet costs about a millisecond per request (a deep copy of every filter, a
    form class with a field and a label per filter, form validation) — more than the rest of a
    list request's Python work on the busiest pages — and with no filter parameter it filters
    nothing. A parameter "belongs" to a filter when its name starts with the filter's name, which
    also covers the suffixed names of range widgets (`created_after`, `amount_min`, ...).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not _reads_any(filterset_class, request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _reads_any(filterset_class, params) -> bool:
    names = tuple(filterset_class.base_filters)
    return any(param.startswith(names) for param in params)


# --- Strict filters ----------------------------------------------------------------------------------
# django-filter's NumberFilter takes 1.5 for an id and BooleanFilter ignores «maybe» (the whole list
# comes back); the schema says integer / boolean, so such a value is a 400 like any other bad input.

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number from 1."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class _StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise forms.ValidationError("Ожидается true или false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    """true / false (1 / 0); anything else is refused."""

    field_class = _StrictBooleanField
