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
from apps.finance.models import (
    CurrencyRate,
    Payment,
    PaymentType,
    ReportClientDay,
    ReportDebtDay,
    ReportOrderDay,
    ReportSupplierDay,
    SummaryKind,
)
from apps.finance.queries import currency_totals_of_groups, groups_page_and_totals

MONEY = DecimalField(max_digits=14, decimal_places=2)
WIDE = DecimalField(max_digits=30, decimal_places=10)
# The one rule (docs/user/accountant.md): money moves, and debts count, only on confirmed, paid and
# completed orders — a draft is an offer, a cancelled order owes nothing. The same statuses as
# apps.orders.models.SETTLED_STATUSES (what we owe suppliers follows them too).
DEBT_STATUSES = ("confirmed", "paid", "completed")

ORDER_STATUS_LABELS = {
    "draft": "Черновик", "confirmed": "Подтверждён", "paid": "Оплачен", "completed": "Завершён",
    "cancelled": "Отменён",
}
LEAD_SOURCE_LABELS = {
    "telegram": "Telegram", "whatsapp": "WhatsApp", "email": "Электронная почта", "web": "Форма на сайте",
    "manual": "Вручную",
}


def status_label(row: dict, key: str = "status") -> str:
    """A status code as people read it (CSV / XLSX); the JSON API keeps the code."""
    return ORDER_STATUS_LABELS.get(row.get(key), row.get(key) or "")


@dataclass(frozen=True)
class ReportFilters:
    date_from: date | None = None
    date_to: date | None = None
    operator: int | None = None
    client: int | None = None
    currency: str | None = None
    on_date: date | None = None  # fx: the date to compare with (default today)
    supplier: int | None = None  # supplier debts, commissions
    ageing: str | None = None  # debts, supplier debts: one bucket of AGEING


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _given(**lookups) -> Q:
    """The lookups whose value the filter set (an empty value means "any")."""
    return Q(**{lookup: value for lookup, value in lookups.items() if value})


def _period(field: str, filters: ReportFilters) -> Q:
    """Aware datetime bounds, so the index on the column is used (no ::date cast)."""
    q = Q()
    if filters.date_from:
        q &= Q(**{f"{field}__gte": _start(filters.date_from)})
    if filters.date_to:
        q &= Q(**{f"{field}__lt": _start(filters.date_to + timedelta(days=1))})
    return q


