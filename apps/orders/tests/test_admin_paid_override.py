"""«Оплачен» with a debt: refused for a manager; a supervisor overrides it with a reason in the admin."""

import pytest
from django.test import Client as WebClient

from apps.orders import services
from apps.orders.tests.factories import add, at, flight, make_order

pytestmark = pytest.mark.django_db


def _confirmed_order():
    order = make_order()
    add(order, flight(at(1)))
    return services.order_transition(order=order, action="confirm")


def test_manager_gets_the_debt_as_an_error_message(operator):
    order = _confirmed_order()
    web = WebClient()
    web.force_login(operator)
    page = web.post("/admin/orders/order/", {"action": "action_mark_paid", "_selected_action": [order.pk]},
                    follow=True).content.decode()
    assert "долг" in page
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert web.get(f"/admin/orders/order/paid-override/?ids={order.pk}").status_code == 403


def test_supervisor_overrides_with_a_reason(supervisor):
    order = _confirmed_order()
    web = WebClient()
    web.force_login(supervisor)
    response = web.post("/admin/orders/order/", {"action": "mark_paid_with_debt", "_selected_action": [order.pk]})
    assert response["Location"] == f"/admin/orders/order/paid-override/?ids={order.pk}"
    page = web.get(response["Location"]).content.decode()
    assert "30\u00a0000,00\u00a0₽" in page
    assert web.post("/admin/orders/order/paid-override/", {"ids": str(order.pk), "reason": ""}).status_code == 200
    web.post("/admin/orders/order/paid-override/", {"ids": str(order.pk), "reason": "Наличные в кассе"})
    order.refresh_from_db()
    assert order.status == "paid"
    timeline = web.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Оплачен с долгом" in timeline and "Наличные в кассе" in timeline
