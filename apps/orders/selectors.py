"""Reads of the orders app: querysets with their joins done once, the order lock, check inputs."""

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import orjson
from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.core.rows import instance_from_row, model_columns, require_transaction
from apps.orders.checks import OrderState, ServiceState
from apps.orders.models import Order, OrderEvent, Service, Supplier


@functools.cache
def _lock_statement() -> str:
    """`SELECT <every column> FROM orders_order WHERE id = %s FOR UPDATE`, built once from the model."""
    quote = connection.ops.quote_name
    # Identifiers from the model's metadata, quoted; the one value is a parameter.
    return (
        f"SELECT {model_columns(Order)} FROM {quote(Order._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(Order._meta.pk.column)} = %s FOR UPDATE"
    )


def order_lock(order_id: int) -> Order:
    """The order row, locked (`SELECT ... FOR UPDATE`) until the caller's transaction ends.

    Every write of an order or its services starts here, so the statement is built once instead of
    by the ORM on each call (the same instance `Order.objects.select_for_update().get()` would give:
    fields with a database converter, the JSON of `warnings`, are converted the same way).
    """
    require_transaction()
    with connection.cursor() as cursor:
        cursor.execute(_lock_statement(), [order_id])
        row = cursor.fetchone()
    if row is None:
        raise Order.DoesNotExist("Order matching query does not exist.")
    return instance_from_row(Order, row)


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.all()


def _travellers_prefetch(prefix: str = "") -> Prefetch:
    from apps.clients.models import Client

    return Prefetch(
        f"{prefix}travellers",
        queryset=Client.all_objects.only("id", "last_name", "first_name", "middle_name").order_by("last_name", "id"),
    )


def _service_travellers_prefetch() -> Prefetch:
    """A service's travellers (names only) as the list `service.traveller_list`, as with_travellers() sets it."""
    return Prefetch("travellers", queryset=_travellers_prefetch().queryset, to_attr="traveller_list")


def with_travellers(service: Service, clients: list) -> Service:
    """Give a just written service its travellers as the API reads them (`traveller_list`, the
    attribute _service_travellers_prefetch fills), from names the service call already read."""
    service.traveller_list = list(clients)
    return service


def order_list() -> QuerySet[Order]:
    """Orders with client, operator and travellers loaded (two queries for any number of orders)."""
    return Order.objects.select_related("client", "operator").prefetch_related(_travellers_prefetch())


ORDER_ROWS_SQL = """
SELECT o.id, o.number, o.status, o.currency, o.total_amount, o.commission, o.paid_amount, o.refunded_amount,
       o.balance_due, o.deadline, o.trip_start, o.trip_end, o.warnings::text, o.created_at, o.updated_at,
       o.cost_amount, o.margin, o.supplier_paid_amount, o.supplier_balance_due,
       o.client_id, c.last_name, c.first_name, c.middle_name, o.operator_id, u.full_name, u.email,
       (SELECT coalesce(json_agg(json_build_object('id', t.id, 'full_name',
                   concat_ws(' ', t.last_name, t.first_name, nullif(t.middle_name, '')))
                   ORDER BY t.last_name, t.id), '[]')::text
          FROM orders_order_travellers ot JOIN clients_client t ON t.id = ot.client_id
         WHERE ot.order_id = o.id)
  FROM orders_order o
  JOIN clients_client c ON c.id = o.client_id
  LEFT JOIN accounts_user u ON u.id = o.operator_id
 WHERE o.id = ANY(%s)
"""
ORDER_ROW_KEYS = (
    "id", "number", "status", "currency", "total_amount", "commission", "paid_amount", "refunded_amount",
    "balance_due", "deadline", "trip_start", "trip_end", "warnings", "created_at", "updated_at",
    "cost_amount", "margin", "supplier_paid_amount", "supplier_balance_due",
    "client_id", "client__last_name", "client__first_name", "client__middle_name",
    "operator_id", "operator__full_name", "operator__email", "traveller_list",
)  # fmt: skip


def order_rows(ids: list[int]) -> list[dict]:
    """A page of the order list as plain rows in the order of `ids`, travellers included.

    The CRM's busiest page: one static query (no ORM compilation, no model instances). The view
    filters, orders, counts and paginates over bare ids with the ORM, then reads the page here.
    """
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(ORDER_ROWS_SQL, [list(ids)])
        found = {row[0]: dict(zip(ORDER_ROW_KEYS, row, strict=True)) for row in cursor.fetchall()}
    page = [found[pk] for pk in ids if pk in found]
    for row in page:  # JSON came as text: orjson parses it faster than the driver would
        row["traveller_list"] = orjson.loads(row["traveller_list"])
        row["warnings"] = orjson.loads(row["warnings"])
    return page


def order_detail() -> QuerySet[Order]:
    services = Service.objects.select_related("supplier").prefetch_related(_service_travellers_prefetch())
    return order_list().prefetch_related(Prefetch("services", queryset=services))


def services_of(order_id: int) -> QuerySet[Service]:
    return (
        Service.objects.filter(order_id=order_id)
        .select_related("supplier")
        .prefetch_related(_service_travellers_prefetch())
    )


def order_events(order_id: int) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order_id=order_id).select_related("actor")


