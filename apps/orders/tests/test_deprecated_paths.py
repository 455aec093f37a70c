"""Old spellings of order paths answer for one more release (issue 13, point 6): the same view, a
`Deprecation: true` header, and not in the OpenAPI schema (docs/api.md «Устаревшие пути»)."""

import pytest

from apps.orders.tests.factories import add, at, flight, make_order

pytestmark = pytest.mark.django_db


def test_mark_paid_answers_under_the_new_and_the_old_name(supervisor_api):
    for path in ("mark-paid", "mark_paid"):
        order = make_order()
        add(order, flight(at(1)))
        supervisor_api.post(f"/api/v1/orders/{order.pk}/confirm/")
        response = supervisor_api.post(f"/api/v1/orders/{order.pk}/{path}/", {"override_reason": "Наличные в офисе"})
        assert response.status_code == 200, (path, response.content)
        assert response.json()["status"] == "paid"
        assert ("Deprecation" in response) is (path == "mark_paid")


def test_old_name_keeps_the_permission_check(accountant_api):
    order = make_order()
    add(order, flight(at(1)))
    assert accountant_api.post(f"/api/v1/orders/{order.pk}/mark_paid/").status_code == 403


def test_timeline_with_and_without_the_trailing_slash(operator_api):
    order = make_order()
    add(order, flight(at(1)))
    new = operator_api.get(f"/api/v1/orders/{order.pk}/timeline/")
    old = operator_api.get(f"/api/v1/orders/{order.pk}/timeline")
    assert new.status_code == old.status_code == 200
    assert new.json() == old.json()
    assert "Deprecation" not in new and old["Deprecation"] == "true"


def test_old_spellings_are_not_in_the_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert "/api/v1/orders/{id}/mark-paid/" in paths and "/api/v1/orders/{id}/timeline/" in paths
    assert "/api/v1/orders/{id}/mark_paid/" not in paths and "/api/v1/orders/{id}/timeline" not in paths
