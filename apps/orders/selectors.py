"""Reads of the orders app: querysets with their joins done once, the order lock, check inputs."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import orjson
from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.orders import queries
from apps.orders.checks import OrderState, ServiceState
from apps.orders.models import Order, OrderEvent, Service, Supplier


def order_lock(order_id: int) -> Order:
    """The order row, locked (`SELECT ... FOR UPDATE`) until the caller's transaction ends.

    Every write of an order or its services starts here (apps.orders.queries.order_locked: the
    instance `Order.objects.select_for_update().get()` would give, without compiling the queryset).
    """
    order = queries.order_locked(order_id)
    if order is None:
        raise Order.DoesNotExist("Order matching query does not exist.")
    return order


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


def order_rows(ids: list[int]) -> list[dict]:
    """A page of the order list as plain rows in the order of `ids`, travellers included.

    The CRM's busiest page: one static query (no ORM compilation, no model instances). The view
    filters, orders, counts and paginates over bare ids with the ORM, then reads the page here.
    """
    if not ids:
        return []
    found = queries.order_list_rows(ids)
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
    """The checks' input of a (locked) order in one statement (apps.orders.queries.order_facts_json:
    read it only after the order lock)."""
    travellers, services, passports = (orjson.loads(value) for value in queries.order_facts_json(order.pk))
    found: dict = {}
    for client_id, kind, expiry in passports:
        found.setdefault(client_id, []).append((kind, date.fromisoformat(expiry) if expiry else None))
    state = OrderState(
        traveller_ids=frozenset(row[0] for row in travellers),
        deadline=order.deadline,
        status=order.status,
        passports=found,
        names={row[0]: _short_name(row[1], row[2]) for row in travellers},
    )
    return OrderFacts(order=state, services=[_service_state(row) for row in services], travellers=travellers)


def _short_name(last_name: str, first_name: str) -> str:
    """«Новикова О.» for the warnings."""
    return f"{last_name} {first_name[:1]}.".strip() if first_name else (last_name or "")


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
                    for pk, full in zip(s.traveller_ids, s.traveller_names, strict=False)  # type: ignore[attr-defined]
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
