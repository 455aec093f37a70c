"""The client admin saves through the services: normalisation and dedup hold, PD masked per role."""

import pytest
from django.test import Client as BrowserClient

from apps.clients.models import Client
from apps.clients.tests.factories import make_client

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/clients/client/add/"
LIST_URL = "/admin/clients/client/"


def _browser(user) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def _management(prefix: str, total: int, initial: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def _add_form(phone: str, **extra) -> dict:
    data = {
        "last_name": "Сидоров", "first_name": "Сидор", "middle_name": "", "last_name_latin": "SIDOROV",
        "first_name_latin": "SIDOR", "birth_date": "1990-01-02", "citizenship": "RU", "operator": "", "notes": "",
        **_management("contacts", 1), "contacts-0-kind": "phone", "contacts-0-value": phone,
        "contacts-0-is_primary": "on",
        **_management("passports", 1), "passports-0-kind": "internal", "passports-0-series": "4511",
        "passports-0-number": "654321", "passports-0-issue_date": "", "passports-0-expiry_date": "",
        "passports-0-issued_by": "", "passports-0-is_active": "on",
        **_management("files", 0),
    }
    data.update(extra)
    return data


def test_admin_add_normalises_through_services(operator):
    response = _browser(operator).post(ADD_URL, _add_form("8 (916) 555-44-33"))
    assert response.status_code == 302, response.content.decode()[:3000]
    client = Client.objects.get(last_name="Сидоров")
    assert [c.value for c in client.contacts.all()] == ["+79165554433"]
    assert client.passports.get().number == "654321"
    assert client.operator == operator


def test_admin_refuses_a_duplicate_phone_with_a_russian_message(operator):
    existing = make_client(last_name="Иванов", first_name="Иван", phones=["+79165554433"])
    response = _browser(operator).post(ADD_URL, _add_form("+7 916 555 44 33"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Уже принадлежит другому клиенту" in page and f"№ {existing.pk}" in page
    assert not Client.objects.filter(last_name="Сидоров").exists()


def test_admin_refuses_an_invalid_phone(operator):
    response = _browser(operator).post(ADD_URL, _add_form("12345"))
    assert response.status_code == 200
    assert "Некорректный номер телефона" in response.content.decode()
    assert not Client.objects.exists()


def test_admin_search_by_phone_email_passport_and_name(operator):
    ivan = make_client(last_name="Иванов", phones=["+79161234567"], emails=["ivan@mail.ru"],
                       passports=[{"kind": "internal", "series": "4510", "number": "123012"}])
    make_client(last_name="Петров")
    browser = _browser(operator)
    for term in ("8 916 123-45-67", "IVAN@mail.ru", "4510 123012", "иванов"):
        response = browser.get(LIST_URL, {"q": term})
        assert response.status_code == 200
        assert [row.pk for row in response.context["cl"].result_list] == [ivan.pk], term


def test_accountant_sees_masked_data_in_admin(accountant):
    client = make_client(phones=["+79161234567"], birth_date="1985-03-01",
                         passports=[{"kind": "internal", "series": "4510", "number": "123012"}])
    browser = _browser(accountant)
    listing = browser.get(LIST_URL).content.decode()
    assert "+7 *** ***-45-67" in listing and "+79161234567" not in listing
    page = browser.get(f"{LIST_URL}{client.pk}/change/").content.decode()
    assert "**.**.1985" in page and "1985-03-01" not in page and "01.03.1985" not in page
    assert "45** ***012" in page and "123012" not in page


def test_admin_merge_action_and_soft_delete(supervisor):
    first, second = make_client(), make_client(emails=["second@mail.ru"])
    browser = _browser(supervisor)
    response = browser.post(LIST_URL, {"action": "merge_clients", "_selected_action": [first.pk, second.pk]})
    assert response.status_code == 302
    assert Client.all_objects.get(pk=second.pk).merged_into_id == first.pk
    assert first.contacts.filter(kind="email").count() == 2
    response = browser.post(f"{LIST_URL}{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Client.all_objects.get(pk=first.pk).is_deleted


def test_admin_change_page_with_a_file_and_an_upload(operator, bucket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.clients.services import client_file_add

    client = make_client(phones=["+79161234567"], emails=[])
    stored = client_file_add(client=client, uploaded=SimpleUploadedFile("old.pdf", b"%PDF-1.4 old", "application/pdf"))
    browser = _browser(operator)
    page = browser.get(f"{LIST_URL}{client.pk}/change/")
    assert page.status_code == 200
    assert "old.pdf" in page.content.decode()
    contact = client.contacts.get()
    passport = client.passports.get()
    data = {
        "last_name": client.last_name, "first_name": client.first_name, "middle_name": "", "last_name_latin": "",
        "first_name_latin": "", "birth_date": "", "citizenship": "RU", "operator": "", "notes": "",
        **_management("contacts", 1, 1), "contacts-0-id": contact.pk, "contacts-0-client": client.pk,
        "contacts-0-kind": "phone", "contacts-0-value": "+79161234567", "contacts-0-is_primary": "on",
        **_management("passports", 1, 1), "passports-0-id": passport.pk, "passports-0-client": client.pk,
        "passports-0-kind": passport.kind, "passports-0-series": passport.series, "passports-0-number": passport.number,
        "passports-0-issue_date": "", "passports-0-expiry_date": "", "passports-0-issued_by": "",
        "passports-0-is_active": "on",
        **_management("files", 2, 1), "files-0-id": stored.pk, "files-0-client": client.pk, "files-0-description": "",
        "files-1-client": client.pk, "files-1-description": "Новый скан",
        "files-1-upload": SimpleUploadedFile("new.png", b"\x89PNG\r\n\x1a\n....", "image/png"),
    }
    response = browser.post(f"{LIST_URL}{client.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(f.original_name for f in client.files.all()) == ["new.png", "old.pdf"]
    new = next(f for f in client.files.all() if f.original_name == "new.png")  # encrypted: no SQL lookup
    assert new.file.name.startswith("clients/") and new.content_type == "image/png"


def test_admin_exports_selected_clients_as_excel_csv_masked_for_accountants(operator, accountant):
    client = make_client(last_name="Экспортов", first_name="Пётр", phones=["+79165550011"])
    form = {"action": "export_admin_action", "_selected_action": [client.pk], "format": "0"}

    operator_export = _browser(operator).post(LIST_URL, form)
    assert operator_export.status_code == 200, operator_export.content.decode()[:2000]
    operator_csv = operator_export.content.decode("utf-8")
    assert operator_csv.startswith("\ufeff") and ";" in operator_csv
    assert "Экспортов" in operator_csv and "+79165550011" in operator_csv

    accountant.is_staff = True
    accountant.save()
    accountant_csv = _browser(accountant).post(LIST_URL, form).content.decode("utf-8")
    assert "Экспортов" in accountant_csv
    assert "+79165550011" not in accountant_csv


def test_admin_search_by_phone_email_passport_is_refused_without_the_personal_data_right(accountant):
    """A masked value must not be recoverable by guessing it into the search box."""
    make_client(last_name="Иванов", phones=["+79161234567"], emails=["ivan@mail.ru"],
                passports=[{"kind": "internal", "series": "4510", "number": "123012"}])
    browser = _browser(accountant)
    for term in ("8 916 123-45-67", "ivan@mail.ru", "4510 123012"):
        response = browser.get(LIST_URL, {"q": term})
        assert response.status_code == 403, term
        page = response.content.decode()
        assert "personal_data_forbidden" in page and "Ищите по фамилии" in page
        assert "Иванов" not in page
    by_name = browser.get(LIST_URL, {"q": "иванов"})
    assert by_name.status_code == 200 and len(by_name.context["cl"].result_list) == 1
