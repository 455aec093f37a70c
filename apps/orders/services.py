"""Every write of the orders app. One call = one transaction; order-level changes lock the order row.

Suppliers: supplier_create / supplier_update / supplier_delete.
Orders: order_create, order_update, order_delete, order_transition (confirm, mark_paid, complete,
cancel, reopen), order_recalculate (totals, balance, warnings), order_event_add (the timeline).
Services: service_create / service_update / service_delete — each runs the checks of
apps.orders.checks and recalculates the totals in the same transaction, with the order locked.
Leads: order_create_from_lead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from apps.accounts.models import User
from apps.clients.models import Client
from apps.core.auditing import save_audited
from apps.core.errors import BusinessError, ConflictError
from apps.core.money import ZERO, convert, quantize_money, quantize_rate
from apps.orders import audit, checks, queries, selectors
from apps.orders.details import clean_details
from apps.orders.models import (
    SETTLED_STATUSES,
    TRANSPORT_TYPES,
    OfferOption,
    Order,
    OrderEvent,
    OrderStatus,
    Service,
    ServiceStatus,
    ServiceType,
    Supplier,
)
from apps.orders.rates import rate_provider
from apps.orders.selectors import check_input, order_lock
from apps.orders.zones import airport_zone

# --- What each write takes (`data`): keys as the API's serializers give them, all optional ----------


class SupplierData(TypedDict, total=False):
    name: str
    kind: str
    inn: str
    legal_name: str
    address: str
    registry_number: str
    security_kind: str
    security_amount: Decimal | None
    security_provider: str
    security_number: str
    security_valid_from: date | None
    security_valid_until: date | None
    contacts: str
    notes: str


class OrderData(TypedDict, total=False):
    client: Client
    currency: str
    deadline: datetime | None
    offer_valid_until: date | None
    operator: User | None
    notes: str


class ServiceData(TypedDict, total=False):
    type: str
    status: str
    start_dt: datetime
    end_dt: datetime
    timezone: str
    origin: str
    destination: str
    city: str
    address: str
    supplier: Supplier | None
    price: Decimal
    currency: str
    rate: Decimal | None
    commission: Decimal
    commission_percent: Decimal | None
    cost: Decimal | None
    cost_currency: str
    cost_rate: Decimal | None
    cost_due_date: date | None
    offer_option: str
    alternative_of: Service | None
    details: dict[str, Any]


# --- Suppliers -------------------------------------------------------------------------------------

SUPPLIER_FIELDS = (
    "name",
    "kind",
    "inn",
    "legal_name",
    "address",
    "registry_number",
    *Supplier.SECURITY_FIELDS,
    "contacts",
    "notes",
)


@transaction.atomic
def supplier_create(*, data: SupplierData, actor: User | None = None) -> Supplier:
    values: Mapping[str, Any] = data
    supplier = Supplier(**{key: values[key] for key in SUPPLIER_FIELDS if key in values})
    supplier.full_clean()
    supplier.save()
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, data: SupplierData, actor: User | None = None) -> Supplier:
    values: Mapping[str, Any] = data
    for key in SUPPLIER_FIELDS:
        if key in values:
            setattr(supplier, key, values[key])
    supplier.full_clean()
    supplier.save()
    return supplier


@transaction.atomic
def supplier_delete(*, supplier: Supplier, actor: User | None = None) -> None:
    if supplier.services.exists():
        raise ConflictError("Поставщик указан в услугах заказов: удалить его нельзя.", code="supplier_in_use")
    if supplier.balances.exclude(paid=0).exists():
        raise ConflictError("Поставщику есть платежи: удалить его нельзя.", code="supplier_in_use")
    supplier.balances.all().delete()  # settled rows left from services moved to another supplier
    try:
        supplier.delete()
    except ProtectedError:
        raise ConflictError("Поставщику есть платежи: удалить его нельзя.", code="supplier_in_use") from None


# --- Order numbers ---------------------------------------------------------------------------------


def order_number_next(year: int | None = None) -> str:
    """`2026-000123` from the PostgreSQL sequence of that year (created on first use)."""
    year = year or timezone.localdate().year
    return f"{year}-{queries.order_number_value(year):06d}"


# --- Timeline events -------------------------------------------------------------------------------


def _user_or_none(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def order_event_add(
    *, order, kind: str, title: str, data=None, actor: User | None = None, occurred_at=None
) -> OrderEvent:
    """Add an event to the order's timeline (documents and payments call this too)."""
    event = OrderEvent(
        order_id=order.pk,
        kind=kind,
        title=title[:300],
        data=data or {},
        actor=_user_or_none(actor),
        occurred_at=occurred_at or timezone.now(),
    )
    event.save()
    return event