def _month_first(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def summary_period(date_from: date | None, date_to: date | None) -> Q:
    """The rows of a day/month summary (apps.finance.models.Report*Day) that make up the local days
    date_from..date_to: the month rows of the whole months inside, the day rows of the days at the
    edges (none when the bounds are whole months or open)."""
    if date_from and date_to and date_from > date_to:
        return Q(pk__in=[])
    first_full = date_from if date_from is None or date_from.day == 1 else _next_month(date_from)
    after_full = None if date_to is None else (
        _next_month(date_to) if _next_month(date_to) - timedelta(days=1) == date_to else _month_first(date_to))
    if first_full is not None and after_full is not None and first_full >= after_full:
        return Q(kind=SummaryKind.DAY, day__gte=date_from, day__lte=date_to)  # no whole month inside
    q = Q(kind=SummaryKind.MONTH)
    if first_full is not None:
        q &= Q(day__gte=first_full)
    if after_full is not None:
        q &= Q(day__lt=after_full)
    if date_from and date_from < first_full:
        q |= Q(kind=SummaryKind.DAY, day__gte=date_from, day__lt=first_full)
    if date_to and after_full is not None and date_to >= after_full:
        q |= Q(kind=SummaryKind.DAY, day__gte=after_full, day__lte=date_to)
    return q


def _summary_filters(filters: ReportFilters, *, client: bool = False) -> Q:
    """Period, operator, currency (and client) of a summary's rows."""
    return summary_period(filters.date_from, filters.date_to) & _given(
        operator_id=filters.operator, currency=filters.currency, client_id=filters.client if client else None)


def _order_filters(filters: ReportFilters, prefix: str = "") -> Q:
    return _given(**{f"{prefix}operator_id": filters.operator, f"{prefix}client_id": filters.client,
                     f"{prefix}currency": filters.currency})


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


DEBT_Q = Q(balance_due__gt=0, status__in=DEBT_STATUSES)


def _client_name_of(field: str) -> Subquery:
    """The client's name by a correlated subquery: grouping stays on ids (no join, no text in GROUP BY),
    and PostgreSQL evaluates it only for the rows of the page."""
    from apps.clients.models import Client

    return Subquery(
        Client.all_objects.filter(pk=OuterRef(field)).annotate(name=_client_name("")).values("name")[:1],
        output_field=CharField(),
    )


def _clients_base(filters: ReportFilters) -> QuerySet:
    # Sales are settled orders: a draft is an offer, a cancelled order no sale (DEBT_STATUSES).
    return _orders().filter(_period("created_at", filters), _order_filters(filters), status__in=DEBT_STATUSES)


def _clients_summary(filters: ReportFilters) -> QuerySet:
    """The clients report's groups from the day/month summary (ReportClientDay): every figure summed."""
    return (
        ReportClientDay.objects.filter(_summary_filters(filters, client=True))
        .values("client_id", "currency")
        .annotate(turnover=Sum("turnover"), orders=Sum("orders"), paid=Sum("paid"), debt=Sum("debt"))
    )


def clients_report(filters: ReportFilters) -> QuerySet:
    """Orders grouped by (client, currency), biggest turnover first — summed from the summary kept on
    write (ReportClientDay: the period's whole months plus its edge days), not from every order."""
    return (
        _clients_summary(filters)
        .annotate(client_name=_client_name_of("client_id"))
        .order_by("-turnover", "client_id", "currency")
    )


def clients_page_and_totals(filters: ReportFilters, offset: int, limit: int) -> tuple[list[dict], int, list[dict]]:
    """The page (with names), the number of rows and the totals of the clients report from one
    aggregation of the summary (queries.groups_page_and_totals)."""
    from apps.clients.models import Client

    page, count, totals = groups_page_and_totals(
        _clients_summary(filters), order=("-turnover", "client_id", "currency"), sums=("turnover", "paid", "debt"),
        offset=offset, limit=limit)
    names = dict(Client.all_objects.filter(pk__in={row["client_id"] for row in page})
                 .annotate(name=_client_name("")).values_list("pk", "name"))
    return [{**row, "client_name": names.get(row["client_id"])} for row in page], count, totals


def clients_report_live(filters: ReportFilters) -> QuerySet:
    """The same rows aggregated from the orders themselves (what the summary must equal; tests).

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
            debt=per_group(Coalesce(Sum("balance_due", filter=DEBT_Q), ZERO, output_field=MONEY)),
        )
        .order_by("-turnover", "client_id", "currency")
    )


def clients_report_all(filters: ReportFilters) -> QuerySet:
    """The same rows for a whole-report CSV (the summary's groups, names of all rows)."""
    return (
        _clients_summary(filters)
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
                "total_amount", "paid_amount", "refunded_amount", "commission", "balance_due", "cost_amount",
                "margin", "supplier_paid_amount", "supplier_balance_due")
        .annotate(client_name=_client_name("client__"), operator_name=_operator_name(""))
        .order_by("-created_at", "-id")
    )


ORDERS_COLUMNS = [
    Column("Номер заказа", "number"), Column("Дата", "created_at"), Column("Статус", status_label),
    Column("Клиент", "client_name"), Column("Менеджер", "operator_name"), Column("Валюта", "currency"),
    Column("Сумма", "total_amount"), Column("Оплачено", "paid_amount"), Column("Возвращено", "refunded_amount"),
    Column("Комиссия", "commission"), Column("Себестоимость", "cost_amount"), Column("Маржа", "margin"),
    Column("Оплачено поставщикам", "supplier_paid_amount"), Column("Долг поставщикам", "supplier_balance_due"),
    Column("Долг клиента", lambda row: row["balance_due"] if row["status"] in DEBT_STATUSES else ZERO),
    Column("Срок оплаты", "deadline"),
]


# --- debts: who owes what, how many days past the deadline, oldest first ---------------------------


# Ageing of a debt by its due date: not due yet (or no date), 1–30, 31–90 and more than 90 days overdue.
AGEING = {
    "not_due": "Срок не наступил",
    "1_30": "1–30 дней",
    "31_90": "31–90 дней",
    "90_plus": "Больше 90 дней",
}


def _ageing_bounds(today: date) -> dict[str, tuple[date | None, date | None]]:
    """Bucket → (due on or after, due before) as local days."""
    return {
        "not_due": (today, None),
        "1_30": (today - timedelta(days=30), today),
        "31_90": (today - timedelta(days=90), today - timedelta(days=30)),
        "90_plus": (None, today - timedelta(days=90)),
    }


def ageing_q(field: str, bucket: str, *, is_datetime: bool, today: date | None = None) -> Q:
    """The rows of one ageing bucket by the due `field` (an aware datetime or a date column)."""
    since, before = _ageing_bounds(today or timezone.localdate())[bucket]
    convert = _start if is_datetime else (lambda day: day)
    q = Q()
    if since is not None:
        q &= Q(**{f"{field}__gte": convert(since)})
    if before is not None:
        q &= Q(**{f"{field}__lt": convert(before)})
    if bucket == "not_due":
        q |= Q(**{f"{field}__isnull": True})
    return q


def ageing_of(due: date | None, today: date | None = None) -> str:
    if due is None:
        return "not_due"
    overdue = ((today or timezone.localdate()) - due).days
    if overdue <= 0:
        return "not_due"
    return "1_30" if overdue <= 30 else "31_90" if overdue <= 90 else "90_plus"


def _debts_base(filters: ReportFilters) -> QuerySet:
    qs = _orders().filter(_period("deadline", filters), _order_filters(filters), balance_due__gt=0,
                          status__in=DEBT_STATUSES)
    if filters.ageing:
        qs = qs.filter(ageing_q("deadline", filters.ageing, is_datetime=True))
    return qs


def debts_report(filters: ReportFilters) -> QuerySet:
    return (
        _debts_base(filters)
        .values("id", "number", "status", "deadline", "currency", "client_id", "operator_id",
                "total_amount", "paid_amount", "refunded_amount", "balance_due")
        .annotate(client_name=_client_name("client__"), operator_name=_operator_name(""))
        .order_by(F("deadline").asc(nulls_last=True), "id")
    )


def _ageing_totals(qs: QuerySet, amount: str, due_field: str, *, is_datetime: bool, rows=None) -> list[dict]:
    """Per currency: the total, the rows (`rows`: an aggregate; default one per row of `qs`) and each
    ageing bucket's part — one aggregate query."""
    buckets = {
        f"ageing_{bucket}": Coalesce(Sum(amount, filter=ageing_q(due_field, bucket, is_datetime=is_datetime)),
                                     ZERO, output_field=MONEY)
        for bucket in AGEING
    }
    return list(qs.values("currency").annotate(total=Sum(amount), rows=rows or Count("id"), **buckets)
                .order_by("currency"))


def debts_totals(filters: ReportFilters) -> list[dict]:
    """From the summary of debts per local due day (ReportDebtDay); a client's debts from its orders."""
    if filters.client:
        return debts_totals_live(filters)
    qs = ReportDebtDay.objects.filter(_given(
        due_day__gte=filters.date_from, due_day__lte=filters.date_to, operator_id=filters.operator,
        currency=filters.currency,
    ))
    if filters.ageing:
        qs = qs.filter(ageing_q("due_day", filters.ageing, is_datetime=False))
    return _ageing_totals(qs, "balance", "due_day", is_datetime=False, rows=Sum("orders"))  # a row per day


def debts_totals_live(filters: ReportFilters) -> list[dict]:
    return _ageing_totals(_debts_base(filters).order_by(), "balance_due", "deadline", is_datetime=True)


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
    Column("Просрочка", lambda row: AGEING[ageing_of(timezone.localtime(row["deadline"]).date()
                                                     if row.get("deadline") else None)]),
]


