"""«Сегодня», reminders, the search box and the client card's history, as a manager uses them."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client as WebClient
from django.utils import timezone

from apps.accounts.models import Role
from apps.clients.selectors import client_labels
from apps.clients.services import contact_add
from apps.finance.services import payment_create
from apps.leads.services import lead_create_manual
from apps.orders.services import order_transition
from apps.orders.tests.factories import add, flight, make_client, make_order
from apps.workplace.models import Reminder

pytestmark = pytest.mark.django_db


def _web(user):
    client = WebClient()
    client.force_login(user)
    return client


def _section(page: str, key: str) -> str:
    return re.search(rf'id="today-{key}".*?</section>', page, re.S).group(0)


def test_today_shows_a_managers_own_work_and_not_others(operator, make_user):
    other = make_user(Role.OPERATOR)
    soon = timezone.now() + timedelta(days=2)
    mine = make_order(operator=operator, deadline=soon)
    theirs = make_order(operator=other, deadline=soon)
    add(mine, flight(timezone.localtime() + timedelta(days=3)))
    lead = lead_create_manual(data={"contact_name": "Анна Звонкова", "contact_phone": "+79161234567"}, actor=operator)
    unassigned = lead_create_manual(data={"contact_name": "Без Ответственного", "contact_phone": "+79161234568",
                                          "operator": None})
    Reminder.objects.create(owner=operator, due_at=timezone.now() - timedelta(hours=1), text="Позвонить Анне",
                            lead=lead)
    Reminder.objects.create(owner=operator, due_at=timezone.now() + timedelta(days=3), text="Не сегодня")
    page = _web(operator).get("/admin/").content.decode()
    assert "Сегодня," in page
    deadlines = _section(page, "deadlines")
    assert mine.number in deadlines and theirs.number not in deadlines
    assert mine.number in _section(page, "departures")
    assert mine.number in _section(page, "missing")  # no supplier, no PNR
    leads = _section(page, "leads")
    assert lead.number in leads
    assert unassigned.number in leads or unassigned.operator_id == operator.pk
    reminders = _section(page, "reminders")
    assert "Позвонить Анне" in reminders and "Не сегодня" not in reminders


def test_today_costs_the_same_queries_whatever_the_data(operator, django_assert_max_num_queries):
    web = _web(operator)
    web.get("/admin/")  # warm the session and the permission caches
    with django_assert_max_num_queries(14) as few:
        web.get("/admin/")
    for _ in range(5):
        order = make_order(operator=operator, deadline=timezone.now() + timedelta(days=1))
        add(order, flight(timezone.localtime() + timedelta(days=2)))
        lead = lead_create_manual(data={"contact_name": "Клиент", "contact_phone": "+7916123450" + str(_)},
                                  actor=operator)
        Reminder.objects.create(owner=operator, due_at=timezone.now(), text="Задача", lead=lead, order=order)
    with django_assert_max_num_queries(len(few.captured_queries)):
        web.get("/admin/")


def test_reminder_is_set_from_the_order_and_closed_from_today(operator):
    web = _web(operator)
    order = make_order(operator=operator)
    page = web.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert f"/admin/workplace/reminder/add/?order={order.pk}" in page
    due = timezone.localtime() + timedelta(minutes=5)
    response = web.post("/admin/workplace/reminder/add/", {
        "text": "Напомнить про визу", "due_at_0": due.strftime("%d.%m.%Y"), "due_at_1": due.strftime("%H:%M"),
        "owner": operator.pk, "lead": "", "client": "", "order": order.pk,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    reminder = Reminder.objects.get(text="Напомнить про визу")
    assert reminder.order == order and reminder.created_by == operator
    assert "Напомнить про визу" in _section(web.get("/admin/").content.decode(), "reminders")
    response = web.post(f"/admin/workplace/reminder/{reminder.pk}/close/", {"next": "/admin/"})
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.done_at is not None
    assert "Напомнить про визу" not in _section(web.get("/admin/").content.decode(), "reminders")


def test_reminder_without_text_is_refused(operator):
    response = _web(operator).post("/admin/workplace/reminder/add/", {
        "text": "  ", "due_at_0": "01.12.2026", "due_at_1": "10:00", "owner": operator.pk,
    })
    assert response.status_code == 200
    assert not Reminder.objects.exists()


def test_another_managers_reminder_cannot_be_closed(operator, make_user):
    other = make_user(Role.OPERATOR)
    reminder = Reminder.objects.create(owner=other, due_at=timezone.now(), text="Чужое")
    assert _web(operator).post(f"/admin/workplace/reminder/{reminder.pk}/close/").status_code == 404
    reminder.refresh_from_db()
    assert reminder.done_at is None


def test_search_box_is_on_every_page_and_finds_by_phone_number_and_names(operator):
    web = _web(operator)
    client = make_client(last_name="Новикова", first_name="Ольга")
    contact_add(client=client, kind="phone", value="+7 916 555-12-34")
    namesake = make_client(last_name="Новикова", first_name="Ольга")
    order = make_order(client=client)
    assert 'action="/admin/search/"' in web.get("/admin/orders/order/").content.decode()
    response = web.get("/admin/search/", {"q": "8 (916) 555 12 34"})
    assert response.status_code == 302 and response["Location"] == f"/admin/clients/client/{client.pk}/change/"
    number = order.number
    response = web.get("/admin/search/", {"q": f"{number[:4]}-{int(number[5:])}"})
    assert response["Location"] == f"/admin/orders/order/{order.pk}/change/"
    page = web.get("/admin/search/", {"q": "новикова ольга"}).content.decode()
    assert page.count("Новикова Ольга") == 2 and "***" in page  # namesakes told apart by the masked phone
    assert namesake.pk
    assert "Ничего не найдено" in web.get("/admin/search/", {"q": "Несуществующий"}).content.decode()


def test_client_labels_tell_namesakes_apart(operator):
    first = make_client(last_name="Иванов", first_name="Иван", birth_date=date(1985, 3, 1))
    second = make_client(last_name="Иванов", first_name="Иван", birth_date=date(1990, 7, 1))
    contact_add(client=first, kind="phone", value="+79161234567")
    labels = client_labels([first, second])
    assert labels[first.pk] == "Иванов Иван, 1985 г. р., +7 *** ***-45-67"
    assert labels[second.pk] == "Иванов Иван, 1990 г. р."


def test_client_card_tells_the_story(supervisor, django_assert_max_num_queries):
    client = make_client()
    order = make_order(client=client)
    add(order, flight(timezone.localtime() + timedelta(days=10)))
    order_transition(order=order, action="confirm")
    payment_create(order_id=order.pk, data={"amount": Decimal("1000"), "currency": "RUB",
                                            "date": timezone.localdate()}, actor=supervisor)
    trip = make_order(travellers=[client])
    lead = lead_create_manual(data={"contact_name": "Тест", "contact_phone": "+79160000001", "client": client})
    page = _web(supervisor).get(f"/admin/clients/client/{client.pk}/change/").content.decode()
    for text in (order.number, trip.number, lead.number, "1\u00a0000,00\u00a0₽", "Платежи", "Документы",
                 "Согласия на обработку ПДн", "турист"):
        assert text in page, text


def test_client_autocomplete_tells_namesakes_apart(operator, django_assert_max_num_queries):
    first = make_client(last_name="Петрова", first_name="Анна", birth_date=date(1985, 3, 1))
    make_client(last_name="Петрова", first_name="Анна", birth_date=date(1992, 5, 2))
    contact_add(client=first, kind="phone", value="+79161234567")
    web = _web(operator)
    params = {"term": "петрова", "app_label": "orders", "model_name": "order", "field_name": "client"}
    response = web.get("/admin/autocomplete/", params)
    assert response.status_code == 200, response.content[:500]
    texts = sorted(item["text"] for item in response.json()["results"])
    assert texts == ["Петрова Анна, 1985 г. р., +7 *** ***-45-67", "Петрова Анна, 1992 г. р."]


def test_every_client_picker_shows_the_chosen_client_with_birth_year_and_masked_phone(operator, supervisor):
    """The value already chosen (not only the dropdown) tells namesakes apart: order, its travellers
    and services, lead, reminder, payment and consent forms."""
    anna = make_client(last_name="Петрова", first_name="Анна", birth_date=date(1985, 3, 1))
    contact_add(client=anna, kind="phone", value="+79161234567")
    label = "Петрова Анна, 1985 г. р., +7 *** ***-45-67"
    order = make_order(client=anna, travellers=[anna], operator=operator)
    add(order, flight(timezone.localtime() + timedelta(days=30)), travellers=[anna])
    lead = lead_create_manual(data={"contact_name": "Анна", "contact_phone": "+79161234567", "client": anna},
                              actor=operator)
    reminder = Reminder.objects.create(owner=operator, due_at=timezone.now(), text="Позвонить", client=anna)
    pages = {
        f"/admin/orders/order/{order.pk}/change/": 3,  # client, order travellers, the service's travellers
        f"/admin/leads/lead/{lead.pk}/change/": 1,
        f"/admin/workplace/reminder/{reminder.pk}/change/": 1,
        f"/admin/finance/payment/add/?payer_client={anna.pk}": 1,
        f"/admin/clients/consent/add/?client={anna.pk}": 1,
    }
    for url, count in pages.items():
        page = _web(supervisor).get(url).content.decode()
        assert page.count(label) >= count, (url, page.count(label))


def test_client_card_and_order_page_cost_the_same_queries_whatever_the_data(operator,
                                                                            django_assert_max_num_queries):
    """The card with its history and the order page: a fixed number of statements, whether the client
    has one order or many and whatever else the database holds."""
    client = make_client(last_name="Историева", birth_date=date(1980, 1, 1))
    contact_add(client=client, kind="phone", value="+79160001122")
    order = make_order(client=client, travellers=[client], operator=operator)
    for day in (10, 14):
        add(order, flight(timezone.localtime() + timedelta(days=day)), travellers=[client])
    lead_create_manual(data={"contact_name": "Историева", "contact_phone": "+79160001122", "client": client},
                       actor=operator)
    web = _web(operator)
    card, page = f"/admin/clients/client/{client.pk}/change/", f"/admin/orders/order/{order.pk}/change/"
    web.get(card), web.get(page)  # warm the session and the permission caches
    with django_assert_max_num_queries(25) as few_card:
        assert web.get(card).status_code == 200
    with django_assert_max_num_queries(25) as few_page:
        assert web.get(page).status_code == 200
    for index in range(12):  # more history for this client, more of everything for others
        other = make_order(client=client, operator=operator)
        add(other, flight(timezone.localtime() + timedelta(days=30 + index)))
        lead_create_manual(data={"contact_name": f"Другой {index}", "contact_phone": f"+7916000{index:04d}"})
        make_order(travellers=[client])
    with django_assert_max_num_queries(len(few_card.captured_queries)):
        assert web.get(card).status_code == 200
    with django_assert_max_num_queries(len(few_page.captured_queries)):
        assert web.get(page).status_code == 200


def test_manager_pickers_list_managers_only(operator, make_user):
    accountant = make_user(Role.ACCOUNTANT, full_name="Бухгалтерова Анна")
    client = make_client(last_name="Выборова")
    web = _web(operator)
    for url in ("/admin/clients/client/add/", f"/admin/clients/client/{client.pk}/change/", "/admin/orders/order/add/",
                "/admin/leads/lead/add/", "/admin/workplace/reminder/add/"):
        page = web.get(url).content.decode()
        assert operator.full_name in page, url
        assert f'value="{accountant.pk}"' not in page, url
