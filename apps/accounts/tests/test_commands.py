"""manage.py ensure_admin: the first administrator, from ADMIN_EMAIL / ADMIN_PASSWORD or generated once."""

from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_generated_password_is_printed_once(settings):
    settings.ADMIN_EMAIL = "Boss@Agency.example"
    settings.ADMIN_PASSWORD = ""
    first = run()
    admin = User.objects.get(is_superuser=True)
    assert admin.email == "boss@agency.example"
    password = first.strip().rsplit(" ", 1)[-1]
    assert admin.check_password(password)
    second = run()
    assert password not in second
    assert User.objects.filter(is_superuser=True).count() == 1


def test_password_from_the_environment_is_not_printed(settings):
    settings.ADMIN_EMAIL = "admin@agency.example"
    settings.ADMIN_PASSWORD = "A-long-admin-password-2026"
    out = run()
    assert "A-long-admin-password-2026" not in out
    assert User.objects.get(email="admin@agency.example").check_password("A-long-admin-password-2026")


def test_demo_users_are_idempotent():
    from apps.accounts.demo import load_demo

    load_demo(StringIO())
    load_demo(StringIO())
    assert User.objects.filter(email__endswith="@demo.travelcrm").count() == 3
