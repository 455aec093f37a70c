import pytest

from apps.clients.models import Client
from apps.core.errors import ConflictError
from apps.leads.models import Lead, LeadStatus
from apps.leads.services import lead_create_manual, lead_ingest, lead_mark_converted, lead_reject
from apps.orders.models import Order
from apps.orders.services import order_create_from_lead
from apps.orders.tests.factories import make_client

pytestmark = pytest.mark.django_db


def _lead(**data):
    data.setdefault("contact_name", "Анна Смирнова")
    data.setdefault("contact_phone", "+7 916 123-45-67")
    return lead_create_manual(data=data)


def test_convert_creates_the_client_and_a_draft_order(operator_api, operator):
    lead = _lead()
    response = operator_api.post(f"/api/v1/leads/{lead.pk}/convert/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    client = Client.objects.get(pk=body["client"]["id"])
    assert (client.last_name, client.first_name) == ("Смирнова", "Анна")
    assert [t["id"] for t in body["travellers"]] == [client.pk]
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert lead.client_id == client.pk
    if hasattr(Lead, "order"):
        assert lead.order_id == body["id"]
    order = Order.objects.get(pk=body["id"])
    assert order.events.filter(kind="lead_converted").exists()


def test_convert_reuses_the_existing_client_by_dedup(operator):
    from apps.clients.services import client_create

    existing = client_create(data={"last_name": "Смирнова", "first_name": "Анна", "phones": ["+79161234567"]})
    lead = _lead()
    order = order_create_from_lead(lead=lead, actor=operator)
    assert order.client_id == existing.pk
    assert Client.objects.count() == 1


def test_convert_twice_is_409_and_rejected_lead_is_409(operator_api, operator):
    lead = _lead()
    assert operator_api.post(f"/api/v1/leads/{lead.pk}/convert/").status_code == 201
    again = operator_api.post(f"/api/v1/leads/{lead.pk}/convert/")
    assert again.status_code == 409
    assert again.json()["code"] == "lead_already_converted"
    assert Order.objects.count() == 1

    rejected = lead_reject(lead=_lead(contact_phone="+79160000001"), reason="спам")
    response = operator_api.post(f"/api/v1/leads/{rejected.pk}/convert/")
    assert response.status_code == 409
    assert response.json()["code"] == "lead_rejected"


def test_convert_with_a_chosen_client_and_bad_input(operator_api):
    lead = _lead()
    chosen = make_client()
    assert operator_api.post(f"/api/v1/leads/{lead.pk}/convert/", {"client": 10**9}).status_code == 400
    response = operator_api.post(f"/api/v1/leads/{lead.pk}/convert/", {"client": chosen.pk})
    assert response.json()["client"]["id"] == chosen.pk
    assert operator_api.post("/api/v1/leads/999999/convert/").status_code == 404


def test_convert_needs_rights(accountant_api):
    lead = _lead()
    assert accountant_api.post(f"/api/v1/leads/{lead.pk}/convert/").status_code == 403


def test_mark_converted_links_the_client_and_closes_the_lead(operator):
    client = make_client()
    lead = lead_ingest(channel="web", external_id="1", sender={"name": "Без телефона"}).lead
    order = Order.objects.create(number="2026-T00001", client=client)
    lead = lead_mark_converted(lead=lead, order=order, actor=operator)
    assert lead.status == LeadStatus.CONVERTED and lead.client_id == client.pk and lead.closed_at
    assert lead.order == order and list(order.leads.all()) == [lead]
    assert lead_mark_converted(lead=lead, order=order).status == LeadStatus.CONVERTED  # idempotent
    with pytest.raises(ConflictError):
        lead_reject(lead=lead, reason="поздно")
