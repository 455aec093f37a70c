"""The audit API: supervisors only, filters, Russian labels, no personal data in plaintext."""

import datetime as dt

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth import authenticate
from django.test import Client as BrowserClient
from django.test import RequestFactory

from apps.accounts.models import Role
from apps.audit.models import AccessLogEntry
from apps.clients.tests.factories import make_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ACCOUNTANT])
def test_only_supervisors_read_the_logs(make_user, client_as, role):
    api = client_as(make_user(role))
    for url in ("/api/v1/audit/", "/api/v1/audit/access/", "/api/v1/audit/destructions/"):
        assert api.get(url).status_code == 403, url


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/audit/").status_code == 401


def test_client_changes_listed_with_masked_personal_data(supervisor_api, supervisor):
    client = make_client(actor=supervisor, birth_date="1980-02-03", phones=["+79161234567"])
    response = supervisor_api.get("/api/v1/audit/", {"model": "clients.client", "object_id": client.pk})
    assert response.status_code == 200
    (entry,) = [e for e in response.json()["results"] if e["action"] == "create"]
    assert entry["action_label"] == "Создание" and entry["model_label"] == "Клиент"
    everything = str(supervisor_api.get("/api/v1/audit/", {"page_size": 200}).json())
    assert "1980-02-03" not in everything and "9161234567" not in everything and "1234567" not in everything


def test_filters_and_bad_filters(supervisor_api, supervisor):
    with set_actor(supervisor):
        make_client(actor=supervisor)
    assert supervisor_api.get("/api/v1/audit/", {"action": "create", "user": supervisor.pk}).json()["count"] >= 1
    assert supervisor_api.get("/api/v1/audit/", {"action": "delete"}).json()["count"] == 0
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert supervisor_api.get("/api/v1/audit/", {"date_from": tomorrow}).json()["count"] == 0
    for params in ({"model": "nope.nothing"}, {"action": "explode"}, {"date_from": "31.31.2026"},
                   {"user": "99999999999999999999999"}):
        response = supervisor_api.get("/api/v1/audit/", params)
        assert response.status_code == 400, params
        assert response.json()["code"] and response.json()["fields"]
    assert supervisor_api.get("/api/v1/audit/access/", {"client": "1" * 30}).status_code == 400


def test_access_log_api_filters_by_client(supervisor_api, operator_api, operator):
    first, second = make_client(), make_client()
    operator_api.get(f"/api/v1/clients/{first.pk}/")
    operator_api.get(f"/api/v1/clients/{second.pk}/")
    response = supervisor_api.get("/api/v1/audit/access/", {"client": first.pk, "user": operator.pk})
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["client_ids"] == [first.pk] and row["user_email"] == operator.email


def test_audit_log_is_read_only(supervisor_api):
    assert supervisor_api.post("/api/v1/audit/", {}).status_code in (403, 405)
    entry = LogEntry.objects.first() or make_client() and LogEntry.objects.first()
    assert supervisor_api.delete(f"/api/v1/audit/{entry.pk}/").status_code in (403, 405)


def test_logins_failures_and_security_changes_are_recorded(make_user):
    user = make_user(Role.OPERATOR, email="petrov@test.travelcrm")
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.9")
    assert authenticate(request, email="petrov@test.travelcrm", password="wrong") is None
    browser = BrowserClient()
    browser.force_login(user)
    browser.post("/admin/logout/")
    user.set_password("another-Secret-123")
    user.role = Role.SUPERVISOR
    user.save()
    events = list(LogEntry.objects.filter(object_pk=str(user.pk)).values_list("additional_data__event", flat=True))
    for event in ("login_failed", "login", "logout", "password_changed", "role_changed"):
        assert event in events
    failed = LogEntry.objects.get(additional_data__event="login_failed")
    assert "petrov@" not in str(failed.additional_data) and failed.additional_data["ip"] == "10.0.0.9"


def test_token_login_is_recorded(api_client, make_user):
    user = make_user(Role.OPERATOR)
    from conftest import TEST_PASSWORD

    assert api_client.post("/api/v1/auth/token/", {"email": user.email, "password": TEST_PASSWORD}).status_code == 200
    assert LogEntry.objects.filter(object_pk=str(user.pk), additional_data__event="login").exists()


def test_admin_export_is_recorded_with_filters(supervisor):
    client = make_client()
    browser = BrowserClient()
    browser.force_login(supervisor)
    response = browser.post("/admin/clients/client/", {
        "action": "export_admin_action", "_selected_action": [client.pk], "format": "0",
    })
    assert "attachment" in response.get("Content-Disposition", "")
    event = LogEntry.objects.get(additional_data__event="export")
    assert event.additional_data["filters"]["_selected_action"] == [str(client.pk)]
    assert AccessLogEntry.objects.filter(channel="export", client_ids__contains=[client.pk]).exists()


def test_admin_pages_are_russian_and_read_only(supervisor, admin_user):
    make_client(actor=supervisor)
    browser = BrowserClient()
    browser.force_login(admin_user)
    page = browser.get("/admin/auditlog/logentry/").content.decode()
    assert "Создание" in page and "Клиент" in page
    entry = LogEntry.objects.filter(action=LogEntry.Action.CREATE, content_type__model="client").first()
    detail = browser.get(f"/admin/auditlog/logentry/{entry.pk}/change/")
    assert detail.status_code == 200 and "Фамилия" in detail.content.decode()
    assert browser.get(f"/admin/auditlog/logentry/{entry.pk}/delete/").status_code == 403
    assert browser.get("/admin/audit/accesslogentry/").status_code == 200


def test_integration_secret_change_is_recorded_without_the_secret():
    from django.apps import apps

    settings_model = apps.get_model("integrations", "IntegrationSettings")
    row = settings_model.objects.create(type="telegram", bot_name="Бот продаж")
    row.api_token_encrypted = "123456:SECRET-TOKEN-VALUE"
    row.save()
    (event,) = LogEntry.objects.filter(additional_data__event="secret_changed")
    assert event.additional_data["fields"] == ["токен API (зашифрован)"]
    assert "SECRET-TOKEN" not in str(LogEntry.objects.filter(object_pk=str(row.pk)).values())
