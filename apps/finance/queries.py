"""Hand-written SQL of the finance app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

- The 1C export's opening balance: two sums in one statement, so the export keeps its statement
  budget (apps/finance/tests/test_exports.py).
- Per-currency totals over the rows of a grouped report query (the clients report): the ORM cannot
  group the result of a GROUP BY again.

Each is tested against its ORM equivalent in apps/finance/tests/test_queries.py.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import QuerySet
from psycopg import sql

from apps.core.rows import render, table_sql
from apps.finance.models import Payment, SupplierPayment


@functools.cache
def _opening_balance_statement() -> str:
    # The ruble account's movements recorded before a date: clients' payments and suppliers' refunds
    # in, clients' refunds and payments to suppliers out (the (method, date) indexes of both tables).
    net = sql.SQL(
        "coalesce((SELECT sum(CASE WHEN type = 'payment' THEN amount ELSE -amount END) FROM {table} "
        "WHERE method = 'bank_transfer' AND currency = 'RUB' AND date < %(day)s), 0)"
    )
    return render(
        sql.SQL("SELECT {clients} - {suppliers}").format(
            clients=net.format(table=table_sql(Payment)), suppliers=net.format(table=table_sql(SupplierPayment))
        )
    )


def bank_rub_net_before(day: date) -> Decimal:
    """Σ clients' ruble bank payments (refunds negative) − Σ the same to suppliers, before `day`."""
    with connection.cursor() as cursor:
        cursor.execute(_opening_balance_statement(), {"day": day})
        return Decimal(cursor.fetchone()[0])