# --- commissions: per month, supplier, operator ----------------------------------------------------

COMMISSION_DIMENSIONS = ("month", "supplier", "operator")


def _sales_services(filters: ReportFilters) -> QuerySet:
    """Active services of settled orders (a draft is not a sale yet, a cancelled one no longer)."""
    from apps.orders.models import Service

    qs = (Service.objects.filter(_period("order__created_at", filters), _order_filters(filters, "order__"),
                                 order__status__in=DEBT_STATUSES)
          .exclude(status="cancelled"))
    if filters.supplier:
        qs = qs.filter(supplier_id=filters.supplier)
    return qs


def commissions_totals(filters: ReportFilters) -> list[dict]:
    """From the summaries: without a supplier filter the orders' own totals (ReportOrderDay, kept equal
    to the sum of their active services), with one the services' (ReportSupplierDay)."""
    if filters.client:
        return commissions_totals_live(filters)
    if not filters.supplier:
        return list(
            ReportOrderDay.objects.filter(_summary_filters(filters), status__in=DEBT_STATUSES)
            .values(order_currency=F("currency")).annotate(
                rows=Sum("orders"), sales=Sum("total_amount"), commission=Sum("commission"), cost=Sum("cost_amount"),
                margin=Sum("margin"),
            ).order_by("order_currency")
        )
    return list(
        ReportSupplierDay.objects.filter(_summary_filters(filters), supplier_id=filters.supplier)
        .values(order_currency=F("currency")).annotate(
            rows=Sum("orders"), sales=Sum("sales_total"), commission=Sum("commission_total"), cost=Sum("cost_total"),
            margin=Sum(F("sales_total") - F("cost_total"), output_field=MONEY),
        ).order_by("order_currency")
    )


