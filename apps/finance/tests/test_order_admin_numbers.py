"""The order page reads Russian numbers and asks before saving a rate far from the stored bank rate (finance)
or a total that jumps tenfold (here because the rates come from finance, which sits above orders)."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client as WebClient
from django.utils import timezone

from apps.finance.models import CurrencyRate
from apps.orders.models import Service
from apps.orders.tests.factories import add, at, flight, make_order
from apps.orders.tests.test_admin import _order_post, _row

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(admin_user):
    client = WebClient()
    client.force_login(admin_user)
    return client


def _usd_rate(value: str, on: date | None = None):
    CurrencyRate.objects.create(
        date=on or timezone.localdate(), currency="USD", nominal=1, rate=Decimal(value), source="cbr"
    )


def _hotel(**values):
    return _row(
        type="hotel", origin="", destination="", city="Анталья", start_dt="01.12.2026 14:00",
        end_dt="08.12.2026 12:00", hotel__hotel_name="Rixos", **values,
    )


def test_a_decimal_comma_and_space_thousands_are_read_as_typed(web):
    order = make_order()
    _usd_rate("91.11")
    row = _hotel(price="1 234,50", currency="USD", rate="91,11")
    response = web.post(f"/admin/orders/order/{order.pk}/change/", _order_post(order, extra_services=[row]))
    assert response.status_code == 302, response.content.decode()[:3000]
    service = order.services.get()
    assert service.price == Decimal("1234.50") and service.rate == Decimal("91.11")
    order.refresh_from_db()
    assert order.total_amount == Decimal("112475.30")
    page = web.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "112\u00a0475,30\u00a0₽" in page
    listing = web.get("/admin/orders/order/").content.decode()
    assert "112\u00a0475,30\u00a0₽" in listing


def test_unreadable_number_is_refused_in_russian_and_nothing_is_saved(web):
    order = make_order()
    response = web.post(
        f"/admin/orders/order/{order.pk}/change/", _order_post(order, extra_services=[_row(price="30 000,5,0")])
    )
    assert response.status_code == 200
    assert "Не удалось прочитать число «30 000,5,0»" in response.content.decode()
    assert not Service.objects.filter(order=order).exists()


def test_rate_far_from_the_bank_rate_needs_confirmation(web):
    order = make_order()
    _usd_rate("91.11")
    row = _hotel(price="100", currency="USD", rate="9111")  # the comma got lost
    data = _order_post(order, extra_services=[row])
    response = web.post(f"/admin/orders/order/{order.pk}/change/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "отличается от курса ЦБ" in page and "91,11" in page
    assert not Service.objects.filter(order=order).exists()
    data["confirm_warnings"] = "on"
    response = web.post(f"/admin/orders/order/{order.pk}/change/", data)
    assert response.status_code == 302
    assert order.services.get().rate == Decimal("9111")


def test_total_jumping_tenfold_needs_confirmation(web):
    order = make_order()
    service = add(order, flight(at(1), price=Decimal("30000")))
    data = _order_post(order, services=[_row(service, price="3 000 000")])
    response = web.post(f"/admin/orders/order/{order.pk}/change/", data)
    assert response.status_code == 200
    assert "больше чем в 10 раз" in response.content.decode()
    service.refresh_from_db()
    assert service.price == Decimal("30000")
    data["confirm_warnings"] = "on"
    assert web.post(f"/admin/orders/order/{order.pk}/change/", data).status_code == 302
    service.refresh_from_db()
    assert service.price == Decimal("3000000")


def test_a_normal_edit_needs_no_confirmation(web):
    order = make_order()
    service = add(order, flight(at(1), price=Decimal("30000")))
    data = _order_post(order, services=[_row(service, price="45 000,00")])
    assert web.post(f"/admin/orders/order/{order.pk}/change/", data).status_code == 302


def test_future_foreign_service_takes_the_latest_bank_rate_as_an_estimate(web):
    from datetime import timedelta

    from apps.orders import services

    order = make_order()
    _usd_rate("91.11", on=timezone.localdate() - timedelta(days=2))  # a weekend: the last rate is older
    start = timezone.localtime() + timedelta(days=60)
    service = services.service_create(order=order, data={
        "type": "hotel", "start_dt": start, "end_dt": start + timedelta(days=7), "city": "Анталья",
        "price": Decimal("1000"), "currency": "USD", "details": {"hotel_name": "Rixos"},
    })
    assert service.rate == Decimal("91.11") and service.rate_is_estimate
    page = web.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Ориентировочный курс" in page
    services.service_update(service=service, data={"rate": Decimal("92.5")})
    service.refresh_from_db()
    assert service.rate == Decimal("92.5") and not service.rate_is_estimate


def test_past_service_without_a_rate_is_still_refused(web):
    from datetime import timedelta

    import pytest as _pytest

    from apps.core.errors import BusinessError
    from apps.orders import services

    order = make_order()
    start = timezone.localtime() - timedelta(days=30)
    with _pytest.raises(BusinessError) as error:
        services.service_create(order=order, data={
            "type": "hotel", "start_dt": start, "end_dt": start + timedelta(days=7), "city": "Анталья",
            "price": Decimal("1000"), "currency": "USD", "details": {"hotel_name": "Rixos"},
        })
    assert error.value.code == "rate_required"