def currency_totals_of_groups(groups: QuerySet, sums: tuple[str, ...]) -> list[dict]:
    """Per currency: how many rows the grouped query `groups` gives (`rows`) and the sums of its
    `sums` columns — one pass over the orders, where COUNT(DISTINCT client_id) beside the sums
    sorted every order of the period again (4.7 s of the clients report's 6.6 s at a million orders).

    `groups` is a values() queryset with a `currency` column and the `sums` as annotations.
    """
    inner, params = groups.order_by().query.sql_with_params()
    statement = sql.SQL(
        "SELECT {currency}, count(*) AS rows, {sums} FROM ({inner}) AS groups GROUP BY 1 ORDER BY 1"
    ).format(
        currency=sql.Identifier("currency"),
        sums=sql.SQL(", ").join(sql.SQL("sum({name}) AS {name}").format(name=sql.Identifier(name)) for name in sums),
        inner=sql.SQL(inner),  # the ORM's own compiled text; its values stay parameters
    )
    with connection.cursor() as cursor:
        cursor.execute(render(statement), params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- Report summaries kept by triggers (docs/development.md, «Report summaries») -----------------------
# Every write of an order or a service — a service, a payment, a status change, the seed of a bench,
# an UPDATE by hand — moves the sums of apps.finance.models.Report* in the same transaction: the
# trigger subtracts the row's old contribution and adds its new one. A row whose count reaches 0 is
# deleted. Days are local days of settings.TIME_ZONE (written into the functions when installed:
# after a change of TIME_ZONE run `manage.py rebuild_report_summaries`).

_SETTLED = sql.SQL("('confirmed', 'paid', 'completed')")  # apps.orders.models.SETTLED_STATUSES

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION finance_report_supplier_add(
    p_kind text, p_day date, p_month timestamptz, p_supplier bigint, p_operator bigint, p_currency text,
    p_services bigint, p_orders bigint, p_sales numeric, p_commission numeric, p_cost numeric
) RETURNS void LANGUAGE plpgsql AS $fn$
-- One (day or month, supplier, operator, currency) row of the supplier summary moved by the given
-- amounts (negative to take a contribution away); the row goes when no service is left in it.
DECLARE
    row_id tid;
    n integer;
BEGIN
    INSERT INTO {supplier_day} AS t (kind, day, month_start, supplier_id, operator_id, currency, services, orders,
                                     sales_total, commission_total, cost_total)
    VALUES (p_kind, p_day, p_month, p_supplier, p_operator, p_currency, p_services, p_orders, p_sales,
            p_commission, p_cost)
    ON CONFLICT (kind, day, supplier_id, operator_id, currency) DO UPDATE SET
        services = t.services + excluded.services, orders = t.orders + excluded.orders,
        sales_total = t.sales_total + excluded.sales_total,
        commission_total = t.commission_total + excluded.commission_total,
        cost_total = t.cost_total + excluded.cost_total
    RETURNING ctid, t.services INTO row_id, n;
    IF n = 0 THEN DELETE FROM {supplier_day} WHERE ctid = row_id; END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION finance_report_order_apply(o {orders}, sign integer, with_services boolean)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    d date := (o.created_at AT TIME ZONE {tz})::date;
    m date := date_trunc('month', o.created_at AT TIME ZONE {tz})::date;
    mt timestamptz := date_trunc('month', o.created_at AT TIME ZONE {tz}) AT TIME ZONE {tz};
    settled boolean := o.status IN {settled};
    debt numeric := CASE WHEN o.status IN {settled} AND o.balance_due > 0 THEN o.balance_due ELSE 0 END;
    k text;
    dd date;
    row_id tid;
    n integer;
    s record;
BEGIN
    FOREACH k IN ARRAY ARRAY['d', 'm'] LOOP
        dd := CASE WHEN k = 'd' THEN d ELSE m END;
        INSERT INTO {order_day} AS t (kind, day, month_start, status, currency, operator_id, orders, total_amount,
                                      paid_amount, refunded_amount, commission, cost_amount, margin, debt,
                                      supplier_balance_due)
        VALUES (k, dd, mt, o.status, o.currency, o.operator_id, sign, sign * o.total_amount, sign * o.paid_amount,
                sign * o.refunded_amount, sign * o.commission, sign * o.cost_amount, sign * o.margin, sign * debt,
                sign * o.supplier_balance_due)
        ON CONFLICT (kind, day, status, currency, operator_id) DO UPDATE SET
            orders = t.orders + excluded.orders, total_amount = t.total_amount + excluded.total_amount,
            paid_amount = t.paid_amount + excluded.paid_amount,
            refunded_amount = t.refunded_amount + excluded.refunded_amount,
            commission = t.commission + excluded.commission, cost_amount = t.cost_amount + excluded.cost_amount,
            margin = t.margin + excluded.margin, debt = t.debt + excluded.debt,
            supplier_balance_due = t.supplier_balance_due + excluded.supplier_balance_due
        RETURNING ctid, orders INTO row_id, n;
        IF n = 0 THEN DELETE FROM {order_day} WHERE ctid = row_id; END IF;
        IF settled THEN
            INSERT INTO {client_day} AS t (kind, day, month_start, client_id, currency, operator_id, orders, turnover,
                                           paid, debt)
            VALUES (k, dd, mt, o.client_id, o.currency, o.operator_id, sign, sign * o.total_amount,
                    sign * (o.paid_amount - o.refunded_amount), sign * debt)
            ON CONFLICT (kind, day, client_id, currency, operator_id) DO UPDATE SET
                orders = t.orders + excluded.orders, turnover = t.turnover + excluded.turnover,
                paid = t.paid + excluded.paid, debt = t.debt + excluded.debt
            RETURNING ctid, orders INTO row_id, n;
            IF n = 0 THEN DELETE FROM {client_day} WHERE ctid = row_id; END IF;
        END IF;
        IF settled AND with_services THEN
            FOR s IN SELECT supplier_id, count(*) AS services, sum(price_in_order_currency) AS sales,
                            sum(commission_in_order_currency) AS commission, sum(cost_in_order_currency) AS cost
                       FROM {services} WHERE order_id = o.id AND status <> 'cancelled' GROUP BY supplier_id
            LOOP
                PERFORM finance_report_supplier_add(k, dd, mt, s.supplier_id, o.operator_id, o.currency,
                                                    sign * s.services, sign, sign * s.sales, sign * s.commission,
                                                    sign * s.cost);
            END LOOP;
        END IF;
    END LOOP;
    IF debt > 0 THEN
        INSERT INTO {debt_day} AS t (due_day, currency, operator_id, orders, balance)
        VALUES ((o.deadline AT TIME ZONE {tz})::date, o.currency, o.operator_id, sign, sign * debt)
        ON CONFLICT (due_day, currency, operator_id) DO UPDATE SET
            orders = t.orders + excluded.orders, balance = t.balance + excluded.balance
        RETURNING ctid, orders INTO row_id, n;
        IF n = 0 THEN DELETE FROM {debt_day} WHERE ctid = row_id; END IF;
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION finance_report_order_trigger() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    moved boolean := TG_OP <> 'UPDATE' OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.operator_id IS DISTINCT FROM NEW.operator_id
        OR OLD.currency IS DISTINCT FROM NEW.currency;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM finance_report_order_apply(OLD, -1, moved); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM finance_report_order_apply(NEW, 1, moved); END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION finance_report_service_apply(s {services}, sign integer)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    o {orders};
    k text;
    row_id tid;
    n integer;
    counted integer;
BEGIN
    IF s.status = 'cancelled' THEN RETURN; END IF;
    INSERT INTO {order_supplier} AS t (order_id, supplier_id, services) VALUES (s.order_id, s.supplier_id, sign)
    ON CONFLICT (order_id, supplier_id) DO UPDATE SET services = t.services + excluded.services
    RETURNING ctid, services INTO row_id, n;
    IF n = 0 THEN DELETE FROM {order_supplier} WHERE ctid = row_id; END IF;
    -- The order counts for the supplier from its first active service to its last.
    counted := CASE WHEN sign = 1 AND n = 1 THEN 1 WHEN sign = -1 AND n = 0 THEN -1 ELSE 0 END;
    SELECT * INTO o FROM {orders} WHERE id = s.order_id;
    IF NOT FOUND OR o.status NOT IN {settled} THEN RETURN; END IF;
    FOREACH k IN ARRAY ARRAY['d', 'm'] LOOP
        PERFORM finance_report_supplier_add(
            k, CASE WHEN k = 'd' THEN (o.created_at AT TIME ZONE {tz})::date
                    ELSE date_trunc('month', o.created_at AT TIME ZONE {tz})::date END,
            date_trunc('month', o.created_at AT TIME ZONE {tz}) AT TIME ZONE {tz}, s.supplier_id, o.operator_id,
            o.currency, sign, counted, sign * s.price_in_order_currency, sign * s.commission_in_order_currency,
            sign * s.cost_in_order_currency);
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION finance_report_service_trigger() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM finance_report_service_apply(OLD, -1); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM finance_report_service_apply(NEW, 1); END IF;
    RETURN NULL;
END
$fn$;
"""

_DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS finance_report_order_write ON {orders};
DROP TRIGGER IF EXISTS finance_report_order_update ON {orders};
DROP TRIGGER IF EXISTS finance_report_service_write ON {services};
DROP TRIGGER IF EXISTS finance_report_service_update ON {services};
"""

_TRIGGERS = _DROP_TRIGGERS + """
CREATE TRIGGER finance_report_order_write AFTER INSERT OR DELETE ON {orders}
    FOR EACH ROW EXECUTE FUNCTION finance_report_order_trigger();
CREATE TRIGGER finance_report_order_update AFTER UPDATE ON {orders} FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.currency IS DISTINCT FROM NEW.currency
          OR OLD.operator_id IS DISTINCT FROM NEW.operator_id OR OLD.client_id IS DISTINCT FROM NEW.client_id
          OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.deadline IS DISTINCT FROM NEW.deadline
          OR OLD.total_amount IS DISTINCT FROM NEW.total_amount OR OLD.paid_amount IS DISTINCT FROM NEW.paid_amount
          OR OLD.refunded_amount IS DISTINCT FROM NEW.refunded_amount
          OR OLD.commission IS DISTINCT FROM NEW.commission OR OLD.cost_amount IS DISTINCT FROM NEW.cost_amount
          OR OLD.margin IS DISTINCT FROM NEW.margin OR OLD.balance_due IS DISTINCT FROM NEW.balance_due
          OR OLD.supplier_balance_due IS DISTINCT FROM NEW.supplier_balance_due)
    EXECUTE FUNCTION finance_report_order_trigger();
CREATE TRIGGER finance_report_service_write AFTER INSERT OR DELETE ON {services}
    FOR EACH ROW EXECUTE FUNCTION finance_report_service_trigger();
CREATE TRIGGER finance_report_service_update AFTER UPDATE ON {services} FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.order_id IS DISTINCT FROM NEW.order_id
          OR OLD.supplier_id IS DISTINCT FROM NEW.supplier_id
          OR OLD.price_in_order_currency IS DISTINCT FROM NEW.price_in_order_currency
          OR OLD.commission_in_order_currency IS DISTINCT FROM NEW.commission_in_order_currency
          OR OLD.cost_in_order_currency IS DISTINCT FROM NEW.cost_in_order_currency)
    EXECUTE FUNCTION finance_report_service_trigger();
"""

_UNINSTALL = _DROP_TRIGGERS + """
DROP FUNCTION IF EXISTS finance_report_order_trigger();
DROP FUNCTION IF EXISTS finance_report_service_trigger();
DROP FUNCTION IF EXISTS finance_report_order_apply({orders}, integer, boolean);
DROP FUNCTION IF EXISTS finance_report_service_apply({services}, integer);
DROP FUNCTION IF EXISTS finance_report_supplier_add(text, date, timestamptz, bigint, bigint, text, bigint, bigint,
                                                    numeric, numeric, numeric);
"""

# The whole rebuild from the orders and services (the backfill; also after seeding with triggers off).
_REBUILD = """
TRUNCATE {order_day}, {client_day}, {debt_day}, {supplier_day}, {order_supplier};
INSERT INTO {order_day} (kind, day, month_start, status, currency, operator_id, orders, total_amount, paid_amount,
                         refunded_amount, commission, cost_amount, margin, debt, supplier_balance_due)
SELECT k.kind, CASE WHEN k.kind = 'd' THEN o.d ELSE o.m END, min(o.mt), o.status, o.currency, o.operator_id,
       count(*), sum(o.total_amount), sum(o.paid_amount), sum(o.refunded_amount), sum(o.commission),
       sum(o.cost_amount), sum(o.margin), sum(o.debt), sum(o.supplier_balance_due)
  FROM (SELECT *, (created_at AT TIME ZONE {tz})::date AS d,
               date_trunc('month', created_at AT TIME ZONE {tz})::date AS m,
               date_trunc('month', created_at AT TIME ZONE {tz}) AT TIME ZONE {tz} AS mt,
               CASE WHEN status IN {settled} AND balance_due > 0 THEN balance_due ELSE 0 END AS debt
          FROM {orders}) o
 CROSS JOIN (VALUES ('d'), ('m')) AS k (kind)
 GROUP BY 1, 2, 4, 5, 6;
INSERT INTO {client_day} (kind, day, month_start, client_id, currency, operator_id, orders, turnover, paid, debt)
SELECT kind, day, min(month_start), client_id, currency, operator_id, sum(orders), sum(turnover), sum(paid), sum(debt)
  FROM (SELECT k.kind, CASE WHEN k.kind = 'd' THEN (created_at AT TIME ZONE {tz})::date
                            ELSE date_trunc('month', created_at AT TIME ZONE {tz})::date END AS day,
               date_trunc('month', created_at AT TIME ZONE {tz}) AT TIME ZONE {tz} AS month_start, client_id, currency,
               operator_id, 1 AS orders, total_amount AS turnover, paid_amount - refunded_amount AS paid,
               CASE WHEN balance_due > 0 THEN balance_due ELSE 0 END AS debt
          FROM {orders} CROSS JOIN (VALUES ('d'), ('m')) AS k (kind) WHERE status IN {settled}) x
 GROUP BY kind, day, client_id, currency, operator_id;
INSERT INTO {debt_day} (due_day, currency, operator_id, orders, balance)
SELECT (deadline AT TIME ZONE {tz})::date, currency, operator_id, count(*), sum(balance_due)
  FROM {orders} WHERE status IN {settled} AND balance_due > 0
 GROUP BY 1, 2, 3;
INSERT INTO {order_supplier} (order_id, supplier_id, services)
SELECT order_id, supplier_id, count(*) FROM {services} WHERE status <> 'cancelled' GROUP BY 1, 2;
INSERT INTO {supplier_day} (kind, day, month_start, supplier_id, operator_id, currency, services, orders,
                            sales_total, commission_total, cost_total)
SELECT k.kind, CASE WHEN k.kind = 'd' THEN (o.created_at AT TIME ZONE {tz})::date
                    ELSE date_trunc('month', o.created_at AT TIME ZONE {tz})::date END,
       min(date_trunc('month', o.created_at AT TIME ZONE {tz}) AT TIME ZONE {tz}), s.supplier_id, o.operator_id,
       o.currency, count(*), count(DISTINCT o.id), sum(s.price_in_order_currency),
       sum(s.commission_in_order_currency), sum(s.cost_in_order_currency)
  FROM {services} s JOIN {orders} o ON o.id = s.order_id CROSS JOIN (VALUES ('d'), ('m')) AS k (kind)
 WHERE s.status <> 'cancelled' AND o.status IN {settled}
 GROUP BY 1, 2, 4, 5, 6;
"""


def _summary_sql(template: str) -> str:
    from django.conf import settings

    from apps.finance.models import (
        ReportClientDay,
        ReportDebtDay,
        ReportOrderDay,
        ReportOrderSupplier,
        ReportSupplierDay,
    )
    from apps.orders.models import Order, Service

    return render(sql.SQL(template).format(
        tz=sql.Literal(settings.TIME_ZONE), settled=_SETTLED, orders=table_sql(Order), services=table_sql(Service),
        order_day=table_sql(ReportOrderDay), client_day=table_sql(ReportClientDay), debt_day=table_sql(ReportDebtDay),
        supplier_day=table_sql(ReportSupplierDay), order_supplier=table_sql(ReportOrderSupplier),
    ))


def report_summary_install(schema_editor=None) -> None:
    """(Re)create the summary functions and triggers (idempotent; the migration and the rebuild)."""
    target = schema_editor.connection if schema_editor is not None else connection
    with target.cursor() as cursor:
        cursor.execute(_summary_sql(_FUNCTIONS))
        cursor.execute(_summary_sql(_TRIGGERS))


def report_summary_uninstall(schema_editor=None) -> None:
    target = schema_editor.connection if schema_editor is not None else connection
    with target.cursor() as cursor:
        cursor.execute(_summary_sql(_UNINSTALL))


_SUMMARY_TABLES = ("order_day", "client_day", "debt_day", "supplier_day", "order_supplier")


def report_summary_check() -> dict[str, int]:
    """Rows that differ between each summary and its rebuild (none when they agree): the rebuild runs
    into temporary copies in a transaction that is rolled back."""
    from apps.finance.models import (
        ReportClientDay,
        ReportDebtDay,
        ReportOrderDay,
        ReportOrderSupplier,
        ReportSupplierDay,
    )

    models = dict(zip(_SUMMARY_TABLES, (ReportOrderDay, ReportClientDay, ReportDebtDay, ReportSupplierDay,
                                        ReportOrderSupplier), strict=True))
    differences = {}
    with transaction.atomic(), connection.cursor() as cursor:
        copies = {}
        for name, model in models.items():
            columns = sql.SQL(", ").join([sql.Identifier(str(field.column)) for field in model._meta.concrete_fields
                                          if not field.primary_key])
            copy = sql.Identifier(f"summary_before_{name}")
            cursor.execute(render(sql.SQL("CREATE TEMP TABLE {copy} ON COMMIT DROP AS SELECT {columns} FROM {table}")
                                  .format(copy=copy, columns=columns, table=table_sql(model))))
            copies[name] = (copy, columns, model)
        cursor.execute(_summary_sql(_REBUILD))
        for copy, columns, model in copies.values():
            cursor.execute(render(sql.SQL(
                "SELECT count(*) FROM ((SELECT {columns} FROM {copy} EXCEPT ALL SELECT {columns} FROM {table}) "
                "UNION ALL (SELECT {columns} FROM {table} EXCEPT ALL SELECT {columns} FROM {copy})) AS diff"
            ).format(columns=columns, copy=copy, table=table_sql(model))))
            count = cursor.fetchone()[0]
            if count:
                differences[model._meta.db_table] = count
        transaction.set_rollback(True)
    return differences


def report_summary_rebuild(schema_editor=None) -> None:
    """Every summary row again from the orders and services (one pass each; run in a transaction)."""
    target = schema_editor.connection if schema_editor is not None else connection
    with target.cursor() as cursor:
        cursor.execute(_summary_sql(_REBUILD))


@functools.cache
def _groups_page_and_totals_statement(inner: str, order: tuple[str, ...], columns: tuple[str, ...],
                                      sums: tuple[str, ...]) -> str:
    """One pass over the groups for the page and the per-currency totals (UNION ALL of both parts;
    a total row carries its number of groups where a page row carries the number of all groups)."""
    ident = sql.Identifier
    order_sql = sql.SQL(", ").join(
        sql.SQL("{} DESC").format(ident(name[1:])) if name.startswith("-") else ident(name) for name in order)
    total_cols = sql.SQL(", ").join(
        ident(name) if name == "currency" else sql.SQL("sum({})").format(ident(name)) if name in sums
        else sql.SQL("NULL") for name in columns)
    return render(sql.SQL(
        "WITH groups AS MATERIALIZED ({inner}) "
        "SELECT * FROM ("
        " (SELECT 0 AS part, row_number() OVER (ORDER BY {order}) AS position, count(*) OVER () AS total_rows, "
        "  {page_cols} FROM groups ORDER BY {order} LIMIT %s OFFSET %s)"
        " UNION ALL"
        " (SELECT 1, row_number() OVER (ORDER BY {currency}), count(*), {total_cols} FROM groups GROUP BY {currency})"
        ") AS both_parts ORDER BY part, position"
    ).format(inner=sql.SQL(inner), order=order_sql, page_cols=sql.SQL(", ").join(ident(name) for name in columns),
             total_cols=total_cols, currency=ident("currency")))


def groups_page_and_totals(groups: QuerySet, *, order: tuple[str, ...], sums: tuple[str, ...], offset: int,
                           limit: int) -> tuple[list[dict], int, list[dict]]:
    """A grouped report's page, its number of groups and its per-currency totals from one aggregation
    of `groups` (a values() queryset with a `currency` column): the page and the totals each grouped
    every row of the period (two passes) before.

    Page rows have the queryset's columns in its order; totals `currency`, `rows` (groups) and `sums`,
    as currency_totals_of_groups gives them."""
    query = groups.order_by().query
    columns = (*query.values_select, *query.annotation_select)
    inner, params = query.sql_with_params()
    statement = _groups_page_and_totals_statement(inner, order, tuple(columns), sums)
    page: list[dict] = []
    totals: list[dict] = []
    total_rows = 0
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, limit, offset])
        for part, _, count, *values in cursor.fetchall():
            row = dict(zip(columns, values, strict=True))
            if part == 0:
                total_rows = count
                page.append(row)
            else:
                totals.append({"currency": row["currency"], "rows": count, **{name: row[name] for name in sums}})
    return page, total_rows, totals