def commissions_totals_live(filters: ReportFilters) -> list[dict]:
    if not filters.supplier:
        return list(
            _orders().filter(_period("created_at", filters), _order_filters(filters), status__in=DEBT_STATUSES)
            .values(order_currency=F("currency")).annotate(
                rows=Count("id"), sales=Sum("total_amount"), commission=Sum("commission"), cost=Sum("cost_amount"),
                margin=Sum("margin"),
            ).order_by("order_currency")
        )
    return list(
        _sales_services(filters).values(order_currency=F("order__currency")).annotate(
            rows=Count("order_id", distinct=True), sales=Sum("price_in_order_currency"),
            commission=Sum("commission_in_order_currency"), cost=Sum("cost_in_order_currency"),
            margin=Sum(F("price_in_order_currency") - F("cost_in_order_currency"), output_field=MONEY),
        ).order_by("order_currency")
    )


def commissions_report(filters: ReportFilters, group_by: tuple[str, ...] = COMMISSION_DIMENSIONS) -> QuerySet:
    """From the services' summary (ReportSupplierDay). Its `orders` add up only within one supplier
    (an order with two suppliers counts once for each): without the supplier dimension, or for one
    client, the services themselves are grouped."""
    if filters.client or "supplier" not in group_by:
        return commissions_report_live(filters, group_by)
    fields: list[str] = []
    annotations: dict = {}
    if "month" in group_by:
        annotations["month"] = TruncMonth("month_start")
        fields.append("month")
    annotations["supplier_name"] = Coalesce("supplier__name", Value("Без поставщика"))
    fields += ["supplier_id", "supplier_name"]
    if "operator" in group_by:
        annotations["operator_name"] = Coalesce("operator__full_name", Value("Без менеджера"))
        annotations["order__operator_id"] = F("operator_id")
        fields += ["order__operator_id", "operator_name"]
    qs = ReportSupplierDay.objects.filter(_summary_filters(filters))
    if filters.supplier:
        qs = qs.filter(supplier_id=filters.supplier)
    return (
        qs.annotate(**annotations, order_currency=F("currency"))
        .values(*fields, "order_currency")
        .annotate(
            services=Sum("services"),
            orders=Sum("orders"),
            sales=Sum("sales_total"),
            commission=Sum("commission_total"),
            cost=Sum("cost_total"),
            margin=Sum(F("sales_total") - F("cost_total"), output_field=MONEY),
        )
        .order_by(*[f for f in ("month", "supplier_name", "operator_name") if f in fields], "order_currency")
    )


def commissions_report_live(filters: ReportFilters,
                            group_by: tuple[str, ...] = COMMISSION_DIMENSIONS) -> QuerySet:
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
        _sales_services(filters)
        .annotate(**annotations, order_currency=F("order__currency"))
        .values(*fields, "order_currency")
        .annotate(
            services=Count("id"),
            orders=Count("order_id", distinct=True),
            sales=Sum("price_in_order_currency"),
            commission=Sum("commission_in_order_currency"),
            cost=Sum("cost_in_order_currency"),
            margin=Sum(F("price_in_order_currency") - F("cost_in_order_currency"), output_field=MONEY),
        )
        .order_by(*[f for f in ("month", "supplier_name", "operator_name") if f in fields], "order_currency")
    )


