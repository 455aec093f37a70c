"""A lead from start to finish in the admin: added by hand, taken, searched, converted or rejected."""

import re

import pytest
from django.test import Client as WebClient

from apps.leads.models import Lead, LeadStatus
from apps.leads.services import lead_create_manual, lead_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(operator):
    client = WebClient()
    client.force_login(operator)
    return client


def _lead(**data) -> Lead:
    base = {"contact_name": "Анна Звонкова", "contact_phone": "+79161234567", "text": "Хотим в Турцию в июне"}
    return lead_create_manual(data={**base, **data})


def test_a_phone_call_is_added_by_hand(web, operator):
    page = web.get("/admin/leads/lead/add/")
    assert page.status_code == 200 and "Имя звонившего" in page.content.decode()
    response = web.post("/admin/leads/lead/add/", {
        "contact_name": "Пётр Звонарёв", "contact_phone": "8 (916) 765-43-21", "contact_email": "",
        "text": "Нужен тур в Сочи", "client": "", "operator": operator.pk,
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get(source="manual")
    assert lead.contact_name == "Пётр Звонарёв" and lead.contact_phone == "+79167654321"
    assert lead.operator == operator and lead.messages.get().text == "Нужен тур в Сочи"


def test_a_call_without_contacts_or_with_a_bad_phone_is_refused(web, operator):
    response = web.post("/admin/leads/lead/add/", {"contact_name": "Безымянный", "contact_phone": "",
                                                   "contact_email": "", "text": "", "client": "", "operator": ""})
    assert response.status_code == 200 and "Укажите телефон или e-mail" in response.content.decode()
    response = web.post("/admin/leads/lead/add/", {"contact_name": "Х", "contact_phone": "12", "contact_email": "",
                                                   "text": "", "client": "", "operator": ""})
    assert response.status_code == 200
    assert not Lead.objects.exists()


def test_take_convert_opens_the_new_order(web, operator):
    lead = _lead()
    page = web.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "Преобразовать в заказ" in page and "Отклонить" in page and "Взять в работу" in page
    web.post(f"/admin/leads/lead/{lead.pk}/take/")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.IN_PROGRESS and lead.operator == operator
    response = web.post(f"/admin/leads/lead/{lead.pk}/convert/")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.order is not None
    assert response["Location"] == f"/admin/orders/order/{lead.order_id}/change/"
    again = web.post(f"/admin/leads/lead/{lead.pk}/convert/", follow=True).content.decode()
    assert "уже преобразована" in again
    assert "Преобразовать в заказ</button>" not in again and "Открыть заказ" in again


def test_reject_asks_for_a_reason(web):
    lead = _lead()
    page = web.get(f"/admin/leads/lead/reject/?ids={lead.pk}")
    assert page.status_code == 200 and "Причина отказа" in page.content.decode()
    response = web.post("/admin/leads/lead/reject/", {"ids": str(lead.pk), "reason": ""})
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    web.post("/admin/leads/lead/reject/", {"ids": str(lead.pk), "reason": "Дорого"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.REJECTED and lead.rejection_reason == "Дорого"


def test_list_actions_convert_and_reject(web):
    first, second = _lead(), _lead(contact_phone="+79160000002")
    response = web.post("/admin/leads/lead/", {"action": "convert_leads", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert response["Location"] == f"/admin/orders/order/{first.order_id}/change/"
    response = web.post("/admin/leads/lead/", {"action": "reject_leads", "_selected_action": [second.pk]})
    assert response["Location"] == f"/admin/leads/lead/reject/?ids={second.pk}"


def test_accountant_cannot_convert_or_reject(client, accountant):
    lead = _lead()
    client.force_login(accountant)
    assert client.post(f"/admin/leads/lead/{lead.pk}/convert/").status_code == 403
    client.post("/admin/leads/lead/reject/", {"ids": str(lead.pk), "reason": "x"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_search_by_number_phone_email_name_and_text(web):
    lead = _lead(contact_email="anna@example.com")
    other = lead_ingest(channel="telegram", external_id="m-1", sender={"telegram_id": 555, "name": "Борис"},
                        text="Интересует Мальдивы").lead

    def found(term):
        page = web.get("/admin/leads/lead/", {"q": term}).content.decode()
        return {number for number in re.findall(r"L-\d{6}", page)}

    assert found(lead.number) == {lead.number}
    assert found(str(int(lead.number[2:]))) == {lead.number}
    assert found("8 916 123-45-67") == {lead.number}
    assert found("ANNA@example.com") == {lead.number}
    assert found("звонкова") == {lead.number}
    assert found("мальдивы") == {other.number}
    assert found("ничего такого") == set()
    assert found("звонк") == {lead.number}  # the beginning of a word
    assert found("анна звонкова") == {lead.number}  # every word
    assert found("анна мальдивы") == set()
    assert found("турци") == {lead.number}  # «в Турцию»: the beginning of a word of the text
    assert found("онкова") == set()  # the middle of a word is not searched (hashed words)


def test_search_by_name_or_text_finds_old_leads_and_decrypts_nothing_else(web, django_assert_max_num_queries):
    """Not only the newest leads: the blind word tokens cover all of them, with the same statements
    whatever the number of leads."""
    old = _lead(contact_name="Олег Древний", text="Старый вопрос про Кипр")
    for index in range(30):
        _lead(contact_name=f"Другой {index}", text="Про Турцию")
    Lead.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))

    def search(term, budget):
        with django_assert_max_num_queries(budget):
            page = web.get("/admin/leads/lead/", {"q": term}).content.decode()
        return set(re.findall(r"L-\d{6}", page))

    web.get("/admin/leads/lead/", {"q": "древний"})  # warm the session and permission caches
    assert search("древн", 14) == {old.number}
    assert search("кипр", 14) == {old.number}
    assert len(search("турцию", 14)) == 30
    for index in range(30, 60):
        _lead(contact_name=f"Другой {index}", text="Про Турцию")
    assert search("древн", 14) == {old.number}  # the same budget with twice the leads


def test_a_search_that_matches_too_many_shows_the_newest_and_asks_to_narrow_it(web, monkeypatch):
    """No count and sort of every match: the newest SEARCH_CAP, a notice that there are more."""
    from apps.leads import selectors

    leads = [_lead(contact_name=f"Анна Многова {index}", text="Про Кипр") for index in range(3)]
    monkeypatch.setattr(selectors, "SEARCH_CAP", 2)
    page = web.get("/admin/leads/lead/", {"q": "многова"}).content.decode()
    assert set(re.findall(r"L-\d{6}", page)) == {leads[1].number, leads[2].number}
    assert "Найдено больше 2 заявок — показаны 2 самых новых" in page
    page = web.get("/admin/leads/lead/", {"q": leads[0].number}).content.decode()
    assert leads[0].number in page and "Найдено больше" not in page


def test_list_fits_a_laptop_screen(web):
    _lead()
    page = web.get("/admin/leads/lead/").content.decode()
    header = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    assert len(re.findall(r"<th[ >]", header)) == 8  # the checkbox and seven short columns


def test_search_without_the_personal_data_right_refuses_contacts_and_skips_hidden_texts(client, accountant):
    """A phone / e-mail guess must not confirm a masked value; hidden message texts are not searched."""
    lead = _lead(contact_email="anna@example.com")
    other = lead_ingest(channel="telegram", external_id="m-2", sender={"telegram_id": 556, "name": "Вера"},
                        text="Мой паспорт 4510 123012, хочу на Мальдивы").lead
    client.force_login(accountant)
    for term in ("8 916 123-45-67", "anna@example.com"):
        response = client.get("/admin/leads/lead/", {"q": term})
        assert response.status_code == 403, term
        page = response.content.decode()
        assert "personal_data_forbidden" in page and lead.number not in page
    by_text = client.get("/admin/leads/lead/", {"q": "мальдивы"})
    assert by_text.status_code == 200 and other.number not in by_text.content.decode()
    by_name = client.get("/admin/leads/lead/", {"q": "вера"}).content.decode()
    assert other.number in by_name
    assert lead.number in client.get("/admin/leads/lead/", {"q": lead.number}).content.decode()
