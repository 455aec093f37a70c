import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as BrowserClient

from apps.accounts.models import Role
from apps.clients.imports.tests.test_service import GOOD, csv_bytes
from apps.clients.models import Client

pytestmark = pytest.mark.django_db
URL = "/admin/clients/client/import-csv/"


def browser_for(user) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def test_changelist_has_the_import_button(admin_user):
    page = browser_for(admin_user).get("/admin/clients/client/").content.decode()
    assert "Импорт из CSV" in page and URL in page


def test_preview_then_confirm(admin_user):
    browser = browser_for(admin_user)
    assert browser.get(URL).status_code == 200
    data = csv_bytes(*GOOD, "Без;;;;;;+79160000000;;;;")
    preview = browser.post(URL, {"file": SimpleUploadedFile("c.csv", data), "on_duplicate": "skip"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Пробный прогон" in html and "будет создан" not in html  # only the interesting rows are listed
    assert "отклонён" in html and not Client.objects.exists()
    token = preview.context["confirm_token"]
    done = browser.post(URL, {"confirm_token": token})
    assert done.status_code == 200  # a rejected row keeps the report on screen
    assert Client.objects.count() == 2
    replay = browser.post(URL, {"confirm_token": token})
    assert "устарел" in replay.content.decode() and Client.objects.count() == 2


def test_clean_file_redirects_to_the_list(admin_user):
    browser = browser_for(admin_user)
    preview = browser.post(URL, {"file": SimpleUploadedFile("c.csv", csv_bytes(*GOOD)), "on_duplicate": "skip"})
    done = browser.post(URL, {"confirm_token": preview.context["confirm_token"]})
    assert done.status_code == 302 and Client.objects.count() == 2


def test_broken_file_shows_the_error(admin_user):
    response = browser_for(admin_user).post(URL, {"file": SimpleUploadedFile("x.csv", b"\x00\x01\x02"),
                                                  "on_duplicate": "skip"})
    assert response.status_code == 200 and "не CSV" in response.content.decode()


def test_accountant_cannot_import(make_user):
    assert browser_for(make_user(Role.ACCOUNTANT)).get(URL).status_code == 403
