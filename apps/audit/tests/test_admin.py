"""The audit log page of the admin: opens, and its search works with our User model."""

import re

import pytest
from auditlog.models import LogEntry
from django.test import Client as BrowserClient

from apps.accounts.models import Role

pytestmark = pytest.mark.django_db


def test_audit_log_search_by_actor_and_object(admin_user, make_user):
    operator = make_user(Role.OPERATOR, email="ivanova@test.travelcrm", full_name="Иванова Мария")
    operator.full_name = "Иванова Мария Петровна"
    LogEntry.objects.log_create(operator, action=LogEntry.Action.UPDATE, changes={"full_name": ["a", "b"]},
                                force_log=True, actor=admin_user)
    browser = BrowserClient()
    browser.force_login(admin_user)
    for term in ("ivanova", "Иванова", admin_user.email, "нет такого"):
        response = browser.get("/admin/auditlog/logentry/", {"q": term})
        assert response.status_code == 200, term
    found = browser.get("/admin/auditlog/logentry/", {"q": admin_user.email}).context["cl"].result_count
    assert found >= 1


def test_audit_log_is_russian_filters_and_entry_title(admin_user, make_user):
    operator = make_user(Role.OPERATOR, email="petrova@test.travelcrm", full_name="Петрова Анна")
    entry = LogEntry.objects.log_create(operator, action=LogEntry.Action.UPDATE, changes={"full_name": ["a", "b"]},
                                        force_log=True, actor=admin_user)
    browser = BrowserClient()
    browser.force_login(admin_user)
    page = browser.get("/admin/auditlog/logentry/").content.decode()
    for english in ("Blacklisted Token", "Outstanding Token", "procrastinate", "access attempt", "timestamp"):
        assert not re.search(rf">[^<]*{english}[^<]*<", page, re.I), english  # as text, not in a link
    assert "тип записи" in page.lower() and "Пользователь" in page
    filtered = browser.get("/admin/auditlog/logentry/", {"model": entry.content_type_id})
    assert filtered.status_code == 200 and filtered.context["cl"].result_count >= 1
    detail = browser.get(f"/admin/auditlog/logentry/{entry.pk}/change/").content.decode()
    assert "Logged" not in detail and "Изменение: " in detail