COMMISSIONS_COLUMNS = [
    Column("Месяц", lambda row: row["month"].strftime("%m.%Y") if row.get("month") else ""),
    Column("Поставщик", "supplier_name"), Column("Менеджер", "operator_name"), Column("Валюта", "order_currency"),
    Column("Заказов", "orders"), Column("Услуг", "services"), Column("Продажи", "sales"),
    Column("Комиссия", "commission"), Column("Себестоимость", "cost"), Column("Маржа", "margin"),
]


# --- fx: exchange differences of payments against the rate of another date -------------------------


def _rub_rate(field: str, on_date: date):
    rate = CurrencyRate.objects.filter(date=on_date, currency=OuterRef(field)).order_by("-source").values("rate")[:1]
    return Case(When(**{field: "RUB"}, then=Value(1, output_field=WIDE)), default=Subquery(rate), output_field=WIDE)


def fx_report(filters: ReportFilters) -> QuerySet:
    on_date = filters.on_date or timezone.localdate()
    sign = Case(When(type=PaymentType.REFUND, then=Value(-1)), default=Value(1))
    # in_other_currency: the partial index finance_payment_fx_idx (set on create; both currencies are fixed).
    qs = Payment.objects.filter(in_other_currency=True)
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


def fx_totals(filters: ReportFilters) -> list[dict]:
    return list(
        fx_report(filters).order_by().values("order_currency").annotate(
            rows=Count("id"), difference=Sum("difference"),
        ).values("rows", "difference", currency=F("order_currency")).order_by("currency")
    )


def _clients_groups(filters: ReportFilters) -> QuerySet:
    """The clients report's rows with every figure, unordered and without names."""
    return (
        _clients_base(filters)
        .values("client_id", "currency")
        .annotate(
            turnover=Sum("total_amount"),
            orders=Count("id"),
            paid=Sum(F("paid_amount") - F("refunded_amount"), output_field=MONEY),
            debt=Coalesce(Sum("balance_due", filter=DEBT_Q), ZERO, output_field=MONEY),
        )
    )


def clients_totals(filters: ReportFilters) -> list[dict]:
    """Per currency: the report's rows (clients) and their turnover, paid and debt — summed over the
    report's groups of the summary (queries.currency_totals_of_groups)."""
    return currency_totals_of_groups(_clients_summary(filters), ("turnover", "paid", "debt"))


def clients_totals_live(filters: ReportFilters) -> list[dict]:
    return currency_totals_of_groups(_clients_groups(filters), ("turnover", "paid", "debt"))


def orders_totals(filters: ReportFilters) -> list[dict]:
    """From the orders' summary (ReportOrderDay, every status); a client's orders from themselves."""
    if filters.client:
        return orders_totals_live(filters)
    return list(
        ReportOrderDay.objects.filter(_summary_filters(filters)).values("currency").annotate(
            rows=Sum("orders"), total_amount=Sum("total_amount"), paid_amount=Sum("paid_amount"),
            refunded_amount=Sum("refunded_amount"), commission=Sum("commission"), cost_amount=Sum("cost_amount"),
            margin=Sum("margin"), debt=Sum("debt"), supplier_balance_due=Sum("supplier_balance_due"),
        ).order_by("currency")
    )


def orders_totals_live(filters: ReportFilters) -> list[dict]:
    return list(
        _orders().filter(_period("created_at", filters), _order_filters(filters)).values("currency").annotate(
            rows=Count("id"), total_amount=Sum("total_amount"), paid_amount=Sum("paid_amount"),
            refunded_amount=Sum("refunded_amount"), commission=Sum("commission"), cost_amount=Sum("cost_amount"),
            margin=Sum("margin"), debt=Coalesce(Sum("balance_due", filter=DEBT_Q), ZERO, output_field=MONEY),
            supplier_balance_due=Sum("supplier_balance_due"),
        ).order_by("currency")
    )


# --- supplier debts: what we owe each supplier by order, oldest due date first ---------------------


