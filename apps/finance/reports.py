"""Finance reports: each one is an aggregate SQL query (plus the paginator's COUNT), never a Python loop.

Every report has a queryset builder taking `ReportFilters` and the columns of its CSV. The API
paginates the queryset (2 queries per page) or streams it all as CSV (1 query).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Round, TruncMonth
from django.utils import timezone

from apps.core.csv_export import Column
from apps.core.money import ZERO
from apps.finance.models import CurrencyRate, Payment, PaymentType

MONEY = DecimalField(max_digits=14, decimal_places=2)
WIDE = DecimalField(max_digits=30, decimal_places=10)
DEBT_STATUSES = ("confirmed", "paid", "completed")


@dataclass(frozen=True)
class ReportFilters:
    date_from: date | None = None
    date_to: date | None = None
    operator: int | None = None
    client: int | None = None
    currency: str | None = None
    on_date: date | None = None  # fx: the date to compare with (default today)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _period(field: str, filters: ReportFilters) -> Q:
    """Aware datetime bounds, so the index on the column is used (no ::date cast)."""
    q = Q()
    if filters.date_from:
        q &= Q(**{f"{field}__gte": _start(filters.date_from)})
    if filters.date_to:
        q &= Q(**{f"{field}__lt": _start(filters.date_to + timedelta(days=1))})
    return q


def _order_filters(filters: ReportFilters, prefix: str = "") -> Q:
    q = Q()
    if filters.operator:
        q &= Q(**{f"{prefix}operator_id": filters.operator})
    if filters.client:
        q &= Q(**{f"{prefix}client_id": filters.client})
    if filters.currency:
        q &= Q(**{f"{prefix}currency": filters.currency})
    return q


def _client_name(prefix: str) -> Concat:
    return Concat(
        f"{prefix}last_name", Value(" "), f"{prefix}first_name",
        Case(When(**{f"{prefix}middle_name": ""}, then=Value("")),
             default=Concat(Value(" "), f"{prefix}middle_name"), output_field=CharField()),
        output_field=CharField(),
    )


def _operator_name(prefix: str):
    return F(f"{prefix}operator__full_name")


def _orders():
    from apps.orders.models import Order

    return Order.objects.all()


# --- clients: orders, turnover, paid, debt per client (and currency) ---------------------------------


def _client_name_of(field: str) -> Subquery:
    """The client's name by a correlated subquery: grouping stays on ids (no join, no text in GROUP BY),
    and PostgreSQL evaluates it only for the rows of the page."""
    from apps.clients.models import Client

    return Subquery(
        Client.all_objects.filter(pk=OuterRef(field)).annotate(name=_client_name("")).values("name")[:1],
        output_field=CharField(),
    )


def _clients_base(filters: ReportFilters) -> QuerySet:
    return _orders().filter(_period("created_at", filters), _order_filters(filters)).exclude(status="cancelled")


def clients_report(filters: ReportFilters) -> QuerySet:
    """Orders grouped by (client, currency), biggest turnover first.

    Only the turnover is aggregated over all orders (it decides the order of rows); the other figures
    are correlated subqueries over the same filters that PostgreSQL evaluates for the page's rows only.
    """

    def per_group(expression):
        rows = (
            _clients_base(filters).filter(client_id=OuterRef("client_id"), currency=OuterRef("currency"))
            .order_by().values("client_id").annotate(value=expression).values("value")[:1]
        )
        return Subquery(rows, output_field=expression.output_field)

    return (
        _clients_base(filters)
        .values("client_id", "currency")
        .annotate(turnover=Sum("total_amount"))
        .annotate(
            client_name=_client_name_of("client_id"),
            orders=per_group(Count("id")),
            paid=per_group(Sum(F("paid_amount") - F("refunded_amount"), output_field=MONEY)),
            debt=per_group(Coalesce(Sum("balance_due", filter=Q(balance_due__gt=0)), ZERO, output_field=MONEY)),
        )
        .order_by("-turnover", "client_id", "currency")
    )


def clients_report_all(filters: ReportFilters) -> QuerySet:
    """The same rows for a whole-report CSV: every figure aggregated in one pass (no per-row subqueries)."""
    return (
        _clients_base(filters)
        .values("client_id", "currency")
        .annotate(
            turnover=Sum("total_amount"),
            orders=Count("id"),
            paid=Sum(F("paid_amount") - F("refunded_amount"), output_field=MONEY),
            debt=Coalesce(Sum("balance_due", filter=Q(balance_due__gt=0)), ZERO, output_field=MONEY),
        )
        .annotate(client_name=_client_name_of("client_id"))
        .order_by("-turnover", "client_id", "currency")
    )


CLIENTS_COLUMNS = [
    Column("Клиент", "client_name"), Column("ID клиента", "client_id"), Column("Валюта", "currency"),
    Column("Заказов", "orders"), Column("Оборот", "turnover"), Column("Оплачено", "paid"), Column("Долг", "debt"),
]


# --- orders: total, paid, commission, debt per order -----------------------------------------------


def orders_report(filters: ReportFilters) -> QuerySet:
    return (
        _orders()
        .filter(_period("created_at", filters), _order_filters(filters))
        .values("id", "number", "status", "created_at", "deadline", "currency", "client_id", "operator_id",
                "total_amount", "paid_amount", "refunded_amount", "commission", "balance_due")
        .annotate(client_name=_client_name("client__"), operator_name=_operator_name(""))
        .order_by("-created_at", "-id")
    )


def orders_count(filters: ReportFilters) -> int:
    return _orders().filter(_period("created_at", filters), _order_filters(filters)).count()


ORDERS_COLUMNS = [
    Column("Номер заказа", "number"), Column("Дата", "created_at"), Column("Статус", "status"),
    Column("Клиент", "client_name"), Column("Менеджер", "operator_name"), Column("Валюта", "currency"),
    Column("Сумма", "total_amount"), Column("Оплачено", "paid_amount"), Column("Возвращено", "refunded_amount"),
    Column("Комиссия", "commission"), Column("Долг", "balance_due"), Column("Срок оплаты", "deadline"),
]


# --- debts: who owes what, how many days past the deadline, oldest first ---------------------------


def debts_report(filters: ReportFilters) -> QuerySet:
    return (
        _orders()
        .filter(_period("deadline", filters), _order_filters(filters), balance_due__gt=0, status__in=DEBT_STATUSES)
        .values("id", "number", "status", "deadline", "currency", "client_id", "operator_id",
                "total_amount", "paid_amount", "refunded_amount", "balance_due")
        .annotate(client_name=_client_name("client__"), operator_name=_operator_name(""))
        .order_by(F("deadline").asc(nulls_last=True), "id")
    )


def debts_count(filters: ReportFilters) -> int:
    """Debtors without the joins of the page query (names are only needed for the page)."""
    return (
        _orders()
        .filter(_period("deadline", filters), _order_filters(filters), balance_due__gt=0, status__in=DEBT_STATUSES)
        .count()
    )


def days_overdue(row: dict, today: date | None = None) -> int:
    deadline = row.get("deadline")
    if deadline is None:
        return 0
    today = today or timezone.localdate()
    return max((today - timezone.localtime(deadline).date()).days, 0)


DEBTS_COLUMNS = [
    Column("Клиент", "client_name"), Column("Номер заказа", "number"), Column("Менеджер", "operator_name"),
    Column("Валюта", "currency"), Column("Сумма заказа", "total_amount"), Column("Оплачено", "paid_amount"),
    Column("Долг", "balance_due"), Column("Срок оплаты", "deadline"), Column("Дней просрочки", days_overdue),
]


# --- commissions: per month, supplier, operator ----------------------------------------------------

COMMISSION_DIMENSIONS = ("month", "supplier", "operator")


def commissions_report(filters: ReportFilters, group_by: tuple[str, ...] = COMMISSION_DIMENSIONS) -> QuerySet:
    from apps.orders.models import Service

    fields: list[str] = []
    annotations: dict = {}
    if "month" in group_by:
        annotations["month"] = TruncMonth("order__created_at")
        fields.append("month")
    if "supplier" in group_by:
        annotations["supplier_name"] = Coalesce("supplier__name", Value("Без поставщика"))
        fields += ["supplier_id", "supplier_name"]
    if "operator" in group_by:
        annotations["operator_name"] = Coalesce("order__operator__full_name", Value("Без менеджера"))
        fields += ["order__operator_id", "operator_name"]
    return (
        Service.objects.filter(_period("order__created_at", filters), _order_filters(filters, "order__"))
        .exclude(status="cancelled")
        .exclude(order__status="cancelled")
        .annotate(**annotations, order_currency=F("order__currency"))
        .values(*fields, "order_currency")
        .annotate(
            services=Count("id"),
            orders=Count("order_id", distinct=True),
            sales=Sum("price_in_order_currency"),
            commission=Sum("commission_in_order_currency"),
        )
        .order_by(*[f for f in ("month", "supplier_name", "operator_name") if f in fields], "order_currency")
    )


COMMISSIONS_COLUMNS = [
    Column("Месяц", lambda row: row["month"].strftime("%m.%Y") if row.get("month") else ""),
    Column("Поставщик", "supplier_name"), Column("Менеджер", "operator_name"), Column("Валюта", "order_currency"),
    Column("Заказов", "orders"), Column("Услуг", "services"), Column("Продажи", "sales"),
    Column("Комиссия", "commission"),
]


# --- fx: exchange differences of payments against the rate of another date -------------------------


def _rub_rate(field: str, on_date: date):
    rate = CurrencyRate.objects.filter(date=on_date, currency=OuterRef(field)).order_by("-source").values("rate")[:1]
    return Case(When(**{field: "RUB"}, then=Value(1, output_field=WIDE)), default=Subquery(rate), output_field=WIDE)


def fx_report(filters: ReportFilters) -> QuerySet:
    on_date = filters.on_date or timezone.localdate()
    sign = Case(When(type=PaymentType.REFUND, then=Value(-1)), default=Value(1))
    qs = Payment.objects.filter(~Q(currency=F("order__currency")))
    if filters.date_from:
        qs = qs.filter(date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(date__lte=filters.date_to)
    qs = qs.filter(_order_filters(ReportFilters(operator=filters.operator, client=filters.client), "order__"))
    if filters.currency:
        qs = qs.filter(currency=filters.currency)
    return (
        qs.annotate(
            rate_pay_rub=_rub_rate("currency", on_date),
            rate_order_rub=_rub_rate("order__currency", on_date),
        )
        .annotate(
            rate_on_date=ExpressionWrapper(F("rate_pay_rub") / F("rate_order_rub"), output_field=WIDE),
        )
        .annotate(
            amount_on_date=Round(F("amount") * F("rate_on_date"), 2, output_field=MONEY),
        )
        .annotate(
            difference=ExpressionWrapper((F("amount_on_date") - F("amount_in_order_currency")) * sign,
                                         output_field=MONEY),
        )
        .values("id", "date", "type", "amount", "currency", "rate", "rate_is_manual", "amount_in_order_currency",
                "rate_on_date", "amount_on_date", "difference", order_number=F("order__number"),
                order_currency=F("order__currency"))
        .order_by("date", "id")
    )


FX_COLUMNS = [
    Column("Дата платежа", "date"), Column("Заказ", "order_number"),
    Column("Вид", lambda row: "Возврат" if row["type"] == PaymentType.REFUND else "Оплата"),
    Column("Сумма", "amount"), Column("Валюта платежа", "currency"), Column("Валюта заказа", "order_currency"),
    Column("Курс платежа", "rate"), Column("Курс вручную", "rate_is_manual"),
    Column("В валюте заказа по курсу платежа", "amount_in_order_currency"),
    Column("Курс на дату сравнения", "rate_on_date"), Column("В валюте заказа на дату сравнения", "amount_on_date"),
    Column("Курсовая разница", "difference"),
]


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    build: Callable[[ReportFilters], QuerySet]
    columns: list[Column]
    # A cheaper COUNT than the page query's; "window": the count comes with the page (one query).
    count: Callable[[ReportFilters], int] | str | None = None
    build_all: Callable[[ReportFilters], QuerySet] | None = None  # for the whole-report CSV, if different


REPORTS = {
    "clients": Report("clients", "Отчёт по клиентам", clients_report, CLIENTS_COLUMNS, "window",
                      clients_report_all),
    "orders": Report("orders", "Отчёт по заказам", orders_report, ORDERS_COLUMNS, orders_count),
    "debts": Report("debts", "Долги", debts_report, DEBTS_COLUMNS, debts_count),
    "commissions": Report("commissions", "Комиссии", commissions_report, COMMISSIONS_COLUMNS, "window"),
    "fx": Report("fx", "Курсовые разницы", fx_report, FX_COLUMNS),
}
