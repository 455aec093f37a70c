"""Reads of the orders app: querysets with their joins done once, the order lock, check inputs."""

import orjson
from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.orders.checks import OrderState, ServiceState
from apps.orders.models import Order, OrderEvent, Service, Supplier


def order_lock(order_id: int) -> Order:
    """The order row, locked (`SELECT ... FOR UPDATE`) until the caller's transaction ends."""
    return Order.objects.select_for_update(of=("self",)).get(pk=order_id)


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.all()


def _travellers_prefetch(prefix: str = "") -> Prefetch:
    from apps.clients.models import Client

    return Prefetch(
        f"{prefix}travellers",
        queryset=Client.all_objects.only("id", "last_name", "first_name", "middle_name").order_by("last_name", "id"),
    )


def prefetch_travellers(services: list[Service]) -> None:
    """Load the travellers (names only: nothing to decrypt) of services already in memory."""
    from django.db.models import prefetch_related_objects

    for service in services:
        getattr(service, "_prefetched_objects_cache", {}).pop("travellers", None)
    prefetch_related_objects(services, _travellers_prefetch())


def order_list() -> QuerySet[Order]:
    """Orders with client, operator and travellers loaded (two queries for any number of orders)."""
    return Order.objects.select_related("client", "operator").prefetch_related(_travellers_prefetch())


ORDER_ROWS_SQL = """
SELECT o.id, o.number, o.status, o.currency, o.total_amount, o.commission, o.paid_amount, o.refunded_amount,
       o.balance_due, o.deadline, o.trip_start, o.trip_end, o.warnings::text, o.created_at, o.updated_at,
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
    services = Service.objects.select_related("supplier").prefetch_related(_travellers_prefetch())
    return order_list().prefetch_related(Prefetch("services", queryset=services))


def services_of(order_id: int) -> QuerySet[Service]:
    return Service.objects.filter(order_id=order_id).select_related("supplier").prefetch_related(_travellers_prefetch())


def order_events(order_id: int) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order_id=order_id).select_related("actor")


def passports_of(client_ids) -> dict:
    """client id -> [(kind, expiry_date)] of the live passports (only dates: nothing to decrypt)."""
    client_ids = list(client_ids)
    if not client_ids:
        return {}
    try:
        from apps.clients.models import ClientPassport
    except ImportError:  # the clients app without passports yet
        return {}
    found: dict = {}
    rows = ClientPassport.objects.filter(client_id__in=client_ids, is_archived=False, is_active=True).values_list(
        "client_id", "kind", "expiry_date"
    )
    for client_id, kind, expiry in rows:
        found.setdefault(client_id, []).append((kind, expiry))
    return found


def check_input(order: Order) -> tuple[OrderState, list[ServiceState]]:
    """Everything the checks need, in four queries (travellers, services, their links, passports)."""
    traveller_ids = frozenset(order.travellers.values_list("id", flat=True))
    services = list(Service.objects.filter(order_id=order.pk))
    links: dict = {}
    through = Service.travellers.through.objects.filter(service__order_id=order.pk)
    for service_id, client_id in through.values_list("service_id", "client_id"):
        links.setdefault(service_id, []).append(client_id)
    states = [ServiceState.from_service(s, links.get(s.pk, [])) for s in services]
    involved = set(traveller_ids).union(*(s.traveller_ids for s in states)) if states else set(traveller_ids)
    state = OrderState(
        traveller_ids=traveller_ids,
        deadline=order.deadline,
        status=order.status,
        passports=passports_of(involved),
    )
    return state, states


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