# --- Orders ----------------------------------------------------------------------------------------

ORDER_FIELDS = ("client", "currency", "deadline", "offer_valid_until", "operator", "notes")
CLOSED_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})


def _ids(items) -> list[int]:
    """Ids of clients given as instances or ids, each once, in the given order."""
    return list(dict.fromkeys(getattr(item, "pk", item) for item in items))


@transaction.atomic
def order_create(*, data: OrderData, actor: User | None = None, travellers=()) -> Order:
    values: Mapping[str, Any] = data
    order = Order(**{key: values[key] for key in ORDER_FIELDS if key in values})
    if order.operator_id is None:
        order.operator = _user_or_none(actor)
    order.number = order_number_next()
    order.full_clean(validate_unique=False, validate_constraints=False)  # the database checks them
    audit.create_with_travellers(order, _ids(travellers))
    _recalculate(order)
    order_event_add(order=order, kind="created", title=f"Заказ {order.number} создан", actor=actor)
    return order


@transaction.atomic
def order_update(*, order: Order, data: OrderData, actor: User | None = None, travellers=None) -> Order:
    order = order_lock(order.pk)
    # Services' and payments' rates are fixed to the current currency (and the FX report's flag on payments).
    if "currency" in data and data["currency"] != order.currency and (
        order.services.exists() or order.payments.exists()
    ):
        raise BusinessError(
            "Валюту заказа нельзя менять, когда в нём есть услуги: курсы пересчёта записаны к текущей валюте.",
            code="currency_locked",
            fields={"currency": ["Валюту нельзя менять при наличии услуг."]},
        )
    values: Mapping[str, Any] = data
    for key in ORDER_FIELDS:
        if key in values:
            setattr(order, key, values[key])
    order.full_clean(validate_unique=False, validate_constraints=False)  # the database checks them
    order.save()
    if travellers is not None:
        _set_order_travellers(order, _ids(travellers))
    _recalculate(order)
    return order


def _set_order_travellers(order: Order, traveller_ids: list[int]) -> None:
    kept = set(traveller_ids)
    used = (
        Service.travellers.through.objects.filter(service__order_id=order.pk)
        .exclude(client_id__in=kept)
        .values_list("service_id", flat=True)
    )
    service_ids = sorted(set(used))
    if service_ids:
        raise BusinessError(
            "Нельзя убрать из заказа туриста, который указан в его услугах: сначала уберите его из услуг.",
            code="traveller_in_services",
            fields={"travellers": ["Турист указан в услугах заказа."]},
            service_ids=service_ids,
        )
    # The links of live clients, as the related manager's set() would compare them.
    audit.set_travellers(order, traveller_ids, current=order.travellers.values_list("id", flat=True))


@transaction.atomic
def order_delete(*, order: Order, actor: User | None = None) -> None:
    order = order_lock(order.pk)
    if order.status != OrderStatus.DRAFT or order.paid_amount:
        raise ConflictError("Удалить можно только черновик без оплат; отмените заказ.", code="order_not_deletable")
    try:
        order.delete()
    except ProtectedError as error:
        raise ConflictError("На заказ ссылаются другие записи: отмените его.", code="order_not_deletable") from error


# status action -> (statuses it may start from, the new status, the event title)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "confirm": (frozenset({OrderStatus.DRAFT}), OrderStatus.CONFIRMED, "Заказ подтверждён"),
    "mark_paid": (frozenset({OrderStatus.CONFIRMED}), OrderStatus.PAID, "Заказ оплачен"),
    "complete": (frozenset({OrderStatus.PAID}), OrderStatus.COMPLETED, "Заказ завершён"),
    "cancel": (
        frozenset({OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.PAID}),
        OrderStatus.CANCELLED,
        "Заказ отменён",
    ),
    "reopen": (
        frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
        OrderStatus.DRAFT,
        "Заказ возвращён в черновик",
    ),
}


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _, _) in TRANSITIONS.items() if status in sources]


