"""Test data for finance: orders with a total and payments, made through the services (no shortcuts)."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import factory

from apps.clients.models import Client
from apps.clients.tests.factories import ClientFactory
from apps.finance.models import Payment
from apps.finance.services import payment_create, requisites_save
from apps.orders import services as order_services
from apps.orders.models import Supplier
from apps.orders.tests.factories import OrderFactory, ServiceFactory, SupplierFactory

MSK = ZoneInfo("Europe/Moscow")
_seq = count(1)

REQUISITES = {
    "legal_name": "Общество с ограниченной ответственностью «Тест Тур»",
    "short_name": "ООО «Тест Тур»",
    "inn": "7701234560",
    "kpp": "770101001",
    "ogrn": "1167746123456",
    "address": "г. Москва, ул. Тверская, д. 1",
    "bank_name": "ПАО Сбербанк",
    "bank_city": "г. Москва",
    "bik": "044525225",
    "account": "40702810200000012345",
    "corr_account": "30101810400000000225",
    "director_name": "Иванов Иван Иванович",
    "accountant_name": "Петрова Анна Сергеевна",
    "vat_mode": "usn",
}


def make_requisites(**extra):
    return requisites_save(data={**REQUISITES, **extra})


def make_client(last_name: str | None = None, first_name: str = "Анна", **extra) -> Client:
    return ClientFactory(last_name=last_name or f"Смирнова{next(_seq)}", first_name=first_name, **extra)


def make_supplier(name: str | None = None) -> Supplier:
    return SupplierFactory(name=name or f"Туроператор {next(_seq)}")


class PaymentFactory(factory.Factory):
    """The one way to record a payment in tests: payment_create. Keyword arguments are its `data`
    (amount, type, method, date, payer_*…), plus `order` (a confirmed order of 100 000 ₽ unless
    given) and `actor`."""

    class Meta:
        model = Payment

    order = factory.LazyFunction(lambda: make_order())
    amount = Decimal("1000.00")

    @classmethod
    def _create(cls, model_class, *args, order, actor=None, **data):
        return payment_create(order_id=order.pk, data=data, actor=actor)


def make_order(
    total: Decimal | str = "100000.00", *, currency: str = "RUB", client=None, operator=None, deadline=None,
    commission: Decimal | str = "0", supplier=None, start: datetime | None = None, confirm: bool = True,
    cost: Decimal | str | None = None, cost_due_date=None,
):
    """An order whose total is one local service of `total` (so the orders app computes it),
    confirmed (payments are taken on confirmed orders only) unless `confirm=False`."""
    client = client or make_client()
    data = {"client": client, "currency": currency}
    if operator is not None:
        data["operator"] = operator
    if deadline is not None:
        data["deadline"] = deadline
    order = OrderFactory(actor=operator, travellers=[client], **data)
    if Decimal(total) > 0:
        start = start or datetime(2027, 1, 10, 10, 0, tzinfo=MSK)
        ServiceFactory(order=order, travellers=[client], **{
            "type": "local", "start_dt": start, "end_dt": start + timedelta(hours=3), "city": "Москва",
            "price": Decimal(total), "currency": currency, "commission": Decimal(commission),
            "supplier": supplier, "details": {"title": "Экскурсия"},
            "cost": None if cost is None else Decimal(cost), "cost_due_date": cost_due_date,
        })
        if confirm:
            order_services.order_transition(order=order, action="confirm", actor=operator)
    order.refresh_from_db()
    return order
