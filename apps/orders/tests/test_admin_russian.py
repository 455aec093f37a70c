"""The admin speaks correct Russian: titles and counts in the right case, neutral save messages,
Russian timeline kinds and error pages, managers only in «ответственный», a real «Открыть сайт»."""

import re

import pytest
from django.test import Client as WebClient

from apps.core import wordforms
from apps.orders.tests.factories import add, at, flight, make_client, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(supervisor):
    client = WebClient()
    client.force_login(supervisor)
    return client


def _h1(response) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


@pytest.mark.parametrize(
    ("count", "phrase"),
    [(1, "1 клиент"), (2, "2 клиента"), (5, "5 клиентов"), (11, "11 клиентов"), (21, "21 клиент"),
     (22, "22 клиента"), (38, "38 клиентов"), (112, "112 клиентов")],
)
def test_counts_agree_with_the_number(count, phrase):
    assert wordforms.count_phrase(count, "клиент", "клиенты") == phrase


def test_titles_are_in_the_accusative(web):
    order = make_order()
    make_client()
    assert _h1(web.get("/admin/clients/client/add/")) == "Добавить клиента"
    assert _h1(web.get(f"/admin/orders/order/{order.pk}/change/")) == "Изменить заказ"
    assert _h1(web.get("/admin/orders/supplier/add/")) == "Добавить поставщика"
    listing = web.get("/admin/clients/client/")
    assert _h1(listing) == "Клиенты"
    page = listing.content.decode()
    assert "Добавить клиента" in page
    assert re.search(r"\b2 клиента\b", page), re.search(r'class="paginator">(.*?)</p>', page, re.S).group(1)


def test_lead_pages_get_the_same_titles(web):
    from apps.leads.services import lead_create_manual

    lead = lead_create_manual(data={"contact_name": "Анна", "contact_phone": "+79161234567", "text": "Турция"})
    assert _h1(web.get(f"/admin/leads/lead/{lead.pk}/change/")) == "Изменить заявку"
    assert _h1(web.get("/admin/leads/lead/")) == "Заявки"


def test_save_message_has_no_gender_to_get_wrong(web):
    response = web.post(
        "/admin/orders/supplier/add/",
        {"name": "Пегас", "kind": "tour_operator", "inn": "", "contacts": "", "notes": ""},
        follow=True,
    )
    text = re.sub(r"<[^>]+>", "", response.content.decode())
    assert "Сохранено: поставщик «Пегас»." in text


def test_timeline_kinds_are_russian(web):
    order = make_order()
    add(order, flight(at(1)))
    page = web.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Услуга добавлена" in page and "service_added" not in page


def test_manager_pickers_list_managers_only(web, make_user, supervisor):
    from apps.accounts.models import Role

    manager = make_user(Role.OPERATOR, full_name="Ольга Менеджерова")
    make_user(Role.ACCOUNTANT, full_name="Анна Бухгалтерова")
    make_user(Role.OPERATOR, full_name="Уволенный Менеджер", is_active=False)
    page = web.get("/admin/orders/order/add/").content.decode()
    picker = re.search(r'<select name="operator".*?</select>', page, re.S).group(0)
    assert manager.full_name in picker and supervisor.full_name in picker
    assert "Бухгалтерова" not in picker and "Уволенный" not in picker


def test_forbidden_page_and_site_link_are_russian(client, accountant):
    client.force_login(accountant)
    response = client.get("/admin/orders/supplier/add/")
    assert response.status_code == 403
    assert "Доступ запрещён" in response.content.decode()
    index = client.get("/admin/").content.decode()
    assert 'href="/form/"' in index and "Открыть сайт" in index
    assert client.get("/form/").status_code == 200


def test_client_list_has_a_russian_name_column(web):
    make_client()
    page = web.get("/admin/clients/client/").content.decode()
    assert "ФИО" in page and "Full name" not in page


def test_every_iana_zone_is_offered_with_a_russian_name(web):
    order = make_order()
    add(order, flight(at(1), timezone="America/La_Paz"))
    page = web.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Стамбул — Europe/Istanbul" in page and "Хошимин — Asia/Ho_Chi_Minh" in page
    # One list of every zone for the whole page (<datalist>), each zone box shows its zone by name.
    assert page.count('<datalist id="service-zones">') == 1
    assert re.search(r'name="services-0-timezone" value="Ла-Пас — America/La_Paz, UTC', page)
    assert page.count(" — Europe/") > 40
