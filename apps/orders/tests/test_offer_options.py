"""Offer options (issue 18 point 5): a service may be optional or an alternative of another one of
the same order; the offer's validity is a field of the order of its own."""

from datetime import date, timedelta

import pytest

from apps.orders.models import Order, Service
from apps.orders.tests.factories import at, hotel, make_order

pytestmark = pytest.mark.django_db


def _service_url(order):
    return f"/api/v1/orders/{order.pk}/services/"


def _hotel(**extra) -> dict:
    data = hotel(at(10))
    return {**data, "start_dt": data["start_dt"].isoformat(), "end_dt": data["end_dt"].isoformat(),
            "price": str(data["price"]), **extra}


def test_alternative_and_optional_through_the_api(operator_api):
    order = make_order()
    main = operator_api.post(_service_url(order), _hotel(), format="json").json()
    alternative = operator_api.post(
        _service_url(order), _hotel(offer_option="alternative", alternative_of=main["id"], price="65000.00"),
        format="json")
    assert alternative.status_code == 201, alternative.content
    assert (alternative.json()["offer_option"], alternative.json()["alternative_of"]) == ("alternative", main["id"])
    optional = operator_api.post(_service_url(order), _hotel(offer_option="optional", alternative_of=main["id"]),
                                 format="json").json()
    assert (optional["offer_option"], optional["alternative_of"]) == ("optional", None)  # only alternatives name one
    # Deleting the main service leaves the alternative without a target (the database's SET NULL).
    assert operator_api.delete(f"{_service_url(order)}{main['id']}/").status_code == 204
    assert Service.objects.get(pk=alternative.json()["id"]).alternative_of_id is None


@pytest.mark.parametrize("case", ["missing", "other_order", "itself", "chain", "bad_choice"])
def test_bad_alternatives_are_400(operator_api, case):
    order, other = make_order(), make_order()
    main = operator_api.post(_service_url(order), _hotel(), format="json").json()
    foreign = operator_api.post(_service_url(other), _hotel(), format="json").json()
    alt = operator_api.post(_service_url(order), _hotel(offer_option="alternative", alternative_of=main["id"]),
                            format="json").json()
    before = Service.objects.count()
    payload = {
        "missing": _hotel(offer_option="alternative"),
        "other_order": _hotel(offer_option="alternative", alternative_of=foreign["id"]),
        "itself": None,
        "chain": _hotel(offer_option="alternative", alternative_of=alt["id"]),
        "bad_choice": _hotel(offer_option="maybe"),
    }[case]
    if case == "itself":
        response = operator_api.patch(f"{_service_url(order)}{main['id']}/",
                                      {"offer_option": "alternative", "alternative_of": main["id"]}, format="json")
    else:
        response = operator_api.post(_service_url(order), payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] and ("alternative_of" in body["fields"] or "offer_option" in body["fields"])
    assert Service.objects.count() == before
    assert Service.objects.get(pk=main["id"]).offer_option == ""


def test_offer_valid_until_is_its_own_field(operator_api):
    order = make_order(deadline=at(1) + timedelta(days=3))
    response = operator_api.patch(f"/api/v1/orders/{order.pk}/", {"offer_valid_until": "2026-12-20"}, format="json")
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert order.offer_valid_until == date(2026, 12, 20) and order.deadline == at(1) + timedelta(days=3)
    assert operator_api.get(f"/api/v1/orders/{order.pk}/").json()["offer_valid_until"] == "2026-12-20"
    assert Order.objects.filter(pk=order.pk, offer_valid_until=date(2026, 12, 20)).exists()
