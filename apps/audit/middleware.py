"""Per-request audit: the personal-data access log (one row) and the export events.

- Views note what they show (apps.core.access); this middleware writes the notes of a request as
  one AccessLogEntry after the view — one insert per request, not per field or row.
- Every successful response served as a file to save (Content-Disposition: attachment — report
  CSV/XLSX, 1C file, client export, documents) is an "export" event in the audit log with its
  filters, caught here so that no export door is missed.
"""

from apps.audit.models import AccessLogEntry
from apps.audit.queries import insert_access_entry
from apps.core.access import collecting_access
from apps.core.auditing import audit_event
from travelcrm.logging import current_request_id, scrub

# Filter values that are personal data themselves: recorded as present, never as the value.
HIDDEN_FILTERS = {"phone", "email", "passport", "search", "q", "name", "payer", "inn", "account"}
SKIPPED_FORM_KEYS = {"csrfmiddlewaretoken"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class PersonalDataAccessMiddleware:
    """DRF authenticates JWT users inside the view and sets request.user then, so the user is read
    after the response. Only successful responses count: a 4xx/5xx showed nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with collecting_access() as notes:
            response = self.get_response(request)
        if response.status_code >= 400:
            return response
        user = getattr(request, "user", None)
        user = user if user is not None and user.is_authenticated else None
        is_file = str(response.get("Content-Disposition", "")).startswith("attachment")
        if notes:
            insert_access_entry(  # one statement, its commit does not wait for the WAL flush
                user=user,
                client_ids=sorted(notes.client_ids),
                categories=sorted(notes.categories),
                endpoint=request.path[:300],
                method=request.method,
                channel=notes.channel or ("export" if is_file else ""),
                remote_addr=request.META.get("REMOTE_ADDR") or None,
                request_id=(current_request_id() or "")[:64],
            )
        if is_file and user is not None:
            _export_event(request, response, user)
        return response


def _filters(request) -> dict:
    params = {key: request.GET.getlist(key) for key in request.GET}
    if request.method == "POST" and request.content_type in FORM_TYPES:
        params.update({key: request.POST.getlist(key) for key in request.POST if key not in SKIPPED_FORM_KEYS})
    return {
        key: "[скрыто]" if key in HIDDEN_FILTERS else [scrub(str(value))[:100] for value in values][:200]
        for key, values in params.items()
    }


def _export_event(request, response, user) -> None:
    model = _view_model(request)
    audit_event(
        event="export", model=model, actor=user, repr_text=f"Выгрузка: {request.path}"[:200],
        data={"endpoint": request.path, "filters": _filters(request),
              "content_type": response.get("Content-Type", "")},
    )


def _view_model(request):
    """The model the exporting view is about (its queryset, or the admin's model)."""
    match = getattr(request, "resolver_match", None)
    func = getattr(match, "func", None)
    model_admin = getattr(func, "model_admin", None)
    if model_admin is not None:
        return model_admin.model
    queryset = getattr(getattr(func, "cls", None), "queryset", None)
    if queryset is not None:
        return queryset.model
    return AccessLogEntry
