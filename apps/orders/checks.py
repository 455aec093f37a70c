"""Conflict checks of an order: one function answers with errors (refused) and warnings (stored).

The checks work on plain snapshots (`ServiceState`), so the API, the admin (before it saves a
formset) and the tests all ask the same question the same way. Other apps add warnings through
`register_warning_provider(func)`, `func(order) -> list[{"code", "message", "service_ids"}]`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from apps.orders import places

logger = logging.getLogger(__name__)

TRANSPORT = frozenset({"flight", "rail", "transfer"})
OPEN_ORDER_STATUSES = frozenset({"draft", "confirmed"})
FOREIGN_PASSPORT_MARGIN = timedelta(days=183)

WarningProvider = Callable[[object], list[dict]]
_warning_providers: list[WarningProvider] = []


def register_warning_provider(func: WarningProvider) -> WarningProvider:
    """Add a function `func(order) -> list[dict(code, message, service_ids)]` to every warning run."""
    if func not in _warning_providers:
        _warning_providers.append(func)
    return func


def warning_providers() -> list[WarningProvider]:
    return list(_warning_providers)


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    service_ids: tuple = ()
    fields: tuple = ()

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "service_ids": list(self.service_ids)}


@dataclass
class CheckResult:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def errors_for(self, service_id) -> list[Issue]:
        return [issue for issue in self.errors if service_id in issue.service_ids]

    @property
    def warning_dicts(self) -> list[dict]:
        return [issue.as_dict() for issue in self.warnings]


@dataclass(frozen=True)
class ServiceState:
    """What the checks need to know about one service (saved or proposed)."""

    id: object
    type: str
    status: str
    start_dt: datetime
    end_dt: datetime
    tz: str = "Europe/Moscow"
    origin: str = ""
    destination: str = ""
    city: str = ""
    price: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    traveller_ids: frozenset = frozenset()
    # in the order's currency: what the order's totals add up (not used by the checks themselves)
    price_in_order_currency: Decimal = Decimal(0)
    commission_in_order_currency: Decimal = Decimal(0)
    cost_in_order_currency: Decimal = Decimal(0)
    supplier_id: int | None = None
    cost_due_date: date | None = None

    @classmethod
    def from_service(cls, service, traveller_ids: Iterable | None = None) -> ServiceState:
        if traveller_ids is None:
            traveller_ids = [client.pk for client in service.travellers.all()]
        return cls(
            id=service.pk,
            type=service.type,
            status=service.status,
            start_dt=service.start_dt,
            end_dt=service.end_dt,
            tz=service.timezone or "Europe/Moscow",
            origin=service.origin,
            destination=service.destination,
            city=service.city,
            price=service.price if service.price is not None else Decimal(0),
            commission=service.commission if service.commission is not None else Decimal(0),
            traveller_ids=frozenset(traveller_ids),
            price_in_order_currency=service.price_in_order_currency or Decimal(0),
            commission_in_order_currency=service.commission_in_order_currency or Decimal(0),
            cost_in_order_currency=service.cost_in_order_currency or Decimal(0),
            supplier_id=service.supplier_id,
            cost_due_date=service.cost_due_date,
        )

    @property
    def active(self) -> bool:
        return self.status != "cancelled"

    @property
    def is_transport(self) -> bool:
        return self.type in TRANSPORT

    def local_date(self, moment: datetime, tz: str | None = None) -> date:
        try:
            zone = ZoneInfo(tz or self.tz)
        except Exception:  # noqa: BLE001 — a bad zone name is refused elsewhere; fall back to UTC here
            zone = ZoneInfo("UTC")
        return moment.astimezone(zone).date()


@dataclass(frozen=True)
class OrderState:
    """The order-level facts the checks use."""

    traveller_ids: frozenset
    deadline: datetime | None = None
    status: str = "draft"
    # client id -> list of (kind, expires_on); kind "foreign" or "internal"/other
    passports: dict = field(default_factory=dict)
    # client id -> «Новикова О.»: warnings name the traveller
    names: dict = field(default_factory=dict)


# --- the one entry point ---------------------------------------------------------------------------


def evaluate(order: OrderState, services: list[ServiceState], *, now: datetime | None = None) -> CheckResult:
    """Errors (the change must be refused) and warnings (accepted, stored on the order)."""
    now = now or timezone.now()
    result = CheckResult()
    result.errors.extend(row_errors(services))
    result.errors.extend(_travellers_not_on_order(order, services))
    active = [s for s in services if s.active and s.start_dt and s.end_dt and s.end_dt >= s.start_dt]
    by_traveller = _by_traveller(order, active)
    result.errors.extend(_transport_overlaps(by_traveller))
    result.warnings.extend(_hotel_overlaps(by_traveller))
    result.warnings.extend(_geography_gaps(by_traveller))
    result.warnings.extend(_nights_without_hotel(by_traveller))
    result.warnings.extend(_passport_expiry(order, active))
    result.warnings.extend(_deadline_passed(order, now))
    return result


def provider_warnings(order) -> list[dict]:
    """Warnings other apps add (e.g. finance's "overpaid"); a failing provider is logged, not fatal."""
    collected: list[dict] = []
    for provider in warning_providers():
        try:
            for item in provider(order) or []:
                collected.append(
                    {
                        "code": str(item["code"]),
                        "message": str(item["message"]),
                        "service_ids": list(item.get("service_ids", [])),
                    }
                )
        except Exception:  # noqa: BLE001 — one app's provider must not break saving an order
            logger.exception("warning provider failed", extra={"provider": getattr(provider, "__name__", "?")})
    return collected


# --- errors ----------------------------------------------------------------------------------------


def row_errors(services: list[ServiceState]) -> list[Issue]:
    issues: list[Issue] = []
    for s in services:
        ids = (s.id,)
        if s.start_dt and s.end_dt and s.end_dt < s.start_dt:
            issues.append(Issue("end_before_start", "Окончание услуги раньше её начала.", ids, ("end_dt",)))
        if s.price < 0:
            issues.append(Issue("negative_price", "Цена не может быть отрицательной.", ids, ("price",)))
        if s.commission < 0:
            issues.append(Issue("negative_commission", "Комиссия не может быть отрицательной.", ids, ("commission",)))
        elif s.price >= 0 and s.commission > s.price:
            issues.append(Issue("commission_above_price", "Комиссия больше цены услуги.", ids, ("commission",)))
    return issues


def _travellers_not_on_order(order: OrderState, services: list[ServiceState]) -> list[Issue]:
    issues = []
    for s in services:
        strangers = s.traveller_ids - order.traveller_ids
        if strangers:
            issues.append(
                Issue(
                    "traveller_not_on_order",
                    "В услуге указан турист, которого нет в заказе: сначала добавьте его в туристы заказа.",
                    (s.id,),
                    ("travellers",),
                )
            )
    return issues


def _by_traveller(order: OrderState, services: list[ServiceState]) -> dict:
    """traveller id -> their services by start. A service without travellers covers the whole order."""
    groups: dict = defaultdict(list)
    for s in services:
        for traveller in s.traveller_ids or order.traveller_ids or {None}:
            groups[traveller].append(s)
    for items in groups.values():
        items.sort(key=lambda s: (s.start_dt, s.end_dt, str(s.id)))
    return groups


def _overlap(a: ServiceState, b: ServiceState) -> bool:
    return a.start_dt < b.end_dt and b.start_dt < a.end_dt


def _pairs(items: list[ServiceState]):
    for index, a in enumerate(items):
        for b in items[index + 1 :]:
            if b.start_dt >= a.end_dt:
                break
            yield a, b


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen, unique = set(), []
    for issue in issues:
        key = (issue.code, tuple(sorted(map(str, issue.service_ids))))
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return unique


def _transport_overlaps(by_traveller: dict) -> list[Issue]:
    issues = []
    for traveller, items in by_traveller.items():
        if traveller is None:
            continue
        transport = [s for s in items if s.is_transport]
        for a, b in _pairs(transport):
            if _overlap(a, b):
                issues.append(
                    Issue(
                        "transport_overlap",
                        "Турист не может быть в двух поездках одновременно: транспортные услуги пересекаются "
                        "по времени.",
                        (a.id, b.id),
                        ("start_dt", "end_dt"),
                    )
                )
    return _dedupe(issues)


# --- warnings --------------------------------------------------------------------------------------


def _hotel_overlaps(by_traveller: dict) -> list[Issue]:
    issues = []
    for items in by_traveller.values():
        hotels = [s for s in items if s.type == "hotel"]
        for a, b in _pairs(hotels):
            if _overlap(a, b):
                issues.append(Issue("hotel_overlap", "Проживание в двух гостиницах в одни и те же ночи.", (a.id, b.id)))
    return _dedupe(issues)


def _geography_gaps(by_traveller: dict) -> list[Issue]:
    issues = []
    for items in by_traveller.values():
        transport = [s for s in items if s.is_transport and s.origin and s.destination]
        for previous, following in zip(transport, transport[1:], strict=False):
            if not places.same_place(previous.destination, following.origin):
                issues.append(
                    Issue(
                        "geography_gap",
                        f"Разрыв маршрута: прибытие в «{previous.destination}», а следующая поездка "
                        f"начинается из «{following.origin}» — нет трансфера между ними.",
                        (previous.id, following.id),
                    )
                )
    return _dedupe(issues)


def _nights_without_hotel(by_traveller: dict) -> list[Issue]:
    issues = []
    for items in by_traveller.values():
        relevant = [s for s in items if s.is_transport or s.type == "hotel"]
        for index, arrival in enumerate(relevant):
            if not arrival.is_transport:
                continue
            following = [s for s in relevant[index + 1 :] if s.start_dt >= arrival.end_dt]
            if not following or following[0].type != "hotel":
                continue
            hotel = following[0]
            if hotel.local_date(hotel.start_dt) > hotel.local_date(arrival.end_dt, hotel.tz):
                issues.append(
                    Issue(
                        "night_without_hotel",
                        "Между прибытием и заселением в гостиницу есть ночь без проживания.",
                        (arrival.id, hotel.id),
                    )
                )
    return _dedupe(issues)


def _passport_expiry(order: OrderState, services: list[ServiceState]) -> list[Issue]:
    if not services:
        return []
    trip_end = max(s.end_dt for s in services)
    foreign = any(places.is_foreign(place) for s in services for place in (s.origin, s.destination, s.city) if place)
    last_day = (trip_end + FOREIGN_PASSPORT_MARGIN) if foreign else trip_end
    last_day_date = last_day.astimezone(ZoneInfo("Europe/Moscow")).date()
    travelling = set().union(*(s.traveller_ids or order.traveller_ids for s in services)) - {None}
    issues = []
    for client_id in sorted(travelling, key=str):
        ids = tuple(s.id for s in services if not s.traveller_ids or client_id in s.traveller_ids)
        who = f"Турист {order.names[client_id]}" if client_id in order.names else "Турист"
        passports = order.passports.get(client_id, [])
        if foreign and order.names and not any(kind == "foreign" for kind, _ in passports):
            # Only when the names were read (the order's own facts): a probe without them stays quiet.
            issues.append(Issue("foreign_passport_missing",
                                f"{who}: нет действующего заграничного паспорта, а поездка за границу.", ids))
            continue
        usable = [p for p in passports if (p[0] == "foreign") == foreign] or passports
        expiries = [expires for _, expires in usable if expires]
        if not expiries:
            continue
        if max(expiries) < last_day_date:
            detail = "действует менее 6 месяцев после окончания поездки" if foreign else "истекает до конца поездки"
            issues.append(
                Issue(
                    "passport_expires",
                    f"{who}: паспорт {detail} (срок действия до {max(expiries):%d.%m.%Y}).",
                    ids,
                )
            )
    return issues


def _deadline_passed(order: OrderState, now: datetime) -> list[Issue]:
    if order.deadline and order.deadline < now and order.status in OPEN_ORDER_STATUSES:
        return [Issue("deadline_passed", "Срок оплаты или выписки по заказу уже прошёл.")]
    return []
