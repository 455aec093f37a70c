"""Thin views of the finance API: parse, call one service or selector, render."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import BooleanField, Count, QuerySet, Window
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.core.csv_export import Column, csv_response
from apps.core.db import custom_plans
from apps.core.errors import BusinessError
from apps.core.files import attach_download_headers
from apps.core.heavy import HeavyRequestMixin
from apps.finance import selectors, services
from apps.finance.api import background
from apps.finance.api.serializers import (
    AgencyRequisitesSerializer,
    CurrencyRateSerializer,
    ExportPeriodSerializer,
    PaymentSerializer,
    ReportFilterSerializer,
    StatementParamsSerializer,
    SupplierPaymentSerializer,
)
from apps.finance.models import AgencyRequisites, Payment, SupplierPayment
from apps.finance.onec import statement_for_period
from apps.finance.reports import (
    REPORTS,
    ReportFilters,
    commissions_report,
    days_overdue,
    funnel_report,
    supplier_days_overdue,
)
from apps.finance.statements import (
    agent_report,
    agent_report_pdf,
    statement_pdf,
    statement_xlsx,
    supplier_statement,
)
from apps.finance.xlsx import XLSX_TYPE, xlsx_response
from travelcrm.api import BaseAPIView, BaseModelViewSet, BaseViewSet
from travelcrm.filters import StrictBooleanFilter
from travelcrm.permissions import PageNumberPagination


class CsvRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the views build the CSV themselves."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()


class XlsxRenderer(CsvRenderer):
    """Lets `?format=xlsx` through content negotiation; the report view builds the workbook."""

    media_type = XLSX_TYPE
    format = "xlsx"
    charset = None


# --- Requisites --------------------------------------------------------------------------------------


class AgencyRequisitesView(BaseAPIView):
    """GET/PUT the agency's requisites (one record)."""

    queryset = AgencyRequisites.objects.all()

    @extend_schema(responses=AgencyRequisitesSerializer)
    def get(self, request):
        return Response(AgencyRequisitesSerializer(selectors.agency_requisites()).data)

    @extend_schema(request=AgencyRequisitesSerializer, responses=AgencyRequisitesSerializer)
    def put(self, request):
        serializer = AgencyRequisitesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        requisites = services.requisites_save(data=serializer.validated_data, actor=request.user)
        return Response(AgencyRequisitesSerializer(requisites).data)

    @extend_schema(request=AgencyRequisitesSerializer, responses=AgencyRequisitesSerializer)
    def patch(self, request):
        serializer = AgencyRequisitesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        requisites = services.requisites_save(data=serializer.validated_data, actor=request.user)
        return Response(AgencyRequisitesSerializer(requisites).data)


# --- Rates -------------------------------------------------------------------------------------------


class RateFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = selectors.CurrencyRate
        fields = ["date", "currency", "source"]


class CurrencyRateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, BaseViewSet):
    """Stored rates (bank and manual). POST enters a manual rate for a date."""

    serializer_class = CurrencyRateSerializer
    queryset = selectors.rates_list()
    filterset_class = RateFilter
    ordering_fields = ["date", "currency"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.rate_set_manual(
            currency=data["currency"], on_date=data["date"], rate=data["rate"], nominal=data.get("nominal", 1),
            actor=self.request.user, confirmed=data.get("confirm", False),
        )


# --- Payments ----------------------------------------------------------------------------------------


class PaymentFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ["order", "type", "method", "currency", "payer_client", "rate_is_manual"]
        filter_overrides = {BooleanField: {"filter_class": StrictBooleanFilter}}


# Client and supplier payments alike: the list, create, update and delete, also mounted per order at
# /orders/{order_id}/… (a comment, not a docstring: drf-spectacular would show it on every operation).
class _OrderScopedPaymentViewSet(BaseModelViewSet):
    ordering_fields = ["date", "amount", "created_at"]
    selector: Callable[[], QuerySet]
    create_service: Callable[..., Any]
    update_service: Callable[..., Any]
    delete_service: Callable[..., Any]

    def get_queryset(self):
        queryset = self.selector()
        order_id = self.kwargs.get("order_id")
        if order_id is not None:
            queryset = queryset.filter(order_id=order_id)
        return queryset

    def _order_id(self, serializer) -> int:
        order_id = self.kwargs.get("order_id")
        if order_id is not None:
            from apps.orders.models import Order

            return get_object_or_404(Order.objects.only("id"), pk=order_id).pk
        order = serializer.validated_data.get("order")
        if order is None:
            raise BusinessError("Укажите заказ.", code="validation_error", fields={"order": ["Обязательное поле."]})
        return order.pk

    def list(self, request, *args, **kwargs):
        if self.kwargs.get("order_id") is not None:
            from apps.orders.models import Order

            get_object_or_404(Order.objects.only("id"), pk=self.kwargs["order_id"])
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = self.create_service(
            order_id=self._order_id(serializer), data=serializer.validated_data, actor=request.user
        )
        return Response(self._render(payment.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        payment = self.update_service(payment_id=instance.pk, data=serializer.validated_data, actor=request.user)
        return Response(self._render(payment.pk))

    def perform_destroy(self, instance):
        self.delete_service(payment_id=instance.pk, actor=self.request.user)

    def _render(self, payment_id: int) -> dict:
        payment = self.selector().get(pk=payment_id)
        return self.get_serializer_class()(payment, context=self.get_serializer_context()).data


class PaymentViewSet(_OrderScopedPaymentViewSet):
    """Payments and refunds. Also mounted per order at /orders/{order_id}/payments/."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    queryset = selectors.payments_list()
    selector = staticmethod(selectors.payments_list)
    create_service = staticmethod(services.payment_create)
    update_service = staticmethod(services.payment_update)
    delete_service = staticmethod(services.payment_delete)


# --- Supplier payments -------------------------------------------------------------------------------


class SupplierPaymentFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = SupplierPayment
        fields = ["order", "supplier", "service", "type", "method", "currency", "rate_is_manual"]
        filter_overrides = {BooleanField: {"filter_class": StrictBooleanFilter}}


class SupplierPaymentViewSet(_OrderScopedPaymentViewSet):
    """Payments to suppliers and refunds from them. Also mounted per order at /orders/{order_id}/supplier-payments/."""

    serializer_class = SupplierPaymentSerializer
    filterset_class = SupplierPaymentFilter
    queryset = selectors.supplier_payments_list()
    selector = staticmethod(selectors.supplier_payments_list)
    create_service = staticmethod(services.supplier_payment_create)
    update_service = staticmethod(services.supplier_payment_update)
    delete_service = staticmethod(services.supplier_payment_delete)


# --- Reports -----------------------------------------------------------------------------------------

# The report filters come from ReportFilterSerializer (types, limits, choices as validated); the
# page and the format only on the JSON path: …/csv/ and …/xlsx/ return the whole report as a file.
_PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Номер страницы (с 1)."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="Строк на странице (по умолчанию 100)."),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"],
                     description="csv / xlsx — файл для Excel (весь отчёт по фильтру)"),
    OpenApiParameter("background", OpenApiTypes.BOOL, description=(
        "csv / xlsx фоновой задачей: 202 с job_id (так же и без параметра, если строк больше "
        "EXPORT_BACKGROUND_ROWS); файл — file_url в GET /api/v1/jobs/{id}/")),
]
_FILE_TYPES = {"csv": "text/csv", "xlsx": XLSX_TYPE}
_BACKGROUND_REPORT = OpenApiParameter("background", OpenApiTypes.BOOL, description=(
    "Фоновой задачей: 202 с job_id (так же и без параметра, если строк больше EXPORT_BACKGROUND_ROWS); "
    "файл — file_url в GET /api/v1/jobs/{id}/"))
_STARTED = OpenApiResponse(OpenApiTypes.OBJECT, description="Файл готовится фоновой задачей: job_id, status_url")


class _CountedPaginator(DjangoPaginator):
    """Django's paginator with the COUNT taken from a cheaper query when the report has one."""

    def __init__(self, *args, count_fn=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_fn = count_fn

    @cached_property
    def count(self) -> int:
        return self._count_fn() if self._count_fn else super().count


class ReportPagination(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None, count=None):
        self.django_paginator_class = partial(_CountedPaginator, count_fn=count)
        return super().paginate_queryset(queryset, request, view=view)


class WindowCountPagination(PageNumberPagination):
    """One query per page: the rows and `COUNT(*) OVER ()` together, for grouped reports where a separate
    COUNT would aggregate everything a second time."""

    def paginate_queryset(self, queryset, request, view=None):
        def fetch(offset: int, limit: int) -> tuple[list[dict], int]:
            rows = list(queryset.annotate(_total_rows=Window(Count("*")))[offset:offset + limit])
            total = rows[0]["_total_rows"] if rows else 0
            for row in rows:
                del row["_total_rows"]
            return rows, total

        return self.paginate_rows(request, fetch)

    def paginate_rows(self, request, fetch):
        """`fetch(offset, limit)` → (the page's rows, the number of all rows)."""
        self.request = request
        self.page_size_now = self.get_page_size(request)
        try:
            self.number = int(request.query_params.get(self.page_query_param, 1))
        except (TypeError, ValueError):
            self.number = 0
        if self.number < 1:
            raise NotFound("Неверный номер страницы.")
        rows, self.total = fetch((self.number - 1) * self.page_size_now, self.page_size_now)
        if not rows and self.number > 1:
            raise NotFound("Нет такой страницы.")
        return rows

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        has_next = self.number * self.page_size_now < self.total
        previous = None
        if self.number > 1:
            previous = (remove_query_param(url, self.page_query_param) if self.number == 2
                        else replace_query_param(url, self.page_query_param, self.number - 1))
        return Response({
            "count": self.total,
            "next": replace_query_param(url, self.page_query_param, self.number + 1) if has_next else None,
            "previous": previous,
            "results": data,
        })


class ReportView(HeavyRequestMixin, BaseAPIView):
    """One finance report: JSON pages, or the whole report as CSV (?format=csv or …/csv/)."""

    required_permissions = ["finance.view_reports"]
    renderer_classes = [JSONRenderer, CsvRenderer, XlsxRenderer]
    report_name = ""

    @staticmethod
    def _filters(params: dict) -> ReportFilters:
        return ReportFilters(**{k: v for k, v in params.items() if k not in ("group_by", "by")})

    def _queryset(self, params: dict, whole: bool = False):
        filters_ = self._filters(params)
        report = REPORTS[self.report_name]
        if self.report_name == "commissions" and params.get("group_by"):
            return commissions_report(filters_, params["group_by"])
        if self.report_name == "funnel":
            return funnel_report(filters_, params.get("by") or "source")
        if whole and report.build_all:
            return report.build_all(filters_)
        return report.build(filters_)

    def get(self, request, format=None):  # noqa: A002 — DRF's name for the suffix
        params = ReportFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        background.background_asked(request.query_params)  # checked on a JSON page too: a bad value is a 400 everywhere
        report = REPORTS[self.report_name]
        stamp = timezone.localdate().strftime("%Y-%m-%d")
        if request.accepted_renderer.format in {"csv", "xlsx"}:
            queryset = self._queryset(params.validated_data, whole=True)
            if background.wants_background(request, queryset):  # a job leaves the file and a link
                query = {key: value for key, value in request.query_params.items() if key != "format"}
                return background.started(
                    request, builder=background.REPORT_BUILDER, title=f"Выгрузка отчёта «{report.title}»",
                    params={"report": self.report_name, "format": request.accepted_renderer.format, "query": query})
        if request.accepted_renderer.format == "csv":
            # Streamed after the view returns: its cursor must not live in a transaction that ends here.
            return csv_response(f"report-{report.name}-{stamp}.csv", report.columns, queryset.iterator())
        if request.accepted_renderer.format == "xlsx":
            return xlsx_response(f"report-{report.name}-{stamp}.xlsx", report.title, report.columns,
                                 queryset.iterator(chunk_size=5000))
        # A report's best plan depends on its period and filters: never a cached generic plan.
        with custom_plans():
            return self._page(request, report, params.validated_data)

    def _page(self, request, report, params: dict):
        if report.page_and_totals:  # the page, its count and the totals from one aggregation
            filters_ = self._filters(params)
            totals: list[dict] = []

            def fetch(offset: int, limit: int) -> tuple[list[dict], int]:
                rows, count, totals[:] = report.page_and_totals(filters_, offset, limit)
                return rows, count

            paginator = WindowCountPagination()
            page = paginator.paginate_rows(request, fetch)
            response = paginator.get_paginated_response([self.present(row) for row in page])
            response.data["totals"] = [wire_row(row) for row in totals]
            return response
        queryset = self._queryset(params)
        totals = report.totals(self._filters(params)) if report.totals else None
        if report.count == "window":
            paginator = WindowCountPagination()
            page = paginator.paginate_queryset(queryset, request, view=self)
        else:
            paginator = ReportPagination()
            if report.count == "totals":
                # The totals already count the rows per currency over the same filter: their sum is the
                # count, without a second pass over every debtor (at a million orders that pass was a third
                # of the debts report's time).
                count = lambda: sum(row["rows"] for row in totals)  # noqa: E731
            else:
                count = (lambda: report.count(self._filters(params))) if report.count else None
            page = paginator.paginate_queryset(queryset, request, view=self, count=count)
        response = paginator.get_paginated_response([self.present(row) for row in page])
        if totals is not None:
            response.data["totals"] = [wire_row(row) for row in totals]
        return response

    def present(self, row: dict) -> dict:
        return wire_row(row)


class DebtsReportView(ReportView):
    report_name = "debts"

    def present(self, row: dict) -> dict:
        return wire_row({**row, "days_overdue": days_overdue(row)})


class SupplierDebtsReportView(ReportView):
    report_name = "supplier-debts"

    def present(self, row: dict) -> dict:
        return wire_row({**row, "days_overdue": supplier_days_overdue(row)})


def wire_row(row: dict) -> dict:
    """The API's wire format: money (Decimal) as a string, dates and moments in ISO 8601."""
    out = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            out[key] = str(value.quantize(Decimal("0.01"))) if value.as_tuple().exponent >= -2 else str(value)
        elif isinstance(value, datetime):
            out[key] = timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def report_view(name: str, summary: str, file_format: str | None = None) -> type[ReportView]:
    """The view of one report; with file_format (csv, xlsx) the one behind …/<format>/ (its own schema)."""
    base = {"debts": DebtsReportView, "supplier-debts": SupplierDebtsReportView}.get(name, ReportView)
    suffix = (file_format or "").title()
    view = type(f"{name.title().replace('-', '')}{suffix}ReportView", (base,), {"report_name": name})
    if file_format:
        # Only the file renderer: no `?format=` to document (an error is JSON anyway, see ApiViewMixin).
        view.renderer_classes = [{"csv": CsvRenderer, "xlsx": XlsxRenderer}[file_format]]
        return extend_schema(summary=f"{summary} — файл {file_format.upper()}",
                             parameters=[ReportFilterSerializer, _BACKGROUND_REPORT],
                             responses={(200, _FILE_TYPES[file_format]): OpenApiResponse(OpenApiTypes.BINARY),
                                        202: _STARTED})(view)
    return extend_schema(summary=summary, parameters=[ReportFilterSerializer, *_PAGE_PARAMETERS],
                         responses={200: OpenApiTypes.OBJECT, 202: _STARTED})(view)


# --- Reconciliation statement with a supplier -------------------------------------------------------


class PdfRenderer(CsvRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None


class SupplierStatementView(HeavyRequestMixin, BaseAPIView):
    """Акт сверки with one supplier for a period: JSON, PDF (?format=pdf) or XLSX (?format=xlsx)."""

    required_permissions = ["finance.view_reports"]
    renderer_classes = [JSONRenderer, PdfRenderer, XlsxRenderer]

    @extend_schema(
        summary="Акт сверки с поставщиком за период (JSON, PDF или XLSX)",
        parameters=[OpenApiParameter("from", OpenApiTypes.DATE, required=True),
                    OpenApiParameter("to", OpenApiTypes.DATE, required=True),
                    OpenApiParameter("currency", OpenApiTypes.STR, description="валюта заказов, по умолчанию RUB"),
                    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "pdf", "xlsx"])],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, supplier_id: int, format=None):  # noqa: A002
        params = StatementParamsSerializer(data={
            "date_from": request.query_params.get("from") or request.query_params.get("date_from"),
            "date_to": request.query_params.get("to") or request.query_params.get("date_to"),
            "currency": request.query_params.get("currency") or "RUB",
        })
        params.is_valid(raise_exception=True)
        statement = supplier_statement(supplier_id=supplier_id, **params.validated_data)
        name = f"akt-sverki-{supplier_id}-{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}"
        if request.accepted_renderer.format == "pdf":
            from django.http import HttpResponse

            response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
            return response
        if request.accepted_renderer.format == "xlsx":
            from django.http import FileResponse

            return FileResponse(statement_xlsx(statement), as_attachment=True, filename=f"{name}.xlsx",
                                content_type=XLSX_TYPE)
        return Response(wire_row({
            "supplier": statement.supplier_id, "supplier_name": statement.supplier_name,
            "currency": statement.currency, "date_from": statement.date_from, "date_to": statement.date_to,
            "opening": statement.opening, "total_debit": statement.total_debit,
            "total_credit": statement.total_credit, "closing": statement.closing,
            "movements": [wire_row({"date": m.day, "document": m.document, "order_number": m.order_number,
                                    "debit": m.debit, "credit": m.credit}) for m in statement.movements],
        }))


class AgentReportView(HeavyRequestMixin, BaseAPIView):
    """Отчёт агента to one tour operator for a period: JSON or PDF (?format=pdf)."""

    required_permissions = ["finance.view_reports"]
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        summary="Отчёт агента туроператору за период (JSON или PDF)",
        parameters=[OpenApiParameter("from", OpenApiTypes.DATE, required=True),
                    OpenApiParameter("to", OpenApiTypes.DATE, required=True),
                    OpenApiParameter("currency", OpenApiTypes.STR, description="валюта заказов, по умолчанию RUB"),
                    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "pdf"])],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, supplier_id: int, format=None):  # noqa: A002
        params = StatementParamsSerializer(data={
            "date_from": request.query_params.get("from") or request.query_params.get("date_from"),
            "date_to": request.query_params.get("to") or request.query_params.get("date_to"),
            "currency": request.query_params.get("currency") or "RUB",
        })
        params.is_valid(raise_exception=True)
        report = agent_report(supplier_id=supplier_id, **params.validated_data)
        if request.accepted_renderer.format == "pdf":
            from django.http import HttpResponse

            response = HttpResponse(agent_report_pdf(report), content_type="application/pdf")
            response["Content-Disposition"] = (f'attachment; filename="otchet-agenta-{supplier_id}-'
                                               f'{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.pdf"')
            return response
        price, reward, due = report.totals
        return Response(wire_row({
            "supplier_name": report.supplier_name, "currency": report.currency, "date_from": report.date_from,
            "date_to": report.date_to, "price": price, "reward": reward, "due": due,
            "lines": [wire_row({"order_number": x.order_number, "client": x.client, "start": x.start,
                                "price": x.price, "reward": x.reward, "due": x.due}) for x in report.lines],
        }))


