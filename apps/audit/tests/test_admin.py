"""The audit log page of the admin: opens, and its search works with our User model."""

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