@transaction.atomic
def order_transition(*, order: Order, action: str, actor: User | None = None, override_reason: str = "") -> Order:
    """Move the order along its life cycle; a forbidden move is a 409 with the reason.

    «Оплачен» while the customer still owes money is refused unless someone with
    orders.mark_paid_with_debt (a supervisor) overrides it with a reason, written to the timeline.
    """
    if action not in TRANSITIONS:
        raise BusinessError("Неизвестное действие со статусом заказа.", code="unknown_action")
    order = order_lock(order.pk)
    sources, target, title = TRANSITIONS[action]
    if order.status not in sources:
        raise ConflictError(
            f"Нельзя перевести заказ из статуса «{OrderStatus(order.status).label}» в «{OrderStatus(target).label}».",
            code="invalid_transition",
            status=order.status,
            allowed_actions=allowed_actions(order.status),
        )
    if target == OrderStatus.DRAFT and (order.paid_amount != order.refunded_amount or order.supplier_paid_amount):
        # Drafts carry no money (docs/user/accountant.md): return what was paid first.
        raise ConflictError(
            "По заказу есть деньги (оплаты клиента или платежи поставщикам): вернуть его в черновик нельзя. "
            "Сначала оформите возвраты.",
            code="order_has_payments",
        )
    if action == "confirm" and not order.services.exclude(status=ServiceStatus.CANCELLED).exists():
        raise ConflictError("Нельзя подтвердить заказ без услуг.", code="order_without_services")
    override_reason = (override_reason or "").strip()
    if action == "mark_paid" and order.balance_due > 0:
        _check_paid_override(order, actor, override_reason)
    previous = order.status
    order.status = target
    order.save(update_fields=["status", "updated_at"])
    _recalculate(order)
    order_event_add(order=order, kind="status_changed", title=title, data={"from": previous, "to": target}, actor=actor)
    if action == "mark_paid" and order.balance_due > 0:
        order_event_add(
            order=order,
            kind="paid_override",
            title=f"Отмечен оплаченным при долге {order.balance_due} {order.currency}: {override_reason}",
            data={"balance_due": str(order.balance_due), "reason": override_reason},
            actor=actor,
        )
    return order


def _check_paid_override(order: Order, actor, reason: str) -> None:
    debt = f"{order.balance_due} {order.currency}"
    if not reason:
        raise ConflictError(
            f"По заказу долг {debt}: отметить его оплаченным нельзя. Примите оплату или попросите "
            "руководителя отметить оплату с указанием причины.",
            code="order_has_debt",
            fields={"override_reason": ["Нужна причина, и отметить может только руководитель."]},
            balance_due=str(order.balance_due),
        )
    if actor is None or not actor.has_perm("orders.mark_paid_with_debt"):
        raise ConflictError(
            f"По заказу долг {debt}: отметить его оплаченным с долгом может только руководитель.",
            code="order_has_debt",
            balance_due=str(order.balance_due),
        )


@transaction.atomic
def order_recalculate(*, order: Order) -> Order:
    """Totals, balance and warnings of the order (locks it). Finance calls it after a payment."""
    order = order_lock(order.pk)
    _recalculate(order)
    return order


DERIVED_FIELDS = queries.DERIVED_FIELDS


def _recalculate(order: Order, checked: tuple[list[checks.ServiceState], checks.CheckResult] | None = None) -> None:
    """Recompute totals and warnings of a locked (or just created) order and save them.

    `checked`: the order's services as they now are and the checks' result over them, when the
    caller has them already (a service write); otherwise they are read here (one statement). The
    totals are added up from those services: they are read under the order's lock, and every write
    of a service takes that lock, so they are the rows a SUM() would see.
    """
    if checked is None:
        facts = selectors.order_facts(order)
        checked = facts.services, checks.evaluate(facts.order, facts.services)
    states, result = checked
    active = [s for s in states if s.active]
    order.total_amount = quantize_money(sum((s.price_in_order_currency for s in active), ZERO))
    order.commission = quantize_money(sum((s.commission_in_order_currency for s in active), ZERO))
    order.cost_amount = quantize_money(sum((s.cost_in_order_currency for s in active), ZERO))
    order.margin = order.total_amount - order.cost_amount
    # What we owe suppliers follows the same rule as their balances: only a settled order owes.
    owed = order.cost_amount if order.status in SETTLED_STATUSES else ZERO
    order.supplier_balance_due = owed - order.supplier_paid_amount
    order.trip_start = min((s.start_dt for s in active), default=None)
    order.trip_end = max((s.end_dt for s in active), default=None)
    order.balance_due = quantize_money(order.total_amount - order.paid_amount + order.refunded_amount)
    order.warnings = result.warning_dicts + checks.provider_warnings(order)
    order.updated_at = timezone.now()
    # Derived figures: a plain UPDATE (the services and payments they come from are audited), and in
    # the same statement what the order owes each supplier.
    queries.order_save_derived(order, _supplier_balance_params(order, active))