def _supplier_debts_base(filters: ReportFilters) -> QuerySet:
    """Rows of orders_supplierbalance that are not settled (balance ≠ 0: its partial indexes).

    The balances already follow the rule on drafts: only confirmed, paid and completed orders owe
    their suppliers; a cancelled order's row shows what the supplier must return (negative)."""
    from apps.orders.models import SupplierBalance

    qs = SupplierBalance.objects.exclude(balance=0).filter(_given(
        supplier_id=filters.supplier, currency=filters.currency, order__operator_id=filters.operator,
        order__client_id=filters.client, due_date__gte=filters.date_from, due_date__lte=filters.date_to,
    ))
    if filters.ageing:
        qs = qs.filter(ageing_q("due_date", filters.ageing, is_datetime=False))
    return qs


def supplier_debts_report(filters: ReportFilters) -> QuerySet:
    return (
        _supplier_debts_base(filters)
        .values("id", "order_id", "supplier_id", "cost", "paid", "balance", "due_date",
                "currency", order_number=F("order__number"), order_status=F("order__status"))
        .annotate(supplier_name=Coalesce("supplier__name", Value("Без поставщика")))
        .order_by(F("due_date").asc(nulls_last=True), "order_id", "supplier_id")
    )


def supplier_debts_totals(filters: ReportFilters) -> list[dict]:
    # The row's own currency: no join of the orders.
    return _ageing_totals(_supplier_debts_base(filters).order_by(), "balance", "due_date", is_datetime=False)


def supplier_days_overdue(row: dict, today: date | None = None) -> int:
    if row.get("due_date") is None:
        return 0
    return max(((today or timezone.localdate()) - row["due_date"]).days, 0)


SUPPLIER_DEBTS_COLUMNS = [
    Column("Поставщик", "supplier_name"), Column("Номер заказа", "order_number"),
    Column("Статус заказа", lambda row: status_label(row, "order_status")), Column("Валюта", "currency"),
    Column("Начислено", "cost"), Column("Оплачено", "paid"), Column("Долг", "balance"),
    Column("Срок оплаты", "due_date"), Column("Дней просрочки", supplier_days_overdue),
    Column("Просрочка", lambda row: AGEING[ageing_of(row.get("due_date"))]),
]


# --- sales and margin by month ---------------------------------------------------------------------


def _sales_orders(filters: ReportFilters) -> QuerySet:
    return _orders().filter(_period("created_at", filters), _order_filters(filters), status__in=DEBT_STATUSES)


def _sales_summary(filters: ReportFilters) -> QuerySet:
    return ReportOrderDay.objects.filter(_summary_filters(filters), status__in=DEBT_STATUSES)


def _sales_sums() -> dict:
    """The sales report's money columns: the orders and their summary (ReportOrderDay) name them alike."""
    return {"sales": Sum("total_amount"), "cost": Sum("cost_amount"), "margin": Sum("margin"),
            "commission": Sum("commission")}


def _sales_by_month(qs: QuerySet, *, month_of: str, orders) -> QuerySet:
    return (
        qs.annotate(month=TruncMonth(month_of))
        .values("month", "currency")
        .annotate(orders=orders, **_sales_sums(),
                  paid=Sum(F("paid_amount") - F("refunded_amount"), output_field=MONEY))
        .order_by("month", "currency")
    )


def _sales_by_currency(qs: QuerySet, *, rows) -> list[dict]:
    return list(qs.values("currency").annotate(rows=rows, **_sales_sums()).order_by("currency"))


def sales_report(filters: ReportFilters) -> QuerySet:
    """By month and currency from the orders' summary (ReportOrderDay); a client's from its orders."""
    if filters.client:
        return sales_report_live(filters)
    return _sales_by_month(_sales_summary(filters), month_of="month_start", orders=Sum("orders"))


def sales_report_live(filters: ReportFilters) -> QuerySet:
    return _sales_by_month(_sales_orders(filters), month_of="created_at", orders=Count("id"))


def sales_totals(filters: ReportFilters) -> list[dict]:
    if filters.client:
        return sales_totals_live(filters)
    return _sales_by_currency(_sales_summary(filters), rows=Sum("orders"))


def sales_totals_live(filters: ReportFilters) -> list[dict]:
    return _sales_by_currency(_sales_orders(filters), rows=Count("id"))


