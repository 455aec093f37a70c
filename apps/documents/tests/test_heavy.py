"""PDF generation counts against HEAVY_REQUEST_SLOTS (apps.core.heavy): with every slot taken by
other processes a new document is refused at once — 503 server_busy in the API, a 503 page with
the same Russian text in the admin — and nothing is written; a free slot is given back."""

import pytest

from apps.core.heavy import acquire_slot, release_slot
from apps.documents.models import Document

pytestmark = pytest.mark.django_db


def test_api_generation_answers_503_while_every_slot_is_taken(order, operator_api, other_process_holding):
    other_process_holding(0, 1)
    response = operator_api.post(f"/api/v1/orders/{order.pk}/documents/", {"type": "invoice"}, format="json")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "server_busy" and "Повторите через минуту" in body["detail"]
    assert response["Retry-After"] == "30"
    assert not Document.objects.filter(order=order).exists()
    # Listing the order's documents is quick work: not limited.
    assert operator_api.get(f"/api/v1/orders/{order.pk}/documents/").status_code == 200


def test_api_generation_takes_a_free_slot_and_gives_it_back(order, operator_api, other_process_holding):
    other_process_holding(0)
    for _ in range(2):  # more documents than free slots, one after another
        assert operator_api.post(f"/api/v1/orders/{order.pk}/documents/", {"type": "invoice"},
                                 format="json").status_code == 201
    assert acquire_slot() == 1  # not leaked
    release_slot(1)


def test_admin_generation_shows_503_while_every_slot_is_taken(order, operator, admin_client_as,
                                                              other_process_holding):
    other_process_holding(0, 1)
    response = admin_client_as(operator).post("/admin/documents/document/generate/",
                                              {"order": order.pk, "type": "invoice"})
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "Повторите через минуту" in response.content.decode()
    assert not Document.objects.filter(order=order).exists()