# --- Exports -----------------------------------------------------------------------------------------


class _ExportView(HeavyRequestMixin, BaseAPIView):
    required_permissions = ["finance.export_payments"]
    renderer_classes = [JSONRenderer, CsvRenderer]

    def _period(self, request) -> tuple:
        params = ExportPeriodSerializer(data={
            "date_from": request.query_params.get("from") or request.query_params.get("date_from"),
            "date_to": request.query_params.get("to") or request.query_params.get("date_to"),
        })
        params.is_valid(raise_exception=True)
        return params.validated_data["date_from"], params.validated_data["date_to"]


_PERIOD_PARAMETERS = [OpenApiParameter("from", OpenApiTypes.DATE, required=True),
                      OpenApiParameter("to", OpenApiTypes.DATE, required=True)]
_BACKGROUND = OpenApiParameter("background", OpenApiTypes.BOOL, description=(
    "Фоновой задачей: 202 с job_id (так же и без параметра, если платежей больше EXPORT_BACKGROUND_ROWS)"))


class OneCPaymentsExportView(_ExportView):
    @extend_schema(
        summary="Выгрузка банковских платежей в 1С / Контур.Эльбу (1CClientBankExchange, Windows-1251)",
        parameters=[*_PERIOD_PARAMETERS, _BACKGROUND],
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.BINARY, description="Файл обмена 1С"),
                   202: OpenApiResponse(OpenApiTypes.OBJECT, description="Фоновая задача: job_id, status_url")},
    )
    def get(self, request, format=None):  # noqa: A002
        date_from, date_to = self._period(request)
        limit = settings.EXPORT_BACKGROUND_ROWS + 1
        if background.wants_background(request, count=background.onec_rows(date_from, date_to, limit)):
            return background.started(request, builder=background.ONEC_BUILDER, title="Выгрузка платежей в 1С",
                                      params={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
        # Streamed from a spooled temporary file: constant memory for a month of 250 000 payments.
        chunks = statement_for_period(date_from=date_from, date_to=date_to)
        response = StreamingHttpResponse(chunks, content_type="text/plain; charset=windows-1251")
        return attach_download_headers(response, f"kl_to_1c_{date_from:%Y%m%d}_{date_to:%Y%m%d}.txt")


OTHER_PAYMENTS_COLUMNS = [
    Column("Номер", "id"), Column("Дата", "date"), Column("Время", lambda r: r["time"].strftime("%H:%M") if r["time"]
                                                          else ""),
    Column("Вид", lambda r: "Возврат" if r["type"] == "refund" else "Оплата"),
    Column("Способ", lambda r: dict(selectors.PaymentMethod.choices).get(r["method"], r["method"])),
    Column("Сумма", "amount"), Column("Валюта", "currency"), Column("Курс", "rate"),
    Column("Сумма в валюте заказа", "amount_in_order_currency"), Column("Валюта заказа", "order_currency"),
    Column("Заказ", "order_number"), Column("Плательщик", selectors.payer_display_name),
    Column("Комментарий", "comment"),
]


class OtherPaymentsExportView(_ExportView):
    @extend_schema(
        summary="Наличные, карты и валютные платежи за период (CSV для бухгалтера)",
        parameters=_PERIOD_PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request, format=None):  # noqa: A002
        date_from, date_to = self._period(request)
        rows = selectors.other_payments_for_csv(date_from, date_to).iterator()
        return csv_response(f"payments-other-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv", OTHER_PAYMENTS_COLUMNS, rows)
