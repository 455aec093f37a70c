"""The admin's «Отчёты» section for accountants and supervisors: every finance report with its
filters, the totals for the filter, a chart where a picture says more (server-side SVG, offline),
a page of rows, and the whole report as CSV or XLSX (the API's files, same session).

The pages call the same report builders as the API (apps.finance.reports): one aggregate query for
the totals, one for the page, one for the count, one for a chart.
"""

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from rest_framework.exceptions import ValidationError

from apps.core.admin import ReadOnlyAdmin
from apps.core.db import custom_plans
from apps.core.money import CURRENCIES
from apps.finance.charts import bar_chart
from apps.finance.models import FinanceReport, ReportOrderDay
from apps.finance.reports import (
    AGEING,
    DEBT_STATUSES,
    LEAD_SOURCE_LABELS,
    REPORTS,
    ReportFilters,
    funnel_report,
    summary_period,
)

PAGE_SIZE = 50
REPORT_ORDER = ("debts", "supplier-debts", "clients", "orders", "commissions", "sales", "funnel", "fx")
REPORT_HELP = {
    "debts": "Кто из клиентов сколько должен по подтверждённым заказам, с просрочкой по сроку оплаты.",
    "supplier-debts": "Сколько мы должны поставщикам по каждому заказу, самые старые сроки первыми.",
    "clients": "Оборот, оплаты и долг по клиентам (подтверждённые, оплаченные и завершённые заказы).",
    "orders": "Все заказы: сумма, оплаты, себестоимость, маржа, долги.",
    "commissions": "Комиссия и маржа по месяцам, поставщикам и менеджерам.",
    "sales": "Продажи, себестоимость и маржа по месяцам.",
    "funnel": "Заявки → заказы → оплаты по каналам или по менеджерам.",
    "fx": "Курсовые разницы валютных платежей на выбранную дату.",
}


TOTAL_LABELS = {
    "currency": "Валюта", "order_currency": "Валюта", "rows": "Строк", "total": "Долг", "turnover": "Оборот",
    "paid": "Оплачено", "debt": "Долг клиентов", "total_amount": "Сумма", "paid_amount": "Оплачено",
    "refunded_amount": "Возвращено", "commission": "Комиссия", "cost_amount": "Себестоимость", "cost": "Себестоимость",
    "margin": "Маржа", "supplier_balance_due": "Долг поставщикам", "sales": "Продажи", "difference": "Курсовая разница",
    "leads": "Заявок", "orders": "Заказов", **{f"ageing_{key}": label for key, label in AGEING.items()},
}
COMMON = ("date_from", "date_to", "currency", "operator")
REPORT_FIELDS = {
    "debts": (*COMMON, "ageing"),
    "supplier-debts": (*COMMON, "supplier", "ageing"),
    "clients": COMMON,
    "orders": COMMON,
    "commissions": (*COMMON, "supplier"),
    "sales": COMMON,
    "funnel": ("date_from", "date_to", "operator", "by"),
    "fx": (*COMMON, "on_date"),
}


class _ManagerChoice(forms.ModelChoiceField):
    """Managers by name (the report filters by the order's responsible manager), never an id to type."""

    def __init__(self, **kwargs):
        from apps.accounts.models import Role, User

        super().__init__(queryset=User.objects.filter(role=Role.OPERATOR).order_by("-is_active", "full_name"),
                         empty_label="все", **kwargs)

    def label_from_instance(self, obj):
        return obj.full_name or obj.email


class _SupplierChoice(forms.ModelChoiceField):
    def __init__(self, *, empty_label: str | None = "все", **kwargs):
        from apps.orders.models import Supplier

        super().__init__(queryset=Supplier.objects.order_by("name"), empty_label=empty_label, **kwargs)

    def label_from_instance(self, obj):
        return obj.name


