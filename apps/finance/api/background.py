"""Large finance exports as jobs (apps.jobs.exports): the report CSV/XLSX and the 1C file.

Above EXPORT_BACKGROUND_ROWS rows (or with ?background=true) the view answers 202 with a job id and
the worker builds the same file here, reporting rows done / total; the person downloads it from the
progress page (admin «Ход длительных задач») or from `file_url` of GET /api/v1/jobs/{id}/.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.csv_export import csv_lines
from apps.jobs.exports import Export, counted, export_start

REPORT_BUILDER = "apps.finance.api.background.report_export"
ONEC_BUILDER = "apps.finance.api.background.onec_export"


_BACKGROUND_VALUES = {"": False, "0": False, "false": False, "no": False, "off": False,
                      "1": True, "true": True, "yes": True, "on": True}


def background_asked(query) -> bool:
    """?background= of a query string (the API's query_params or the admin's GET) as a boolean;
    anything else (`-58800`) is a ValidationError (a 400), not silently "no"."""
    raw = str(query.get("background", "")).strip().lower()
    if raw not in _BACKGROUND_VALUES:
        raise ValidationError({"background": ["Ожидается логическое значение: true или false."]})
    return _BACKGROUND_VALUES[raw]


def wants_background(request, rows: QuerySet | None = None, count: int | None = None) -> bool:
    """?background=true, or more rows than EXPORT_BACKGROUND_ROWS (counted no further than that)."""
    if background_asked(request.query_params):
        return True
    if count is None:
        return too_many_rows(rows)
    return count > settings.EXPORT_BACKGROUND_ROWS


def started(request, *, builder: str, params: dict, title: str) -> Response:
    progress = export_start(builder=builder, params=params, title=title, actor=request.user)
    url = reverse("job-progress", args=[progress.pk])
    # The answer is JSON whatever file format was asked for (DRF would render it with that renderer).
    request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    return Response({"job_id": progress.pk, "status_url": url}, status=202, headers={"Location": url})


def report_export(*, params: dict, progress) -> Export:
    """params: report, format (csv / xlsx), query (the request's report filters, as given)."""
    from apps.finance.reports import REPORTS

    rows = report_rows(params["report"], params["query"])
    total = rows.count() if isinstance(rows, QuerySet) else 0
    report = REPORTS[params["report"]]
    stamp = timezone.localdate().strftime("%Y-%m-%d")
    counter = counted(rows.iterator(chunk_size=5000), progress, total)
    if params["format"] == "xlsx":
        from apps.finance.xlsx import XLSX_TYPE, xlsx_file

        handle = xlsx_file(report.title, report.columns, counter)
        return Export(f"report-{report.name}-{stamp}.xlsx", XLSX_TYPE, _read(handle), rows=total)
    return Export(f"report-{report.name}-{stamp}.csv", "text/csv",
                  (line.encode("utf-8") for line in csv_lines(report.columns, counter)), rows=total)


def report_rows(name: str, query: dict):
    """Every row of report `name` for the filters in `query` (as a request gives them; invalid ones
    raise the API's ValidationError) — what its CSV / XLSX file holds."""
    from apps.finance.api.serializers import ReportFilterSerializer
    from apps.finance.api.views import ReportView

    filters = ReportFilterSerializer(data=query)
    filters.is_valid(raise_exception=True)
    view = ReportView()
    view.report_name = name
    return view._queryset(filters.validated_data, whole=True)


def too_many_rows(rows) -> bool:
    """More rows than EXPORT_BACKGROUND_ROWS (counted no further than that): the file goes to a job."""
    limit = settings.EXPORT_BACKGROUND_ROWS
    return isinstance(rows, QuerySet) and rows.order_by()[: limit + 1].count() > limit


def onec_export(*, params: dict, progress) -> Export:
    """The 1C file of a period, as statement_for_period writes it, with documents done / total."""
    from apps.finance.onec import MissingBankDocuments, period_documents, write_statement
    from apps.finance.selectors import agency_requisites, bank_balance_before

    date_from, date_to = date.fromisoformat(params["date_from"]), date.fromisoformat(params["date_to"])
    total = onec_rows(date_from, date_to)
    requisites = agency_requisites()
    missing = MissingBankDocuments()
    documents = counted(period_documents(date_from, date_to, requisites, missing), progress, total)
    chunks = write_statement(
        requisites=requisites, documents=documents, date_from=date_from, date_to=date_to,
        created_at=timezone.localtime(), opening=bank_balance_before(date_from), check=missing.raise_if_any,
    )
    return Export(f"kl_to_1c_{date_from:%Y%m%d}_{date_to:%Y%m%d}.txt", "text/plain", chunks, rows=total)


def onec_rows(date_from: date, date_to: date, limit: int | None = None) -> int:
    """Clients' and suppliers' bank payments of the period — one statement; with `limit`, counted no
    further than that (enough to tell whether the file goes to the background)."""
    from apps.finance.selectors import bank_payments_for_1c, bank_supplier_payments_for_1c

    ids = bank_payments_for_1c(date_from, date_to).order_by().values_list("id").union(
        bank_supplier_payments_for_1c(date_from, date_to).order_by().values_list("id"), all=True)
    return (ids[:limit] if limit is not None else ids).count()


def _read(handle, size: int = 256 * 1024):
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()