def _supplier_balance_params(order: Order, active: list[checks.ServiceState]) -> list:
    """What the order owes each supplier: the cost of its active services while the order is settled
    (confirmed, paid, completed); nothing for a draft or a cancelled order."""
    costs: dict[int | None, Decimal] = {}
    dues: dict[int | None, date] = {}
    if order.status in SETTLED_STATUSES:
        for state in active:
            costs[state.supplier_id] = costs.get(state.supplier_id, ZERO) + state.cost_in_order_currency
            earliest = dues.get(state.supplier_id)
            if state.cost_due_date and (earliest is None or state.cost_due_date < earliest):
                dues[state.supplier_id] = state.cost_due_date
    suppliers = list(costs)
    return [
        suppliers,
        [quantize_money(costs[key]) for key in suppliers],
        [dues.get(key) for key in suppliers],
        order.pk,
        order.pk,
    ]


def order_check(*, order: Order) -> checks.CheckResult:
    """The checks on demand (read only): errors of the stored data and fresh warnings."""
    result = checks.evaluate(*check_input(order))
    extra = [
        checks.Issue(item["code"], item["message"], tuple(item["service_ids"]))
        for item in checks.provider_warnings(order)
    ]
    result.warnings.extend(extra)
    return result


# --- Services --------------------------------------------------------------------------------------

SERVICE_FIELDS = (
    "type",
    "status",
    "start_dt",
    "end_dt",
    "timezone",
    "end_timezone",
    "origin",
    "destination",
    "city",
    "address",
    "supplier",
    "price",
    "currency",
    "rate",
    "commission",
    "commission_percent",
    "cost",
    "cost_currency",
    "cost_rate",
    "cost_due_date",
    "offer_option",
    "details",
)


def _ensure_editable(order: Order) -> None:
    if order.status in CLOSED_STATUSES:
        raise ConflictError(
            f"Заказ в статусе «{OrderStatus(order.status).label}»: услуги менять нельзя.", code="order_closed"
        )


# How far back the latest known bank rate is looked for (weekends and holidays have none).
ESTIMATE_LOOKBACK_DAYS = 10


def _rate_for(service: Service, order: Order, *, currency: str | None = None, field: str = "rate") -> Decimal:
    return _rate_and_estimate(service, order, currency=currency, field=field)[0]


def _rate_and_estimate(
    service: Service, order: Order, *, currency: str | None = None, field: str = "rate"
) -> tuple[Decimal, bool]:
    """The rate of the service's date; for a date in the future, the latest known rate as an estimate
    (True): the bank publishes no rate ahead, and the payment fixes the real one."""
    currency = currency or service.currency
    rate_for = rate_provider()
    message = f"Укажите курс {currency} к валюте заказа {order.currency}."
    if rate_for is None:
        raise BusinessError(message, code="rate_required", fields={field: [message]})
    on_date, today = timezone.localdate(service.start_dt), timezone.localdate()
    try:
        return rate_for(currency, order.currency, on_date), False
    except BusinessError as error:
        if on_date <= today:
            raise BusinessError(message, code="rate_required", fields={field: [message]}) from error
    for back in range(ESTIMATE_LOOKBACK_DAYS + 1):
        try:
            return rate_for(currency, order.currency, today - timedelta(days=back)), True
        except BusinessError:
            continue
    raise BusinessError(message, code="rate_required", fields={field: [message]})


