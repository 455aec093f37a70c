"""Reads of the workplace: the «Сегодня» sections per role and the one search box.

Every section is one query with a row limit, so the page costs the same whatever the size of the
tables (tests assert the query count).
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.clients import selectors as client_selectors
from apps.clients.models import Client
from apps.core.numbers import format_money
from apps.leads.models import OPEN_STATUSES, Lead, LeadMessage, LeadStatus, MessageDirection
from apps.orders.models import Order, OrderStatus, Service, ServiceStatus
from apps.workplace.models import Reminder

LIMIT = 15
OPEN_ORDER = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.PAID)
# Key details a service should have before the trip (the rest are optional).
KEY_DETAILS = {"flight": "pnr", "rail": "pnr", "hotel": "confirmation_number"}


@dataclass
class Row:
    url: str
    label: str
    detail: str = ""
    alert: bool = False
    close_url: str = ""


@dataclass
class Section:
    key: str
    title: str
    empty: str
    rows: list[Row] = field(default_factory=list)
    more_url: str = ""
    has_more: bool = False


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%d.%m.%Y %H:%M") if dt else ""


def _change_url(model: str, pk: int) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def _limited(queryset) -> tuple[list, bool]:
    items = list(queryset[: LIMIT + 1])
    return items[:LIMIT], len(items) > LIMIT


def _mine(user, field_name: str = "operator") -> Q:
    """A manager sees their own; a supervisor and an accountant see everyone's."""
    if user.role == Role.OPERATOR and not user.is_superuser:
        return Q(**{field_name: user})
    return Q()


def today_sections(user) -> list[Section]:
    now = timezone.now()
    sections = [_reminders(user, now)]
    if user.has_perm("leads.view_lead") and user.role != Role.ACCOUNTANT:
        sections.append(_leads(user))
    sections.append(_deadlines(user, now))
    if user.role != Role.ACCOUNTANT:
        sections += [_departures(user, now), _missing_data(user, now), _passports(user, now)]
    return sections


def _reminders(user, now) -> Section:
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    queryset = (
        Reminder.objects.filter(owner=user, done_at__isnull=True, due_at__lte=end_of_day)
        .select_related("lead", "client", "order")
        .order_by("due_at", "id")
    )
    items, more = _limited(queryset)
    rows = []
    for reminder in items:
        target, url = _reminder_target(reminder)
        rows.append(
            Row(
                url=url or _change_url("workplace_reminder", reminder.pk),
                label=reminder.text,
                detail=" · ".join(filter(None, [_fmt(reminder.due_at), target])),
                alert=reminder.due_at < now,
                close_url=reverse("admin:workplace_reminder_close", args=[reminder.pk]),
            )
        )
    return Section("reminders", "Задачи на сегодня", "Задач на сегодня нет.", rows,
                   reverse("admin:workplace_reminder_changelist") + "?done=open", more)


def _reminder_target(reminder: Reminder) -> tuple[str, str]:
    if reminder.order:
        return f"заказ {reminder.order.number}", _change_url("orders_order", reminder.order.pk)
    if reminder.lead:
        return f"заявка {reminder.lead.number}", _change_url("leads_lead", reminder.lead.pk)
    if reminder.client:
        return f"клиент {reminder.client.full_name}", _change_url("clients_client", reminder.client.pk)
    return "", ""


def _leads(user) -> Section:
    last_direction = Subquery(
        LeadMessage.objects.filter(lead=OuterRef("pk")).order_by("-received_at", "-id").values("direction")[:1]
    )
    scope = Q(operator__isnull=True) | _mine(user) if user.role == Role.OPERATOR else Q()
    queryset = (
        Lead.objects.filter(scope, status__in=OPEN_STATUSES)
        .annotate(last_direction=last_direction)
        .filter(Q(status=LeadStatus.NEW) | Q(last_direction=MessageDirection.INCOMING))
        .select_related("operator")
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )
    items, more = _limited(queryset)
    rows = []
    for lead in items:
        state = "новая" if lead.status == LeadStatus.NEW else "ждёт ответа"
        who = lead.operator.get_short_name() if lead.operator_id else "без ответственного"
        when = _fmt(lead.last_message_at or lead.created_at)
        rows.append(
            Row(
                url=_change_url("leads_lead", lead.pk),
                label=f"{lead.number} · {lead.contact_name or 'без имени'}",
                detail=f"{lead.get_source_display()} · {state} · {who} · {when}",
                alert=lead.operator_id is None,
            )
        )
    return Section("leads", "Новые и неотвеченные заявки", "Все заявки отвечены.", rows,
                   reverse("admin:leads_lead_changelist") + "?status__exact=new", more)


def _orders(user):
    return Order.objects.filter(_mine(user)).select_related("client")


def _deadlines(user, now) -> Section:
    queryset = (
        _orders(user)
        .filter(status__in=(OrderStatus.DRAFT, OrderStatus.CONFIRMED), deadline__lte=now + timedelta(days=7))
        .order_by("deadline", "id")
    )
    items, more = _limited(queryset)
    rows = [
        Row(
            url=_change_url("orders_order", order.pk),
            label=f"{order.number} · {order.client.full_name}",
            detail=f"срок {_fmt(order.deadline)} · долг {format_money(order.balance_due, order.currency)}",
            alert=order.deadline < now,
        )
        for order in items
    ]
    return Section("deadlines", "Сроки оплаты на этой неделе", "Сроков на неделе нет.", rows,
                   reverse("admin:orders_order_changelist") + "?o=4", more)


