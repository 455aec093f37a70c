from datetime import timedelta
from decimal import Decimal

import pytest

from apps.orders.models import Order, Service, Supplier
from apps.orders.tests.factories import add, at, flight, hotel, make_client, make_order, make_supplier

pytestmark = pytest.mark.django_db


def _iso(value):
    return value.isoformat()


# --- suppliers -------------------------------------------------------------------------------------


def test_supplier_crud_and_inn_check(operator_api, supervisor_api):
    bad = operator_api.post("/api/v1/suppliers/", {"name": "Пегас", "kind": "tour_operator", "inn": "7707083894"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"
    assert "inn" in bad.json()["fields"]
    created = operator_api.post("/api/v1/suppliers/", {"name": "Пегас", "kind": "tour_operator", "inn": "7707083893"})
    assert created.status_code == 201, created.content
    supplier_id = created.json()["id"]
    assert operator_api.patch(f"/api/v1/suppliers/{supplier_id}/", {"notes": "скидка 5%"}).json()["notes"]
    assert operator_api.get("/api/v1/suppliers/?search=пегас").json()["count"] == 1
    assert operator_api.delete(f"/api/v1/suppliers/{supplier_id}/").status_code == 403
    assert supervisor_api.delete(f"/api/v1/suppliers/{supplier_id}/").status_code == 204


def test_supplier_in_use_cannot_be_deleted(supervisor_api):
    supplier = make_supplier()
    add(make_order(), flight(at(1), supplier=supplier))
    response = supervisor_api.delete(f"/api/v1/suppliers/{supplier.pk}/")
    assert response.status_code == 409
    assert Supplier.objects.filter(pk=supplier.pk).exists()


# --- orders ----------------------------------------------------------------------------------------


def test_create_order_and_read_it(operator_api, operator):
    client, friend = make_client(), make_client()
    response = operator_api.post(
        "/api/v1/orders/",
        {"client": client.pk, "travellers": [client.pk, friend.pk], "currency": "EUR", "notes": "медовый месяц"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("20") and body["status"] == "draft"
    assert body["operator"]["id"] == operator.pk
    assert {t["id"] for t in body["travellers"]} == {client.pk, friend.pk}
    assert body["allowed_actions"] == ["confirm", "cancel"]


def test_order_bad_input_is_400(operator_api):
    response = operator_api.post("/api/v1/orders/", {"client": 999999, "currency": "XXX"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"client", "currency"}


def test_accountant_reads_but_cannot_write(accountant_api):
    order = make_order()
    assert accountant_api.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert accountant_api.post("/api/v1/orders/", {"client": order.client_id}).status_code == 403
    assert accountant_api.post(f"/api/v1/orders/{order.pk}/cancel/").status_code == 403
    services_url = f"/api/v1/orders/{order.pk}/services/"
    assert accountant_api.post(services_url, {}).status_code == 403


def test_anonymous_is_401(api_client):
    assert api_client.get("/api/v1/orders/").status_code == 401


def test_filters_and_search(operator_api):
    ivanov = make_client(last_name="Иванов")
    first = make_order(client=ivanov, deadline=at(10))
    add(first, flight(at(5)))
    second = make_order()
    add(second, flight(at(20)))
    url = "/api/v1/orders/"
    assert [o["id"] for o in operator_api.get(url, {"search": "иванов"}).json()["results"]] == [first.pk]
    assert [o["id"] for o in operator_api.get(url, {"search": second.number}).json()["results"]] == [second.pk]
    assert [o["id"] for o in operator_api.get(url, {"client": ivanov.pk}).json()["results"]] == [first.pk]
    got = operator_api.get(url, {"services_from": "2026-12-15", "services_to": "2026-12-31"}).json()["results"]
    assert [o["id"] for o in got] == [second.pk]
    got = operator_api.get(url, {"deadline_from": "2026-12-01", "deadline_to": "2026-12-10"}).json()["results"]
    assert [o["id"] for o in got] == [first.pk]
    assert operator_api.get(url, {"status": "draft"}).json()["count"] == 2
    assert operator_api.get(url, {"status": "nonsense"}).status_code == 400
    assert operator_api.get(url, {"deadline_from": "вчера"}).status_code == 400


def test_transitions_over_api(operator_api):
    order = make_order()
    response = operator_api.post(f"/api/v1/orders/{order.pk}/confirm/")
    assert response.status_code == 409
    assert response.json()["code"] == "order_without_services"
    add(order, flight(at(1)))
    assert operator_api.post(f"/api/v1/orders/{order.pk}/confirm/").json()["status"] == "confirmed"
    response = operator_api.post(f"/api/v1/orders/{order.pk}/complete/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert "Подтверждён" in response.json()["detail"]
    assert response.json()["allowed_actions"] == ["mark_paid", "cancel", "reopen"]
    response = operator_api.post(f"/api/v1/orders/{order.pk}/mark-paid/")
    assert response.status_code == 409 and response.json()["code"] == "order_has_debt"  # 30 000 still owed
    response = operator_api.post(f"/api/v1/orders/{order.pk}/mark-paid/", {"override_reason": "наличные"})
    assert response.status_code == 409 and "только руководитель" in response.json()["detail"]
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_supervisor_marks_paid_with_debt_and_the_reason_is_on_the_timeline(supervisor_api):
    order = make_order()
    add(order, flight(at(1)))
    supervisor_api.post(f"/api/v1/orders/{order.pk}/confirm/")
    response = supervisor_api.post(f"/api/v1/orders/{order.pk}/mark-paid/", {"override_reason": "  "})
    assert response.status_code == 409 and response.json()["fields"]["override_reason"]
    response = supervisor_api.post(f"/api/v1/orders/{order.pk}/mark-paid/",
                                   {"override_reason": "Оплата наличными в офисе"})
    assert response.status_code == 200 and response.json()["status"] == "paid"
    event = order.events.get(kind="paid_override")
    assert "Оплата наличными в офисе" in event.title and "30000.00 RUB" in event.title
    assert supervisor_api.post(f"/api/v1/orders/{order.pk}/complete/").json()["status"] == "completed"


def test_removing_a_traveller_who_has_services_is_refused(operator_api):
    client, friend = make_client(), make_client()
    order = make_order(client=client, travellers=[client, friend])
    service = add(order, flight(at(1)), travellers=[friend])
    response = operator_api.patch(f"/api/v1/orders/{order.pk}/", {"travellers": [client.pk]})
    assert response.status_code == 400
    assert response.json()["code"] == "traveller_in_services"
    assert response.json()["service_ids"] == [service.pk]


def test_only_a_draft_order_can_be_deleted(supervisor_api):
    order = make_order()
    add(order, flight(at(1)))
    supervisor_api.post(f"/api/v1/orders/{order.pk}/confirm/")
    assert supervisor_api.delete(f"/api/v1/orders/{order.pk}/").status_code == 409
    draft = make_order()
    assert supervisor_api.delete(f"/api/v1/orders/{draft.pk}/").status_code == 204


# --- services --------------------------------------------------------------------------------------


def _payload(**extra):
    data = {
        "type": "flight",
        "start_dt": "2026-12-01T10:00:00",
        "end_dt": "2026-12-01T13:30:00",
        "timezone": "Europe/Moscow",
        "origin": "SVO",
        "destination": "AYT",
        "price": "30000.00",
        "details": {"carrier": "SU", "flight_number": "2136", "pnr": "ABC123", "cabin_class": "economy"},
    }
    data.update(extra)
    return data


def test_service_create_shows_local_times_and_updates_totals(operator_api):
    order = make_order()
    url = f"/api/v1/orders/{order.pk}/services/"
    response = operator_api.post(
        url,
        _payload(
            type="hotel",
            timezone="Europe/Istanbul",
            start_dt="2026-12-01T14:00:00",
            end_dt="2026-12-08T12:00:00",
            origin="",
            destination="",
            city="Анталья",
            details={"hotel_name": "Rixos", "room_type": "DBL", "meals": "AI", "confirmation_number": "77"},
            commission_percent="10",
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["start_dt"] == "2026-12-01T14:00:00+03:00"
    assert body["commission"] == "3000.00"
    assert body["travellers"][0]["id"] == order.client_id
    detail = operator_api.get(f"/api/v1/orders/{order.pk}/").json()
    assert detail["total_amount"] == "30000.00"
    assert detail["services"][0]["title"].startswith("Rixos")


def test_service_details_validated_per_type(operator_api):
    order = make_order()
    url = f"/api/v1/orders/{order.pk}/services/"
    response = operator_api.post(url, _payload(details={"carrier": "SU", "hotel_name": "x"}))
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "details.flight_number" in fields and "details.hotel_name" in fields
    response = operator_api.post(url, _payload(origin=""))
    assert response.status_code == 400 and "origin" in response.json()["fields"]
    response = operator_api.post(url, _payload(timezone="Mars/Olympus"))
    assert response.status_code == 400 and "timezone" in response.json()["fields"]
    response = operator_api.post(url, _payload(details={"carrier": "SU", "flight_number": "1", "cabin_class": "x"}))
    assert response.status_code == 400


def test_conflicting_service_is_400_with_service_ids(operator_api):
    order = make_order()
    first = add(order, flight(at(1, 10)))
    url = f"/api/v1/orders/{order.pk}/services/"
    response = operator_api.post(url, _payload(start_dt="2026-12-01T11:00:00", end_dt="2026-12-01T15:00:00"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "transport_overlap"
    assert body["service_ids"] == [first.pk]
    assert "одновременно" in body["detail"]
    response = operator_api.post(url, _payload(start_dt="2026-12-05T11:00:00", end_dt="2026-12-05T10:00:00"))
    assert response.json()["code"] == "end_before_start"
    response = operator_api.post(url, _payload(start_dt="2026-12-05T11:00", end_dt="2026-12-05T12:00", commission="-5"))
    assert response.json()["code"] == "negative_commission"


def test_foreign_currency_rate_required_then_accepted(operator_api):
    order = make_order()
    url = f"/api/v1/orders/{order.pk}/services/"
    response = operator_api.post(url, _payload(currency="USD"))
    assert response.status_code == 400
    assert response.json()["code"] == "rate_required"
    response = operator_api.post(url, _payload(currency="USD", rate="90.5"))
    assert response.status_code == 201
    assert response.json()["price_in_order_currency"] == "2715000.00"


def test_service_update_and_delete_recalculate(operator_api):
    order = make_order()
    service = add(order, flight(at(1)))
    url = f"/api/v1/orders/{order.pk}/services/{service.pk}/"
    assert operator_api.patch(url, {"price": "100.00"}).status_code == 200
    assert Order.objects.get(pk=order.pk).total_amount == Decimal("100.00")
    assert operator_api.delete(url).status_code == 204
    assert Order.objects.get(pk=order.pk).total_amount == Decimal("0.00")
    assert operator_api.get(f"/api/v1/orders/{order.pk}/services/999999/").status_code == 404
    assert operator_api.get("/api/v1/orders/999999/services/").status_code == 404


def test_check_endpoint_and_stored_warnings(operator_api):
    order = make_order(deadline=at(1, month=1))
    add(order, hotel(at(1, 14)))
    add(order, hotel(at(3, 14), details={"hotel_name": "Другой отель"}))
    body = operator_api.get(f"/api/v1/orders/{order.pk}/check/").json()
    assert body["errors"] == []
    codes = {w["code"] for w in body["warnings"]}
    assert {"hotel_overlap", "deadline_passed"} <= codes
    stored = operator_api.get(f"/api/v1/orders/{order.pk}/").json()["warnings"]
    assert {"code", "message", "service_ids"} == set(stored[0])


def test_timeline_merges_services_and_events(operator_api):
    order = make_order()
    add(order, hotel(at(2, 14)))
    add(order, flight(at(1, 10)))
    for url in (f"/api/v1/orders/{order.pk}/timeline", f"/api/v1/orders/{order.pk}/timeline/"):
        response = operator_api.get(url)
        assert response.status_code == 200, url
    items = response.json()["items"]
    kinds = [i["kind"] for i in items]
    assert kinds.count("service") == 2 and "event" in kinds
    ats = [i["at"] for i in items]
    from datetime import datetime

    assert [datetime.fromisoformat(a) for a in ats] == sorted(datetime.fromisoformat(a) for a in ats)
    hotel_item = next(i for i in items if i["type"] == "hotel")
    assert hotel_item["at"].endswith("+03:00") and hotel_item["city"] == "Анталья"
    assert hotel_item["travellers"][0]["id"] == order.client_id


# --- query budgets ---------------------------------------------------------------------------------


def _orders_with_services(number: int, services_each: int = 1):
    orders = []
    for index in range(number):
        client = make_client()
        order = make_order(client=client, travellers=[client, make_client()])
        for day in range(services_each):
            add(order, flight(at(1 + day % 28, 1 + index % 20) + timedelta(days=day // 28 * 30)))
        orders.append(order)
    return orders


def test_order_list_query_budget(operator_api, django_assert_max_num_queries):
    _orders_with_services(12)
    with django_assert_max_num_queries(8):
        small = operator_api.get("/api/v1/orders/?page_size=5")
    with django_assert_max_num_queries(8):
        big = operator_api.get("/api/v1/orders/?page_size=50")
    assert len(small.json()["results"]) == 5 and len(big.json()["results"]) == 12


def test_order_detail_and_timeline_query_budget(operator_api, django_assert_max_num_queries):
    (order,) = _orders_with_services(1, services_each=20)
    with django_assert_max_num_queries(8):
        detail = operator_api.get(f"/api/v1/orders/{order.pk}/")
    assert len(detail.json()["services"]) == 20
    with django_assert_max_num_queries(6):
        timeline = operator_api.get(f"/api/v1/orders/{order.pk}/timeline/")
    assert len([i for i in timeline.json()["items"] if i["kind"] == "service"]) == 20


def test_changes_are_audited_with_the_api_user(operator_api, operator):
    from auditlog.models import LogEntry

    order = make_order()
    response = operator_api.post(
        f"/api/v1/orders/{order.pk}/services/", _payload(start_dt="2026-12-03T10:00:00", end_dt="2026-12-03T12:00:00")
    )
    assert response.status_code == 201
    entry = LogEntry.objects.get_for_object(Service.objects.get(pk=response.json()["id"])).first()
    assert entry is not None and entry.actor_id == operator.pk


def test_service_write_responses_match_a_fresh_read(operator_api):
    order = make_order()
    supplier = make_supplier()
    url = f"/api/v1/orders/{order.pk}/services/"
    created = operator_api.post(
        url, _payload(supplier=supplier.pk, currency="EUR", rate="100.5", commission_percent="10")
    ).json()
    assert created == operator_api.get(f"{url}{created['id']}/").json()
    changed = operator_api.patch(f"{url}{created['id']}/", {"price": "10.00", "travellers": []}).json()
    assert changed == operator_api.get(f"{url}{created['id']}/").json()


# --- adding a service: the hot write of issue 5 -------------------------------------------------------


def _local(day: int, travellers: list[int] | None = None) -> dict:
    start = at(1) + timedelta(days=day)
    data = {
        "type": "local",
        "start_dt": start.isoformat(),
        "end_dt": (start + timedelta(hours=3)).isoformat(),
        "city": "Анталья",
        "price": "2500.00",
        "commission_percent": "10",
        "details": {"title": "Экскурсия", "kind": "excursion"},
    }
    if travellers is not None:
        data["travellers"] = travellers
    return data


@pytest.mark.parametrize("given_travellers", [True, False], ids=["travellers-given", "travellers-of-the-order"])
def test_adding_a_service_to_an_order_with_30_services_runs_9_statements(operator_api, given_travellers):
    """Lock, one read of all the checks' input, the service, its links, one audit entry, the
    order's totals, the event, and the savepoint pair of the service's transaction: the same nine
    statements however many services the order has. Changing and deleting one stay in budget too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, friend = make_client(), make_client()
    order = make_order(client=client, travellers=[client, friend])
    for day in range(30):
        start = at(1) + timedelta(days=day)
        data = {**_local(day), "start_dt": start, "end_dt": start + timedelta(hours=3), "price": Decimal(2500)}
        add(order, data)
    url = f"/api/v1/orders/{order.pk}/services/"
    assert operator_api.get(url).status_code == 200  # the user's permissions are read once and kept
    with CaptureQueriesContext(connection) as queries:
        response = operator_api.post(url, _local(40, [friend.pk, client.pk] if given_travellers else None))
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) <= 9, "\n".join(statements)
    assert not [sql for sql in statements if 'FROM "clients_client"' in sql]  # no names read for the audit
    body = response.json()
    assert sorted(t["id"] for t in body["travellers"]) == sorted([client.pk, friend.pk])
    assert body == operator_api.get(f"{url}{body['id']}/").json()
    with CaptureQueriesContext(connection) as changing:
        changed = operator_api.patch(f"{url}{body['id']}/", {"price": "2600.00", "travellers": [client.pk]})
    assert changed.status_code == 200 and [t["id"] for t in changed.json()["travellers"]] == [client.pk]
    assert len(changing.captured_queries) <= 12, "\n".join(query["sql"] for query in changing.captured_queries)
    with CaptureQueriesContext(connection) as deleting:
        assert operator_api.delete(f"{url}{body['id']}/").status_code == 204
    assert len(deleting.captured_queries) <= 11, "\n".join(query["sql"] for query in deleting.captured_queries)
    assert operator_api.post(url, _local(40)).status_code == 201
    order.refresh_from_db()
    assert order.total_amount == Decimal("2500.00") * 31 and order.commission == Decimal("250.00") * 31
    assert (order.trip_start, order.trip_end) == (at(1), at(1, 13) + timedelta(days=40))


def test_service_travellers_unknown_or_not_on_the_order(operator_api):
    order = make_order()
    stranger = make_client()
    url = f"/api/v1/orders/{order.pk}/services/"
    unknown = operator_api.post(url, _payload(travellers=[order.client_id, 999999]))
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "validation_error"
    assert unknown.json()["fields"] == {"travellers": ["Клиенты не найдены: 999999."]}
    outsider = operator_api.post(url, _payload(travellers=[stranger.pk]))
    assert outsider.status_code == 400 and outsider.json()["code"] == "traveller_not_on_order"
    assert not Service.objects.filter(order=order).exists()
    assert operator_api.post("/api/v1/orders/999999/services/", _payload()).status_code == 404
    # A missing order is a 404 even when the body is wrong too; a wrong body for a real order is a 400.
    assert operator_api.post("/api/v1/orders/999999/services/", {"type": "yacht"}, format="json").status_code == 404
    assert operator_api.post(url, {"type": "yacht"}, format="json").status_code == 400


def test_travellers_are_audited_by_client_id_never_by_name(operator_api):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    client = make_client(last_name="Неназываемый")
    friend = make_client(last_name="Безымянный")
    created = operator_api.post("/api/v1/orders/", {"client": client.pk, "travellers": [client.pk, friend.pk]}).json()
    url = f"/api/v1/orders/{created['id']}/services/"
    service_id = operator_api.post(url, _payload(travellers=[client.pk, friend.pk])).json()["id"]
    assert operator_api.patch(f"{url}{service_id}/", {"travellers": [friend.pk]}).status_code == 200

    def travellers_entries(model, pk):
        entries = LogEntry.objects.get_for_object(model(pk=pk)).order_by("id")
        return [(entry.action, entry.changes.get("travellers")) for entry in entries if "travellers" in entry.changes]

    ids = sorted([client.pk, friend.pk])
    both = {"type": "m2m", "operation": "add", "objects": [f"клиент #{pk}" for pk in ids]}
    assert travellers_entries(Order, created["id"]) == [(LogEntry.Action.CREATE, both)]
    assert travellers_entries(Service, service_id) == [
        (LogEntry.Action.CREATE, both),  # one entry for the new service: its fields and its travellers
        (LogEntry.Action.UPDATE, {"type": "m2m", "operation": "delete", "objects": [f"клиент #{client.pk}"]}),
    ]
    created_entry = LogEntry.objects.get_for_object(Service(pk=service_id)).get(action=LogEntry.Action.CREATE)
    assert created_entry.changes["type"] == ["None", "flight"]
    assert operator_api.patch(f"{url}{service_id}/", {"price": "31000.00"}).status_code == 200
    changed_entry = LogEntry.objects.get_for_object(Service(pk=service_id)).order_by("id").last()
    assert changed_entry.action == LogEntry.Action.UPDATE
    assert changed_entry.changes == {
        "price": ["30000.00", "31000.00"],
        "price_in_order_currency": ["30000.00", "31000.00"],
        "cost_in_order_currency": ["30000.00", "31000.00"],  # an agent sale without commission: cost = price
    }
    orders_entries = LogEntry.objects.filter(content_type__in=ContentType.objects.filter(app_label="orders"))
    stored = " ".join(f"{entry.object_repr} {entry.changes} {entry.changes_text}" for entry in orders_entries)
    assert "Неназываемый" not in stored and "Безымянный" not in stored


def test_service_end_timezone_is_read_and_written(operator_api):
    """Transport has an arrival zone: `end_dt` is read and shown in `end_timezone`."""
    order = make_order()
    url = f"/api/v1/orders/{order.pk}/services/"
    response = operator_api.post(url, _payload(destination="XXX", end_timezone="Asia/Dubai",
                                               end_dt="2026-12-01T15:30:00"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["timezone"], body["end_timezone"]) == ("Europe/Moscow", "Asia/Dubai")
    assert body["start_dt"] == "2026-12-01T10:00:00+03:00"
    assert body["end_dt"] == "2026-12-01T15:30:00+04:00"  # typed in Dubai's time, shown in it
    service = Service.objects.get(pk=body["id"])
    assert service.end_dt.isoformat() == "2026-12-01T11:30:00+00:00"
    # Left out: a flight's arrival zone from its destination's IATA code.
    body = operator_api.post(url, _payload(start_dt="2026-12-05T10:00:00", end_dt="2026-12-05T16:00:00",
                                           destination="DXB")).json()
    assert (body["end_timezone"], body["end_dt"]) == ("Asia/Dubai", "2026-12-05T16:00:00+04:00")
    # A hotel keeps one zone; an unknown zone is a 400 on its field.
    body = operator_api.post(url, _payload(type="hotel", origin="", destination="", city="Дубай",
                                           start_dt="2026-12-10T14:00:00", end_dt="2026-12-12T12:00:00",
                                           end_timezone="Asia/Dubai", details={"hotel_name": "Atlantis"})).json()
    assert body["end_timezone"] == "" and body["end_dt"].endswith("+03:00")
    response = operator_api.post(url, _payload(end_timezone="Mars/Olympus"))
    assert response.status_code == 400 and "end_timezone" in response.json()["fields"]
    patched = operator_api.patch(f"{url}{service.pk}/", {"end_timezone": "Europe/Istanbul"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["end_timezone"] == "Europe/Istanbul"
