"""Hand-written SQL of the orders app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

Kept only where a benchmark needs it (BENCHMARKS.md, issue 13): the order list page and the
service writes ("add a service to an order with 30 services"). Identifiers come from the models'
metadata as sql.Identifier, values are placeholders, each text is rendered once. Every statement
is tested against its ORM equivalent on the same data in apps/orders/tests/test_queries.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import cast

from django.db import connection, models, transaction
from django.db.utils import IntegrityError, ProgrammingError
from psycopg import sql

from apps.core.rows import column_sql, columns_sql, instance_from_row, render, require_transaction, table_sql
from apps.orders.models import Order

# --- The order lock ---------------------------------------------------------------------------------


@functools.cache
def _lock_statement() -> str:
    return render(
        sql.SQL("SELECT {columns} FROM {order} WHERE {pk} = %s FOR UPDATE").format(
            columns=columns_sql(Order), order=table_sql(Order), pk=column_sql(Order, "id")
        )
    )


def order_locked(order_id: int) -> Order | None:
    """Order.objects.select_for_update().filter(pk=order_id).first(), without compiling the queryset."""
    require_transaction()
    with connection.cursor() as cursor:
        cursor.execute(_lock_statement(), [order_id])
        row = cursor.fetchone()
    return None if row is None else instance_from_row(Order, row)


# --- The order list page ----------------------------------------------------------------------------

ORDER_ROW_KEYS = (
    "id", "number", "status", "currency", "total_amount", "commission", "paid_amount", "refunded_amount",
    "balance_due", "deadline", "trip_start", "trip_end", "warnings", "created_at", "updated_at",
    "cost_amount", "margin", "supplier_paid_amount", "supplier_balance_due",
    "client_id", "client__last_name", "client__first_name", "client__middle_name",
    "operator_id", "operator__full_name", "operator__email", "traveller_list",
)  # fmt: skip


@functools.cache
def _order_rows_statement() -> str:
    from apps.accounts.models import User
    from apps.clients.models import Client

    travellers = Order.travellers.through
    return render(
        sql.SQL(
            """
SELECT o.id, o.number, o.status, o.currency, o.total_amount, o.commission, o.paid_amount, o.refunded_amount,
       o.balance_due, o.deadline, o.trip_start, o.trip_end, o.warnings::text, o.created_at, o.updated_at,
       o.cost_amount, o.margin, o.supplier_paid_amount, o.supplier_balance_due,
       o.client_id, c.last_name, c.first_name, c.middle_name, o.operator_id, u.full_name, u.email,
       (SELECT coalesce(json_agg(json_build_object('id', t.id, 'full_name',
                   concat_ws(' ', t.last_name, t.first_name, nullif(t.middle_name, '')))
                   ORDER BY t.last_name, t.id), '[]')::text
          FROM {order_travellers} ot JOIN {client} t ON t.id = ot.client_id
         WHERE ot.order_id = o.id)
  FROM {order} o
  JOIN {client} c ON c.id = o.client_id
  LEFT JOIN {user} u ON u.id = o.operator_id
 WHERE o.id = ANY(%s)
"""
        ).format(
            order_travellers=table_sql(travellers),
            client=table_sql(Client),
            order=table_sql(Order),
            user=table_sql(User),
        )
    )


def order_list_rows(ids: list[int]) -> dict[int, dict]:
    """The list page's rows by id (JSON columns still as text: the caller parses them)."""
    with connection.cursor() as cursor:
        cursor.execute(_order_rows_statement(), [list(ids)])
        return {row[0]: dict(zip(ORDER_ROW_KEYS, row, strict=True)) for row in cursor.fetchall()}


# --- What the checks and totals of one order read ---------------------------------------------------
# The order's (live) travellers with their names, its services with the ids of their travellers,
# and the live passports of everyone involved, in one statement. Run it only after the order lock:
# in READ COMMITTED a statement sees what was committed when it started, so reading these in the
# locking statement itself could miss a change committed while it waited for the lock. Numbers
# travel as text (JSON numbers would become floats), times as ISO 8601 in UTC (the connection's zone).


@functools.cache
def _order_facts_statement() -> str:
    from apps.clients.models import Client, ClientPassport
    from apps.orders.models import Service

    return render(
        sql.SQL(
            """
WITH travellers AS (
    SELECT c.id, c.last_name, c.first_name, c.middle_name
      FROM {order_travellers} ot JOIN {client} c ON c.id = ot.client_id
     WHERE ot.order_id = %(order)s AND NOT c.is_deleted
), services AS (
    SELECT s.id, s.type, s.status, s.start_dt, s.end_dt, s.timezone, s.origin, s.destination, s.city,
           s.price::text AS price, s.commission::text AS commission,
           s.price_in_order_currency::text AS price_in_order_currency,
           s.commission_in_order_currency::text AS commission_in_order_currency,
           s.cost_in_order_currency::text AS cost_in_order_currency, s.supplier_id, s.cost_due_date,
           ARRAY(SELECT st.client_id FROM {service_travellers} st WHERE st.service_id = s.id) AS traveller_ids
      FROM {service} s
     WHERE s.order_id = %(order)s
)
SELECT
    (SELECT coalesce(json_agg(json_build_array(id, last_name, first_name, middle_name) ORDER BY last_name, id), '[]')
       FROM travellers)::text,
    (SELECT coalesce(json_agg(json_build_array(id, type, status, start_dt, end_dt, timezone, origin, destination,
                                               city, price, commission, price_in_order_currency,
                                               commission_in_order_currency, traveller_ids,
                                               cost_in_order_currency, supplier_id, cost_due_date)), '[]')
       FROM services)::text,
    (SELECT coalesce(json_agg(json_build_array(p.client_id, p.kind, p.expiry_date)), '[]')
       FROM {passport} p
      WHERE p.is_active AND NOT p.is_archived
        AND p.client_id IN (SELECT id FROM travellers UNION SELECT unnest(traveller_ids) FROM services))::text
"""
        ).format(
            order_travellers=table_sql(Order.travellers.through),
            client=table_sql(Client),
            service_travellers=table_sql(Service.travellers.through),
            service=table_sql(Service),
            passport=table_sql(ClientPassport),
        )
    )


