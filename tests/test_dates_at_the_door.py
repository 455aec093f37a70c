"""Inputs outside the domain are refused at the door: an absurd year is a 400, not a stored date
that comes back with a local-mean-time offset (issue 13, point 6)."""

import pytest

from apps.orders.tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_an_order_deadline_in_year_0048_is_refused(operator_api):
    order = make_order()
    response = operator_api.patch(f"/api/v1/orders/{order.pk}/", {"deadline": "0048-05-01T10:00:00"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "deadline" in body["fields"]
    assert "Год" in body["fields"]["deadline"][0]
    order.refresh_from_db()
    assert order.deadline is None or order.deadline.year >= 1900
    ok = operator_api.patch(f"/api/v1/orders/{order.pk}/", {"deadline": "2026-12-20T10:00:00+03:00"}, format="json")
    assert ok.status_code == 200 and ok.json()["deadline"].startswith("2026-12-20T10:00:00")


def test_a_service_in_year_20260_or_1800_is_refused(operator_api):
    order = make_order()
    base = {"type": "excursion", "city": "Москва", "price": "1000.00", "details": {"title": "Кремль"}}
    for start in ("1800-01-01T10:00:00", "2301-01-01T10:00:00"):
        body = {**base, "start_dt": start, "end_dt": "2026-12-20T12:00:00"}
        response = operator_api.post(f"/api/v1/orders/{order.pk}/services/", body, format="json")
        assert response.status_code == 400, response.content
        assert "start_dt" in response.json()["fields"]


def test_a_birth_date_before_1900_is_refused(operator_api):
    response = operator_api.post("/api/v1/clients/", {"last_name": "Старов", "first_name": "Иван",
                                                      "birth_date": "0048-01-01"}, format="json")
    assert response.status_code == 400 and "birth_date" in response.json()["fields"]