SALES_COLUMNS = [
    Column("Месяц", lambda row: row["month"].strftime("%m.%Y") if row.get("month") else ""),
    Column("Валюта", "currency"), Column("Заказов", "orders"), Column("Продажи", "sales"),
    Column("Себестоимость", "cost"), Column("Маржа", "margin"), Column("Комиссия", "commission"),
    Column("Оплачено клиентами", "paid"),
]


# --- funnel: leads → orders → paid, by channel or by manager ---------------------------------------

FUNNEL_PAID = Q(order__status__in=("paid", "completed")) | Q(
    order__total_amount__gt=0, order__paid_amount__gte=F("order__total_amount") + F("order__refunded_amount"))


def _funnel_base(filters: ReportFilters) -> QuerySet:
    from apps.leads.models import Lead

    qs = Lead.objects.filter(_period("created_at", filters))
    if filters.operator:
        qs = qs.filter(operator_id=filters.operator)
    if filters.client:
        qs = qs.filter(client_id=filters.client)
    return qs


def funnel_report(filters: ReportFilters, by: str = "source") -> QuerySet:
    """Leads of the period grouped by channel (`source`) or manager (`operator`): how many became
    orders (converted) and how many of those orders are paid — one aggregate query."""
    key = "source" if by == "source" else "operator_id"
    qs = _funnel_base(filters).values(key)
    if by != "source":
        qs = qs.annotate(operator_name=Coalesce("operator__full_name", Value("Без менеджера")))
    return qs.annotate(
        leads=Count("id"),
        orders=Count("id", filter=Q(order__isnull=False) & ~Q(order__status="cancelled")),
        paid=Count("id", filter=FUNNEL_PAID),
    ).order_by("-leads", key)


def funnel_totals(filters: ReportFilters) -> list[dict]:
    row = _funnel_base(filters).aggregate(
        rows=Count("id"), leads=Count("id"),
        orders=Count("id", filter=Q(order__isnull=False) & ~Q(order__status="cancelled")),
        paid=Count("id", filter=FUNNEL_PAID),
    )
    return [{"currency": "", **row}]


FUNNEL_COLUMNS = [
    Column("Канал", lambda row: LEAD_SOURCE_LABELS.get(row.get("source"), row.get("source") or "")),
    Column("Менеджер", "operator_name"), Column("Заявок", "leads"), Column("Заказов", "orders"),
    Column("Оплачено", "paid"),
]


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    build: Callable[[ReportFilters], QuerySet]
    columns: list[Column]
    # A cheaper COUNT than the page query's; "window": the count comes with the page (one query);
    # "totals": the sum of the totals' `rows` (the totals aggregate the same rows anyway).
    count: Callable[[ReportFilters], int] | str | None = None
    build_all: Callable[[ReportFilters], QuerySet] | None = None  # for the whole-report CSV, if different
    # Per currency, the figures of everything the filter selects (not only the page): one aggregate query.
    totals: Callable[[ReportFilters], list[dict]] | None = None
    # (filters, offset, limit) → (page rows, number of rows, totals) in one statement, when the report has it.
    page_and_totals: Callable[[ReportFilters, int, int], tuple[list[dict], int, list[dict]]] | None = None


REPORTS = {
    "clients": Report("clients", "Отчёт по клиентам", clients_report, CLIENTS_COLUMNS, "window",
                      clients_report_all, clients_totals, clients_page_and_totals),
    "orders": Report("orders", "Отчёт по заказам", orders_report, ORDERS_COLUMNS, "totals",
                     totals=orders_totals),
    "debts": Report("debts", "Долги клиентов", debts_report, DEBTS_COLUMNS, "totals", totals=debts_totals),
    "commissions": Report("commissions", "Комиссии и маржа", commissions_report, COMMISSIONS_COLUMNS, "window",
                          totals=commissions_totals),
    "fx": Report("fx", "Курсовые разницы", fx_report, FX_COLUMNS, totals=fx_totals),
    "supplier-debts": Report("supplier-debts", "Долги поставщикам", supplier_debts_report, SUPPLIER_DEBTS_COLUMNS,
                             "totals", totals=supplier_debts_totals),
    "sales": Report("sales", "Продажи и маржа по месяцам", sales_report, SALES_COLUMNS, "window",
                    totals=sales_totals),
    "funnel": Report("funnel", "Воронка: заявки → заказы → оплаты", funnel_report, FUNNEL_COLUMNS, "window",
                     totals=funnel_totals),
}