def _departures(user, now) -> Section:
    queryset = (
        _orders(user)
        .filter(status__in=OPEN_ORDER, trip_start__gte=now, trip_start__lte=now + timedelta(days=7))
        .order_by("trip_start", "id")
    )
    items, more = _limited(queryset)
    rows = [
        Row(
            url=_change_url("orders_order", order.pk),
            label=f"{order.number} · {order.client.full_name}",
            detail=f"вылет {_fmt(order.trip_start)}"
            + (f" · долг {format_money(order.balance_due, order.currency)}" if order.balance_due > 0 else ""),
            alert=order.balance_due > 0,
        )
        for order in items
    ]
    return Section("departures", "Выезды в ближайшие 7 дней", "Выездов в ближайшие 7 дней нет.", rows, "", more)


def _missing_data(user, now) -> Section:
    missing = Q(supplier__isnull=True)
    for service_type, key in KEY_DETAILS.items():
        missing |= Q(type=service_type) & (Q(**{f"details__{key}__isnull": True}) | Q(**{f"details__{key}": ""}))
    queryset = (
        Service.objects.filter(
            missing,
            order__in=_orders(user).filter(status__in=OPEN_ORDER).values("id"),
            start_dt__gte=now,
            start_dt__lte=now + timedelta(days=14),
        )
        .exclude(status=ServiceStatus.CANCELLED)
        .select_related("order")
        .order_by("start_dt", "id")
    )
    items, more = _limited(queryset)
    rows = []
    for service in items:
        lacks = []
        if service.supplier_id is None:
            lacks.append("поставщик")
        detail = KEY_DETAILS.get(service.type)
        if detail and not (service.details or {}).get(detail):
            lacks.append("PNR" if detail == "pnr" else "номер подтверждения")
        rows.append(
            Row(
                url=_change_url("orders_order", service.order_id),
                label=f"{service.order.number} · {service.title}",
                detail=f"{_fmt(service.start_dt)} · не хватает: {', '.join(lacks)}",
            )
        )
    return Section("missing", "Услуги с неполными данными (14 дней)", "Данные услуг заполнены.", rows, "", more)


def _passports(user, now) -> Section:
    queryset = (
        _orders(user)
        .filter(status__in=OPEN_ORDER, trip_end__gte=now, warnings__contains=[{"code": "passport_expires"}])
        .order_by("trip_start", "id")
    )
    items, more = _limited(queryset)
    rows = []
    for order in items:
        messages = [w["message"] for w in order.warnings if w.get("code") == "passport_expires"]
        rows.append(
            Row(
                url=_change_url("orders_order", order.pk),
                label=f"{order.number} · {order.client.full_name}",
                detail="; ".join(messages),
                alert=True,
            )
        )
    return Section("passports", "Паспорта, истекающие до поездки", "Проблем с паспортами нет.", rows, "", more)


# --- the search box ----------------------------------------------------------------------------------

ORDER_NUMBER = re.compile(r"^\d{4}-\d{1,6}$")
LEAD_NUMBER = re.compile(r"^[LlЛл]-?(\d{1,9})$")


@dataclass
class SearchResult:
    clients: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    leads: list[Row] = field(default_factory=list)

    @property
    def all_rows(self) -> list[Row]:
        return [*self.clients, *self.orders, *self.leads]


def search(term: str, user) -> SearchResult:
    term = (term or "").strip()
    result = SearchResult()
    if len(term) < 2:
        return result
    if user.has_perm("orders.view_order"):
        result.orders = _search_orders(term)
    if user.has_perm("leads.view_lead"):
        result.leads = _search_leads(term)
    if user.has_perm("clients.view_client") and not (result.orders or result.leads):
        result.clients = _search_clients(term)
    return result


def _search_orders(term: str) -> list[Row]:
    compact = term.replace(" ", "")
    if not ORDER_NUMBER.match(compact):
        return []
    year, _, serial = compact.partition("-")
    number = f"{year}-{int(serial):06d}"
    orders = Order.objects.filter(number=number).select_related("client")[:LIMIT]
    return [
        Row(url=_change_url("orders_order", o.pk), label=f"Заказ {o.number}",
            detail=f"{o.client.full_name} · {o.get_status_display()} · {format_money(o.total_amount, o.currency)}")
        for o in orders
    ]


def _search_leads(term: str) -> list[Row]:
    match = LEAD_NUMBER.match(term.replace(" ", ""))
    if not match:
        return []
    number = f"L-{int(match.group(1)):06d}"
    leads = Lead.objects.filter(number=number)[:LIMIT]
    return [
        Row(url=_change_url("leads_lead", lead.pk), label=f"Заявка {lead.number}",
            detail=f"{lead.get_source_display()} · {lead.get_status_display()} · {lead.contact_name}")
        for lead in leads
    ]


def _search_clients(term: str) -> list[Row]:
    """Name (any word order, Cyrillic or Latin); phone in any spelling, e-mail, passport by blind index."""
    condition = Q(id__in=client_selectors.search_clients(Client.objects.all(), term).values("id"))
    for lookup in (client_selectors.filter_by_phone, client_selectors.filter_by_email,
                   client_selectors.filter_by_passport):
        try:
            condition |= Q(id__in=lookup(Client.objects.all(), term).values("id"))
        except ValidationError:
            continue  # not a phone / e-mail / passport number
    clients = list(Client.objects.filter(condition).order_by("last_name", "first_name", "id")[:LIMIT])
    labels = client_selectors.client_labels(clients)
    return [Row(url=_change_url("clients_client", c.pk), label=labels[c.pk]) for c in clients]
