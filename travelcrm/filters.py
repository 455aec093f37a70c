"""The API's django-filter backend, named in settings.REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"].

Kept apart from travelcrm/api.py for the same reason as travelcrm/permissions.py: DRF imports
the default backends while rest_framework.generics is loading.
"""

from django_filters.rest_framework import DjangoFilterBackend


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