# Everything the checks and the totals of one order need, in one statement: the order's (live)
# travellers with their names, its services with the ids of their travellers, and the live
# passports of everyone involved. Run it only after order_lock(): in READ COMMITTED a statement sees
# what was committed when it started, so reading these in the locking statement itself could miss a
# change committed while it waited for the lock. Numbers travel as text (JSON numbers would become
# floats), times as ISO 8601 in UTC (the connection's zone).
ORDER_FACTS_SQL = """
WITH travellers AS (
    SELECT c.id, c.last_name, c.first_name, c.middle_name
      FROM orders_order_travellers ot JOIN clients_client c ON c.id = ot.client_id
     WHERE ot.order_id = %(order)s AND NOT c.is_deleted
), services AS (
    SELECT s.id, s.type, s.status, s.start_dt, s.end_dt, s.timezone, s.origin, s.destination, s.city,
           s.price::text AS price, s.commission::text AS commission,
           s.price_in_order_currency::text AS price_in_order_currency,
           s.commission_in_order_currency::text AS commission_in_order_currency,
           s.cost_in_order_currency::text AS cost_in_order_currency, s.supplier_id, s.cost_due_date,
           ARRAY(SELECT st.client_id FROM orders_service_travellers st WHERE st.service_id = s.id) AS traveller_ids
      FROM orders_service s
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
       FROM clients_clientpassport p
      WHERE p.is_active AND NOT p.is_archived
        AND p.client_id IN (SELECT id FROM travellers UNION SELECT unnest(traveller_ids) FROM services))::text
"""


@dataclass
class OrderFacts:
    """What order_facts() read: the checks' input, and the travellers' names for the answer."""

    order: OrderState
    services: list[ServiceState]
    # (id, last_name, first_name, middle_name) of the order's live travellers, by last name then id
    travellers: list[tuple]

    def clients(self, ids) -> list:
        """Client instances (names only, like the API's prefetch) of those of `ids` on the order."""
        from apps.clients.models import Client

        wanted = set(ids)
        return [Client.from_db(connection.alias, TRAVELLER_FIELDS, row) for row in self.travellers if row[0] in wanted]


TRAVELLER_FIELDS = ["id", "last_name", "first_name", "middle_name"]


def _service_state(row: list) -> ServiceState:
    (pk, kind, status, start, end, tz, origin, destination, city, price, commission, price_ordered,
     commission_ordered, traveller_ids, cost_ordered, supplier_id, cost_due) = row  # fmt: skip
    return ServiceState(
        id=pk,
        type=kind,
        status=status,
        start_dt=datetime.fromisoformat(start),
        end_dt=datetime.fromisoformat(end),
        tz=tz or "Europe/Moscow",
        origin=origin,
        destination=destination,
        city=city,
        price=Decimal(price),
        commission=Decimal(commission),
        price_in_order_currency=Decimal(price_ordered),
        commission_in_order_currency=Decimal(commission_ordered),
        cost_in_order_currency=Decimal(cost_ordered),
        supplier_id=supplier_id,
        cost_due_date=date.fromisoformat(cost_due) if cost_due else None,
        traveller_ids=frozenset(traveller_ids),
    )


def order_facts(order: Order) -> OrderFacts:
    """The checks' input of a (locked) order in one static statement: no ORM compilation, no models."""
    with connection.cursor() as cursor:
        cursor.execute(ORDER_FACTS_SQL, {"order": order.pk})
        travellers, services, passports = (orjson.loads(value) for value in cursor.fetchone())
    found: dict = {}
    for client_id, kind, expiry in passports:
        found.setdefault(client_id, []).append((kind, date.fromisoformat(expiry) if expiry else None))
    state = OrderState(
        traveller_ids=frozenset(row[0] for row in travellers),
        deadline=order.deadline,
        status=order.status,
        passports=found,
    )
    return OrderFacts(order=state, services=[_service_state(row) for row in services], travellers=travellers)


def check_input(order: Order) -> tuple[OrderState, list[ServiceState]]:
    """Everything the checks need (one statement, see order_facts)."""
    facts = order_facts(order)
    return facts.order, facts.services


def _traveller_arrays():
    from django.contrib.postgres.aggregates import ArrayAgg
    from django.db.models import Q, Value
    from django.db.models.functions import Concat

    name = Concat("travellers__last_name", Value(" "), "travellers__first_name", Value(" "), "travellers__middle_name")
    present = Q(travellers__isnull=False)
    return {
        "traveller_ids": ArrayAgg("travellers__id", filter=present, order_by=("travellers__id",), default=[]),
        "traveller_names": ArrayAgg(name, filter=present, order_by=("travellers__id",), default=[]),
    }


def order_timeline(order: Order) -> list[dict]:
    """Services and events of the order in time order (two queries), ready for a front end."""
    items = []
    services = Service.objects.filter(order_id=order.pk).annotate(**_traveller_arrays()).order_by()
    for s in services:
        items.append(
            {
                "kind": "service",
                "at": s.start_dt,
                "end": s.end_dt,
                "type": s.type,
                "title": s.title,
                "status": s.status,
                "service_id": s.pk,
                "origin": s.origin,
                "destination": s.destination,
                "city": s.city,
                "address": s.address,
                "timezone": s.timezone,
                "travellers": [
                    {"id": pk, "full_name": " ".join(full.split())}
                    for pk, full in zip(s.traveller_ids, s.traveller_names, strict=False)
                ],
                "actor": None,
                "data": {"details": s.details},
            }
        )
    for e in order_events(order.pk):
        items.append(
            {
                "kind": "event",
                "at": e.occurred_at,
                "end": None,
                "type": e.kind,
                "title": e.title,
                "status": None,
                "service_id": e.data.get("service_id") if isinstance(e.data, dict) else None,
                "origin": "",
                "destination": "",
                "city": "",
                "address": "",
                "timezone": None,
                "travellers": [],
                "actor": {"id": e.actor.pk, "full_name": e.actor.full_name or e.actor.email} if e.actor else None,
                "data": e.data,
            }
        )
    items.sort(key=lambda item: (item["at"], 0 if item["kind"] == "event" else 1))
    return items
