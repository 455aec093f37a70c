"""The client card's history: orders (as customer or traveller), leads, payments, documents, consents.

Registered with apps.clients.card; a fixed number of queries per card (one per kind, each limited),
whatever the client's history holds.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.clients.card import register_client_card_section
from apps.core.numbers import format_money
from apps.documents.models import Document
from apps.finance.models import Payment
from apps.leads.models import Lead
from apps.orders.models import Order

LIMIT = 20


def register() -> None:
    register_client_card_section(client_history)


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%d.%m.%Y")
    return value.strftime("%d.%m.%Y")


def _link(name: str, pk: int, text: str):
    return format_html('<a href="{}">{}</a>', reverse(f"admin:{name}_change", args=[pk]), text)


def _table(title: str, headers: list[str], rows: list[tuple], more: bool, more_url: str = ""):
    if not rows:
        return format_html('<h3 style="margin:12px 0 4px">{}</h3><p style="color:#666">Нет.</p>', title)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    tail = format_html('<p><a href="{}">Показать все</a></p>', more_url) if more and more_url else ""
    return format_html(
        '<h3 style="margin:12px 0 4px">{}</h3><table class="client-history"><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table>{}",
        title, head, body, tail,
    )


def _limited(queryset) -> tuple[list, bool]:
    items = list(queryset[: LIMIT + 1])
    return items[:LIMIT], len(items) > LIMIT


def client_history(client, request) -> str:
    user = getattr(request, "user", None)
    parts = []
    may = user.has_perm if user is not None else (lambda _perm: False)
    if may("orders.view_order"):
        parts.append(_orders(client))
    if may("leads.view_lead"):
        parts.append(_leads(client))
    if may("finance.view_payment"):
        parts.append(_payments(client))
    if may("documents.view_document"):
        parts.append(_documents(client))
    return format_html_join("", "{}", ((part,) for part in parts))


def _orders(client):
    # A UNION of two indexed lookups, not «client = X OR id IN (…)»: the OR walked every order of the
    # agency newest-first to find this client's few (33 ms at 50 000 orders, growing with the table).
    as_traveller = Order.travellers.through.objects.filter(client_id=client.pk).values("order_id")
    mine = Order.objects.filter(client=client).values("pk").union(as_traveller)
    queryset = Order.objects.filter(pk__in=mine).order_by("-created_at", "-id")
    items, more = _limited(queryset)
    rows = [
        (
            _link("orders_order", o.pk, o.number),
            _date(o.created_at),
            o.get_status_display(),
            "заказчик" if o.client_id == client.pk else "турист",
            f"{_date(o.trip_start)} – {_date(o.trip_end)}" if o.trip_start else "—",
            format_money(o.total_amount, o.currency),
            format_money(o.balance_due, o.currency),
        )
        for o in items
    ]
    url = reverse("admin:orders_order_changelist") + f"?client__id__exact={client.pk}"
    return _table("Заказы", ["Номер", "Создан", "Статус", "Роль", "Поездка", "Сумма", "Долг"], rows, more, url)


def _leads(client):
    items, more = _limited(Lead.objects.filter(client=client).order_by("-created_at", "-id"))
    rows = [
        (_link("leads_lead", lead.pk, lead.number), _date(lead.created_at), lead.get_source_display(),
         lead.get_status_display(), _link("orders_order", lead.order_id, "заказ") if lead.order_id else "—")
        for lead in items
    ]
    return _table("Заявки", ["Номер", "Создана", "Канал", "Статус", "Заказ"], rows, more)


def _payments(client):
    queryset = (
        Payment.objects.filter(pk__in=Payment.objects.filter(order__client=client).values("pk").union(
            Payment.objects.filter(payer_client=client).values("pk")))  # two index lookups, as the orders
        .select_related("order")
        .order_by("-date", "-id")
    )
    items, more = _limited(queryset)
    rows = [
        (_link("finance_payment", p.pk, f"№ {p.pk}"), _date(p.date), p.get_type_display(),
         format_money(p.amount, p.currency), _link("orders_order", p.order_id, p.order.number))
        for p in items
    ]
    return _table("Платежи", ["Платёж", "Дата", "Вид", "Сумма", "Заказ"], rows, more)


def _documents(client):
    queryset = Document.objects.filter(order__client=client).select_related("order").order_by("-generated_at", "-id")
    items, more = _limited(queryset)
    rows = [
        (_link("documents_document", d.pk, f"{d.get_type_display()} № {d.number}"), _date(d.generated_at),
         d.get_status_display(), _link("orders_order", d.order_id, d.order.number))
        for d in items
    ]
    return _table("Документы", ["Документ", "Сформирован", "Статус", "Заказ"], rows, more)