def _apply_service_data(service: Service, order: Order, data: Mapping[str, Any]) -> None:
    rate_given = data.get("rate") is not None
    for key in SERVICE_FIELDS:
        if key in data and not (key in ("rate", "cost_rate", "cost_currency") and data[key] in (None, "")):
            setattr(service, key, data[key])
    service.details = clean_details(service.type, service.details)
    _apply_airport_zones(service, data)
    _check_location(service)
    _apply_offer_option(service, order, data)
    if service.currency == order.currency:
        service.rate, service.rate_is_estimate = Decimal(1), False
    elif not rate_given and ("currency" in data or service.pk is None or not service.rate):
        service.rate, service.rate_is_estimate = _rate_and_estimate(service, order)
    elif rate_given:
        service.rate_is_estimate = False  # typed by a person
    service.rate = quantize_rate(service.rate)
    if service.commission_percent is not None:
        service.commission = quantize_money(Decimal(service.price) * Decimal(service.commission_percent) / 100)
    service.price_in_order_currency = convert(service.price, service.rate)
    service.commission_in_order_currency = convert(service.commission or ZERO, service.rate)
    _apply_cost(service, order, data)


def _apply_airport_zones(service: Service, data: Mapping[str, Any]) -> None:
    """A flight's zones from its airports' IATA codes when not given: departure (only when `timezone`
    is left out) and arrival (when `end_timezone` is left out or empty). Other types keep one zone."""
    if service.type not in TRANSPORT_TYPES:
        service.end_timezone = ""
        return
    if service.type != ServiceType.FLIGHT:
        return  # a train or a transfer: the arrival zone as typed (stations have no IATA codes)
    if data.get("timezone") in (None, ""):
        service.timezone = airport_zone(service.origin) or service.timezone or "Europe/Moscow"
    if not data.get("end_timezone"):
        arrival = airport_zone(service.destination)
        service.end_timezone = arrival if arrival and arrival != service.timezone else ""


def _apply_offer_option(service: Service, order: Order, data: Mapping[str, Any]) -> None:
    """An offer's option or alternative: an alternative names another service of the same order
    (itself in the package or an option), never itself and never an alternative of an alternative."""
    if "alternative_of" in data:
        target = data["alternative_of"]
        target_id = getattr(target, "pk", target)
        service.alternative_of_id = int(target_id) if target_id not in (None, "") else None
    if service.offer_option != OfferOption.ALTERNATIVE:
        service.alternative_of_id = None
        return
    message = None
    if service.alternative_of_id is None:
        message = "Укажите, альтернативой какой услуги является эта."
    elif service.pk is not None and service.alternative_of_id == service.pk:
        message = "Услуга не может быть альтернативой самой себе."
    else:
        target = Service.objects.filter(pk=service.alternative_of_id, order_id=order.pk).first()
        if target is None:
            message = "Альтернатива — только к услуге этого же заказа."
        elif target.offer_option == OfferOption.ALTERNATIVE:
            message = "Выберите основную услугу, а не другую альтернативу."
    if message:
        raise BusinessError(message, code="invalid_alternative", fields={"alternative_of": [message]})


def _apply_cost(service: Service, order: Order, data: Mapping[str, Any]) -> None:
    """The supplier's net cost in the order's currency, with its rate fixed now (as for payments).

    No cost typed: an agent sale — the supplier is owed price − commission in the service's currency
    at the service's rate, and the order-currency figure is the difference of the two already
    rounded figures, so margin = commission to the kopeck. A typed cost (a resale with a markup)
    has its own currency and rate; an agent's commission beside it must agree with it.
    """
    if service.cost is None:
        service.cost_currency = service.currency
        service.cost_rate = service.rate
        service.cost_in_order_currency = service.price_in_order_currency - service.commission_in_order_currency
        return
    if Decimal(service.cost) < 0:
        raise BusinessError("Нетто поставщику не может быть отрицательным.", code="negative_cost",
                            fields={"cost": ["Нетто поставщику не может быть отрицательным."]})
    if service.cost_rate is not None and Decimal(service.cost_rate) <= 0:
        raise BusinessError("Курс должен быть больше нуля.", code="invalid_rate",
                            fields={"cost_rate": ["Курс должен быть больше нуля."]})
    commission = service.commission or ZERO
    if commission and (
        service.cost_currency != service.currency or Decimal(service.price) - commission != Decimal(service.cost)
    ):
        message = (
            "Для агентской продажи нетто поставщику — это цена минус комиссия: оставьте нетто пустым "
            "или уберите комиссию, если услуга перепродаётся с наценкой."
        )
        raise BusinessError(message, code="cost_commission_mismatch", fields={"cost": [message]})
    rate_given = data.get("cost_rate") not in (None, "")
    if service.cost_currency == order.currency:
        service.cost_rate = Decimal(1)
    elif service.cost_currency == service.currency and not rate_given:
        service.cost_rate = service.rate
    elif not rate_given and ("cost_currency" in data or "cost" in data or not service.cost_rate):
        service.cost_rate = _rate_for(service, order, currency=service.cost_currency, field="cost_rate")
    service.cost_rate = quantize_rate(service.cost_rate)
    service.cost_in_order_currency = convert(service.cost, service.cost_rate)