def order_facts_json(order_id: int) -> tuple[str, str, str]:
    """(travellers, services, passports) of the order as JSON texts; see the comment above."""
    with connection.cursor() as cursor:
        cursor.execute(_order_facts_statement(), {"order": order_id})
        return cursor.fetchone()


# --- The order's derived figures --------------------------------------------------------------------

DERIVED_FIELDS = (
    "total_amount",
    "commission",
    "cost_amount",
    "margin",
    "supplier_balance_due",
    "trip_start",
    "trip_end",
    "balance_due",
    "warnings",
)


# What the order owes each supplier, as a prefix of the derived UPDATE (no extra round trip): upsert
# the cost and the earliest due date per supplier, zero the cost of suppliers no longer on the order
# (their rows stay: money may have been paid to them). Parameters: suppliers, costs, dues, order, order.
SUPPLIER_BALANCES_CTE = """
WITH new AS (
    SELECT * FROM unnest(%s::bigint[], %s::numeric[], %s::date[]) AS n(supplier_id, cost, due)
), upserted AS (
    INSERT INTO {balance} AS b (order_id, supplier_id, cost, paid, balance, due_date, currency)
    SELECT o.id, new.supplier_id, new.cost, 0, new.cost, new.due, o.currency FROM new, {order} o WHERE o.id = %s
    ON CONFLICT (order_id, supplier_id)
    DO UPDATE SET cost = EXCLUDED.cost, due_date = EXCLUDED.due_date, balance = EXCLUDED.cost - b.paid
    WHERE (b.cost, b.due_date) IS DISTINCT FROM (EXCLUDED.cost, EXCLUDED.due_date)
), zeroed AS (
    UPDATE {balance} b SET cost = 0, due_date = NULL, balance = -b.paid
     WHERE b.order_id = %s AND b.cost <> 0
       AND NOT EXISTS (SELECT 1 FROM new WHERE new.supplier_id IS NOT DISTINCT FROM b.supplier_id)
)
"""


@functools.cache
def _derived_update_statement() -> tuple[str, list[models.Field]]:
    from apps.orders.models import SupplierBalance

    fields = [cast(models.Field, Order._meta.get_field(name)) for name in (*DERIVED_FIELDS, "updated_at")]
    assignments = sql.SQL(", ").join([sql.SQL("{} = %s").format(sql.Identifier(str(field.column))) for field in fields])
    balances = sql.SQL(SUPPLIER_BALANCES_CTE).format(balance=table_sql(SupplierBalance), order=table_sql(Order))
    statement = balances + sql.SQL(
        "UPDATE {order} SET {assignments} WHERE {pk} = %s"
    ).format(order=table_sql(Order), assignments=assignments, pk=column_sql(Order, "id"))
    return render(statement), [*fields, Order._meta.pk]


def order_save_derived(order: Order, supplier_balances: list) -> None:
    """order.save(update_fields=[*DERIVED_FIELDS, "updated_at"]) without the ORM's compilation and
    signals (the services and payments the figures come from are audited), and in the same
    statement the order's supplier balances (`supplier_balances`: [supplier ids, costs, due dates,
    order id, order id], see SUPPLIER_BALANCES_CTE). Values go through each field's
    get_db_prep_save, as in the ORM (the JSON of `warnings` included)."""
    statement, fields = _derived_update_statement()
    values = [field.get_db_prep_save(getattr(order, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*supplier_balances, *values])


# --- Traveller links --------------------------------------------------------------------------------


@functools.cache
def _link_statement(model: type[models.Model]) -> str:
    field = cast(models.ManyToManyField, model._meta.get_field("travellers"))
    through = field.remote_field.through
    owner, client = field.m2m_field_name(), field.m2m_reverse_field_name()
    return render(
        sql.SQL("INSERT INTO {table} ({owner}, {client}) SELECT %s, unnest(%s::bigint[])").format(
            table=table_sql(through), owner=column_sql(through, owner), client=column_sql(through, client)
        )
    )


def travellers_link(instance: models.Model, client_ids: Iterable[int]) -> None:
    """instance.travellers.add(*client_ids) for a new order or service, in one statement and without
    the m2m_changed signal (apps.orders.audit logs the links itself)."""
    with connection.cursor() as cursor:
        cursor.execute(_link_statement(type(instance)), [instance.pk, list(client_ids)])


# --- Order numbers ----------------------------------------------------------------------------------


NEXTVAL = "SELECT nextval(%s)"  # the sequence's name is a value (a regclass) here, not an identifier


def order_number_value(year: int) -> int:
    """nextval() of the year's order-number sequence, created on first use. No ORM equivalent."""
    name = f"order_number_{int(year)}"
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute(NEXTVAL, [name])
                return cursor.fetchone()[0]
        except ProgrammingError:  # the year's sequence does not exist yet
            try:
                with transaction.atomic():
                    cursor.execute(render(sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(sql.Identifier(name))))
            except (IntegrityError, ProgrammingError):  # another transaction created it at the same moment
                pass
            cursor.execute(NEXTVAL, [name])
            return cursor.fetchone()[0]