def _pk(value) -> int | None:
    return value.pk if value is not None else None


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(label="с", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="по", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField(label="валюта", required=False, choices=[("", "все"), *CURRENCIES])
    operator = _ManagerChoice(label="менеджер", required=False)
    supplier = _SupplierChoice(label="поставщик", required=False)
    ageing = forms.ChoiceField(label="просрочка", required=False, choices=[("", "любая"), *AGEING.items()])
    by = forms.ChoiceField(label="воронка по", required=False,
                           choices=[("source", "каналам"), ("operator", "менеджерам")])
    on_date = forms.DateField(label="курс на дату", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError("Конец периода раньше начала.")
        return cleaned

    def filters(self) -> ReportFilters:
        data = self.cleaned_data  # fields this report does not show are absent: .get() gives None
        return ReportFilters(
            date_from=data.get("date_from"), date_to=data.get("date_to"), operator=_pk(data.get("operator")),
            currency=data.get("currency") or None, supplier=_pk(data.get("supplier")),
            ageing=data.get("ageing") or None, on_date=data.get("on_date"),
        )


class StatementForm(forms.Form):
    supplier = _SupplierChoice(label="поставщик", empty_label=None)
    date_from = forms.DateField(label="с", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="по", widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField(label="валюта", choices=CURRENCIES, initial="RUB")


def _label(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return "" if value is None else str(value)


# --- Charts ----------------------------------------------------------------------------------------


def ageing_chart(totals: list[dict], title: str) -> str:
    rows = [row for row in totals if row.get("currency")] or totals
    categories = list(AGEING.values())
    series = [(row["currency"], [row.get(f"ageing_{key}") for key in AGEING]) for row in rows]
    return bar_chart(categories, series, title=title)


def sales_chart(filters: ReportFilters) -> str:
    """Sales and margin by month of the filter (the last 12 months by default), one currency — from
    the orders' summary (ReportOrderDay)."""
    date_from = filters.date_from or (timezone.localdate().replace(day=1) - timedelta(days=335)).replace(day=1)
    rows = list(_monthly(filters, date_from).annotate(sales=Sum("total_amount"), margin=Sum("margin")))
    currency = filters.currency or "RUB"
    return bar_chart([row["month"].strftime("%m.%Y") for row in rows],
                     [("Продажи", [row["sales"] for row in rows]), ("Маржа", [row["margin"] for row in rows])],
                     title=f"Продажи и маржа по месяцам, {currency}")


def _monthly(filters: ReportFilters, date_from: date | None):
    """Settled orders of one currency (RUB by default) by month, from the orders' summary."""
    qs = ReportOrderDay.objects.filter(summary_period(date_from, filters.date_to), status__in=DEBT_STATUSES,
                                       currency=filters.currency or "RUB")
    if filters.operator:
        qs = qs.filter(operator_id=filters.operator)
    return qs.annotate(month=TruncMonth("month_start")).values("month").order_by("month")


def funnel_chart(filters: ReportFilters, by: str) -> str:
    rows = list(funnel_report(filters, by)[:12])
    if by == "source":
        names = [LEAD_SOURCE_LABELS.get(row["source"], row["source"]) for row in rows]
    else:
        names = [row["operator_name"] for row in rows]
    return bar_chart(names, [("Заявки", [row["leads"] for row in rows]), ("Заказы", [row["orders"] for row in rows]),
                             ("Оплачены", [row["paid"] for row in rows])],
                     title="Воронка: заявки → заказы → оплаты " + ("по каналам" if by == "source" else "по менеджерам"))


def commissions_chart(filters: ReportFilters) -> str:
    """Commission and margin by month from the orders' summary (ReportOrderDay)."""
    currency = filters.currency or "RUB"
    rows = list(_monthly(filters, filters.date_from).annotate(commission=Sum("commission"), margin=Sum("margin"))[:24])
    return bar_chart([row["month"].strftime("%m.%Y") for row in rows],
                     [("Комиссия", [row["commission"] for row in rows]), ("Маржа", [row["margin"] for row in rows])],
                     title=f"Комиссия и маржа по месяцам, {currency}")


# --- The admin -------------------------------------------------------------------------------------


@admin.register(FinanceReport)
class FinanceReportAdmin(ReadOnlyAdmin):
    """«Финансы → Отчёты»: no rows, only the report pages."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perm("finance.view_reports")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.index_view), name="finance_financereport_changelist"),
            path("statement/", wrap(self.statement_view), name="finance_report_statement"),
            path("<slug:name>/export/<slug:fmt>/", wrap(self.export_view), name="finance_report_export"),
            path("<slug:name>/", wrap(self.report_view), name="finance_report"),
        ]

    def _context(self, request, title: str) -> dict:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta}

    def _check(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def index_view(self, request):
        self._check(request)
        filters = ReportFilters()
        from apps.finance.reports import debts_totals, supplier_debts_totals

        context = {
            **self._context(request, "Отчёты"),
            "reports": [(name, REPORTS[name].title, REPORT_HELP[name], reverse("admin:finance_report", args=[name]))
                        for name in REPORT_ORDER],
            "charts": [mark_safe(ageing_chart(debts_totals(filters), "Долги клиентов по просрочке")),  # noqa: S308
                       mark_safe(ageing_chart(supplier_debts_totals(filters),  # noqa: S308 — escaped SVG
                                              "Долги поставщикам по срокам оплаты")),
                       mark_safe(sales_chart(filters)),  # noqa: S308
                       mark_safe(funnel_chart(filters, "source"))],  # noqa: S308
            "statement_url": reverse("admin:finance_report_statement"),
        }
        return TemplateResponse(request, "admin/finance/reports/index.html", context)

    def report_view(self, request, name: str):
        self._check(request)
        report = REPORTS.get(name)
        if report is None:
            raise Http404("Нет такого отчёта.")
        form = self._form(name, request.GET or None)
        rows, totals, chart, paginator_info = [], [], "", {}
        if form.is_bound and not form.is_valid():
            filters = None
        else:
            if not form.is_bound:
                form = self._form(name, {})
                form.is_valid()
            filters = form.filters()
        if filters is not None:
            by = form.cleaned_data.get("by") or "source"
            raw_page = request.GET.get("page", "1")
            page = max(int(raw_page), 1) if raw_page.isdigit() else 1
            if report.page_and_totals:  # the page and the totals from one aggregation
                with custom_plans():
                    rows, count, totals = report.page_and_totals(filters, (page - 1) * PAGE_SIZE, PAGE_SIZE)
                has_next = page * PAGE_SIZE < count
            else:
                totals = report.totals(filters) if report.totals else []
                queryset = funnel_report(filters, by) if name == "funnel" else report.build(filters)
                rows = list(queryset[(page - 1) * PAGE_SIZE: page * PAGE_SIZE + 1])
                has_next = len(rows) > PAGE_SIZE
            rows = rows[:PAGE_SIZE]
            query = request.GET.copy()
            query.pop("page", None)
            paginator_info = {"page": page, "previous": f"?{urlencode({**query.dict(), 'page': page - 1})}"
                              if page > 1 else "", "next": f"?{urlencode({**query.dict(), 'page': page + 1})}"
                              if has_next else ""}
            chart = self._chart(name, filters, totals, by)
        api_query = urlencode({key: value for key, value in request.GET.items() if value and key != "page"})
        context = {
            **self._context(request, report.title),
            "report": report, "help": REPORT_HELP.get(name, ""), "form": form,
            "headers": [column.header for column in report.columns],
            "rows": [[_label(column.get(row)) for column in report.columns] for row in rows],
            "totals": [{key: _label(value) for key, value in row.items()} for row in totals],
            "total_keys": [TOTAL_LABELS.get(key, key) for key in totals[0]] if totals else [],
            "chart": mark_safe(chart),  # noqa: S308 — built from escaped text by apps.finance.charts
            "pager": paginator_info,
            "csv_url": f"{reverse('admin:finance_report_export', args=[name, 'csv'])}?{api_query}",
            "xlsx_url": f"{reverse('admin:finance_report_export', args=[name, 'xlsx'])}?{api_query}",
            "index_url": reverse("admin:finance_financereport_changelist"),
        }
        return TemplateResponse(request, "admin/finance/reports/report.html", context)

    def export_view(self, request, name: str, fmt: str):
        """The whole report as CSV / XLSX: the API's streamed file, or — above EXPORT_BACKGROUND_ROWS
        rows or with ?background=1 — a job whose progress page gives the file when it is ready
        (a browser would otherwise show the API's 202 JSON answer)."""
        from apps.finance.api.background import REPORT_BUILDER, background_asked, report_rows, too_many_rows
        from apps.jobs.exports import export_start

        self._check(request)
        report = REPORTS.get(name)
        if report is None or fmt not in ("csv", "xlsx"):
            raise Http404("Нет такого отчёта.")
        query = {key: value for key, value in request.GET.items() if value and key not in ("page", "background")}
        try:
            background = background_asked(request.GET)
            rows = report_rows(name, query)
        except ValidationError:
            messages.error(request, "Фильтр отчёта заполнен неверно — исправьте его и выгрузите ещё раз.")
            return HttpResponseRedirect(f"{reverse('admin:finance_report', args=[name])}?{urlencode(query)}")
        if background or too_many_rows(rows):
            progress = export_start(builder=REPORT_BUILDER, title=f"Выгрузка отчёта «{report.title}»",
                                    params={"report": name, "format": fmt, "query": query}, actor=request.user)
            messages.info(request, "Файл готовится в фоне: ссылка на него появится на этой странице.")
            return HttpResponseRedirect(reverse("admin:jobs_jobprogress_change", args=[progress.pk]))
        return HttpResponseRedirect(f"/api/v1/reports/{name}/{fmt}/?{urlencode(query)}")

    @staticmethod
    def _form(name: str, data) -> ReportFilterForm:
        """The filters that mean something for this report only."""
        form = ReportFilterForm(data)
        for field in list(form.fields):
            if field not in REPORT_FIELDS.get(name, COMMON):
                del form.fields[field]
        return form

    @staticmethod
    def _chart(name: str, filters: ReportFilters, totals: list[dict], by: str) -> str:
        if name == "debts":
            return ageing_chart(totals, "Долги клиентов по просрочке")
        if name == "supplier-debts":
            return ageing_chart(totals, "Долги поставщикам по срокам оплаты")
        if name == "sales":
            # Only here: on the orders and clients pages the same chart was a second pass over the
            # orders (≈ half of those pages' time at 100 000 orders) repeating the sales page.
            return sales_chart(filters)
        if name == "commissions":
            return commissions_chart(filters)
        if name == "funnel":
            return funnel_chart(filters, by)
        return ""

    def statement_view(self, request):
        self._check(request)
        form = StatementForm(request.GET or None)
        links = {}
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            base = f"/api/v1/finance/supplier-statements/{data['supplier'].pk}/?" + urlencode(
                {"from": data["date_from"], "to": data["date_to"], "currency": data["currency"]})
            links = {"pdf": base + "&format=pdf", "xlsx": base + "&format=xlsx",
                     "agent": base.replace("supplier-statements", "agent-reports") + "&format=pdf"}
        context = {**self._context(request, "Акт сверки с поставщиком"), "form": form, "links": links,
                   "index_url": reverse("admin:finance_financereport_changelist")}
        return TemplateResponse(request, "admin/finance/reports/statement.html", context)