def _check_location(service: Service) -> None:
    errors = {}
    if service.type in TRANSPORT_TYPES:
        for key in ("origin", "destination"):
            if not (getattr(service, key) or "").strip():
                errors[key] = ["Для транспортной услуги укажите откуда и куда (код IATA или город/станция)."]
    elif not (service.city or "").strip():
        errors["city"] = ["Укажите город."]
    if errors:
        raise ValidationError(errors)


def _refuse_if_row_errors(service: Service, traveller_ids: list[int]) -> None:
    state = checks.ServiceState.from_service(service, traveller_ids)
    errors = checks.row_errors([state])
    if errors:
        _raise(errors, own_id=service.pk)


def _raise(errors: list[checks.Issue], *, own_id=None, new: bool = False) -> None:
    first = errors[0]
    ids = sorted({i for issue in errors for i in issue.service_ids if i is not None and not (new and i == own_id)})
    raise BusinessError(
        first.message,
        code=first.code,
        fields={name: [first.message] for name in first.fields},
        service_ids=ids,
        errors=[{"code": e.code, "message": e.message} for e in errors],
    )


def _full_clean_service(service: Service) -> None:
    try:
        # Constraints: the row checks above say it in words, the database is the last word.
        service.full_clean(exclude=["order", "travellers"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            error.error_dict.pop("__all__", None)  # constraint messages: the checks above say it better
            if error.error_dict:
                raise
        else:
            raise


def _traveller_ids(travellers, facts: selectors.OrderFacts) -> list[int]:
    """The service's travellers as ids. Travellers of the order are live clients, so only ids
    outside the order are looked up: unknown ones are a field error, the others are left to the
    checks (traveller_not_on_order)."""
    ids = _ids(travellers)
    strangers = [pk for pk in ids if pk not in facts.order.traveller_ids]
    if strangers:
        from apps.clients.models import Client

        found = set(Client.objects.filter(pk__in=strangers).values_list("pk", flat=True))
        missing = [pk for pk in strangers if pk not in found]
        if missing:
            raise ValidationError({"travellers": [f"Клиенты не найдены: {', '.join(map(str, missing))}."]})
    return ids


def _check(facts: selectors.OrderFacts, service: Service, traveller_ids: list[int], *, new: bool):
    """The order's services with this one as just saved, and the checks over them; refuse its errors."""
    states = [s for s in facts.services if s.id != service.pk]
    states.append(checks.ServiceState.from_service(service, traveller_ids))
    result = checks.evaluate(facts.order, states)
    errors = result.errors_for(service.pk)
    if errors:
        _raise(errors, own_id=service.pk, new=new)
    return states, result


@transaction.atomic
def service_create(*, order: Order | int, data: ServiceData, actor: User | None = None, travellers=None) -> Service:
    """Add a service: validate, check against the order's other services, recalculate, log.

    `order`: the order or its id (Order.DoesNotExist when there is none). The service comes back
    with its travellers loaded (names only), ready for the API's answer.
    """
    order = order_lock(order.pk if isinstance(order, Order) else order)
    _ensure_editable(order)
    # Read once under the lock: the other services, the order's travellers, their passports.
    facts = selectors.order_facts(order)
    service = Service(order=order)
    _apply_service_data(service, order, data)
    traveller_ids = sorted(facts.order.traveller_ids) if travellers is None else _traveller_ids(travellers, facts)
    _refuse_if_row_errors(service, traveller_ids)
    _full_clean_service(service)
    audit.create_with_travellers(service, traveller_ids)
    _recalculate(order, _check(facts, service, traveller_ids, new=True))
    order_event_add(
        order=order,
        kind="service_added",
        title=f"Добавлена услуга: {service.title}",
        data={"service_id": service.pk, "type": service.type},
        actor=actor,
    )
    return selectors.with_travellers(service, facts.clients(traveller_ids))


@transaction.atomic
def service_update(*, service: Service, data: ServiceData, actor: User | None = None, travellers=None) -> Service:
    """Change a service (same checks as service_create); it comes back with its travellers loaded."""
    order = order_lock(service.order_id)
    _ensure_editable(order)
    facts = selectors.order_facts(order)
    service = Service.objects.select_related("supplier").get(pk=service.pk)
    stored_row = copy.deepcopy(service)  # what the audit entry compares with
    _apply_service_data(service, order, data)
    stored = next((s for s in facts.services if s.id == service.pk), None)
    current = sorted(stored.traveller_ids) if stored else []
    traveller_ids = current if travellers is None else _traveller_ids(travellers, facts)
    _refuse_if_row_errors(service, traveller_ids)
    _full_clean_service(service)
    save_audited(service, stored_row)  # one UPDATE entry, diffed against the row read under the lock
    audit.set_travellers(service, traveller_ids, current=current)
    _recalculate(order, _check(facts, service, traveller_ids, new=False))
    cancelled = service.status == ServiceStatus.CANCELLED and stored_row.status != ServiceStatus.CANCELLED
    order_event_add(
        order=order,
        kind="service_cancelled" if cancelled else "service_changed",
        title=f"{'Отменена' if cancelled else 'Изменена'} услуга: {service.title}",
        data={"service_id": service.pk, "type": service.type},
        actor=actor,
    )
    return selectors.with_travellers(service, facts.clients(traveller_ids))


@transaction.atomic
def service_delete(*, service: Service, actor: User | None = None) -> None:
    order = order_lock(service.order_id)
    _ensure_editable(order)
    title, service_id, service_type = service.title, service.pk, service.type
    Service.objects.filter(pk=service_id).delete()
    _recalculate(order)
    order_event_add(
        order=order,
        kind="service_deleted",
        title=f"Удалена услуга: {title}",
        data={"service_id": service_id, "type": service_type},
        actor=actor,
    )


# --- Lead -> order ---------------------------------------------------------------------------------


def _split_name(name: str) -> dict:
    """«Фамилия Имя Отчество» (three words) or a messenger's «Имя Фамилия» (two) or just «Имя»."""
    words = (name or "").split()
    if len(words) >= 3:
        return {"last_name": words[0], "first_name": words[1], "middle_name": " ".join(words[2:])}
    if len(words) == 2:
        return {"first_name": words[0], "last_name": words[1]}
    if len(words) == 1:
        return {"first_name": words[0], "last_name": "(не указана)"}
    return {"first_name": "(не указано)", "last_name": "(не указана)"}


def _client_from_lead(lead, actor):
    from apps.clients.services import ClientData, client_create

    contacts = [
        {"kind": kind, "value": value}
        for kind, value in (
            ("phone", lead.contact_phone),
            ("email", lead.contact_email),
            ("telegram", lead.contact_telegram),
            ("whatsapp", lead.contact_whatsapp),
        )
        if value
    ]
    data = cast(ClientData, {**_split_name(lead.contact_name), "contacts": contacts})
    return client_create(data=data, actor=actor, on_duplicate="link")


@transaction.atomic
def order_create_from_lead(*, lead, actor, client=None) -> Order:
    """A draft order for the lead's client (found, created or linked by dedup); the lead is converted."""
    from apps.leads.models import Lead
    from apps.leads.services import lead_mark_converted

    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    existing = getattr(lead, "order_id", None)
    if existing or lead.status == "converted":
        raise ConflictError("Заявка уже преобразована в заказ.", code="lead_already_converted", order_id=existing)
    if lead.status == "rejected":
        raise ConflictError("Отклонённую заявку нельзя преобразовать в заказ.", code="lead_rejected")
    client = client or lead.client or _client_from_lead(lead, actor)
    order = order_create(
        data={"client": client, "operator": lead.operator or _user_or_none(actor), "notes": f"Из заявки {lead.number}"},
        actor=actor,
        travellers=[client],
    )
    lead_mark_converted(lead=lead, order=order, actor=actor)
    order_event_add(
        order=order,
        kind="lead_converted",
        title=f"Создан из заявки {lead.number}",
        data={"lead_id": lead.pk},
        actor=actor,
    )
    return order
