"""Admin: secrets write-only (never rendered), the password gate, «Проверить подключение», inbox retry."""

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.urls import reverse

from apps.integrations.models import InboxItem, InboxStatus, IntegrationSettings
from apps.integrations.tests.conftest import ADMIN_PASSWORD, BOT_TOKEN
from apps.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_change_page_never_shows_the_token(admin_client, telegram_bot):
    response = admin_client.get(reverse("admin:integrations_integrationsettings_change", args=[telegram_bot.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="new_api_token"' in html
    assert BOT_TOKEN not in html
    assert BOT_TOKEN.split(":")[1] not in html
    assert telegram_bot.webhook_secret not in html
    listing = admin_client.get(reverse("admin:integrations_integrationsettings_changelist")).content.decode()
    assert BOT_TOKEN.split(":")[1] not in listing


def _add_form(**extra):
    data = {
        "type": "telegram",
        "purpose": "sales",
        "bot_name": "",
        "new_api_token": BOT_TOKEN,
        "imap_folder": "INBOX",
        "imap_security": "ssl",
        "admin_password": ADMIN_PASSWORD,
    }
    data.update(extra)
    return data


def test_adding_a_bot_in_the_admin_goes_through_the_service(admin_client, fake_telegram):
    response = admin_client.post(reverse("admin:integrations_integrationsettings_add"), _add_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    bot = IntegrationSettings.objects.get()
    assert (bot.bot_name, bot.api_token_encrypted) == ("travel_sales_bot", BOT_TOKEN)


def test_wrong_admin_password_in_the_admin_is_refused_and_audited(admin_client, fake_telegram, admin_user):
    response = admin_client.post(
        reverse("admin:integrations_integrationsettings_add"), _add_form(admin_password="nope")
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Неверный пароль администратора." in response.content.decode()
    assert BOT_TOKEN not in response.content.decode()  # not even echoed back
    assert IntegrationSettings.objects.count() == 0
    assert LogEntry.objects.filter(additional_data__event="admin_password_rejected", actor=admin_user).exists()


def test_check_connection_action(admin_client, telegram_bot, fake_telegram):
    url = reverse("admin:integrations_integrationsettings_changelist")
    IntegrationSettings.objects.filter(pk=telegram_bot.pk).update(last_connected_at=None)
    admin_client.post(url, {"action": "check_connection", "_selected_action": [telegram_bot.pk]})
    telegram_bot.refresh_from_db()
    assert telegram_bot.last_connected_at is not None
    assert telegram_bot.last_error == ""

    fake_telegram.bots.clear()  # the token was revoked
    response = admin_client.post(
        url, {"action": "check_connection", "_selected_action": [telegram_bot.pk]}, follow=True
    )
    telegram_bot.refresh_from_db()
    assert telegram_bot.last_error == "Telegram отклонил токен бота."
    assert "Telegram отклонил токен бота." in response.content.decode()


def test_inbox_shows_errors_and_retries(admin_client, api_client, telegram_bot):
    # The database refuses new lead messages (as with a full disk): a real PostgreSQL error.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION integrations_test_no_space() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER integrations_test_no_space BEFORE INSERT ON leads_leadmessage "
            "FOR EACH ROW EXECUTE FUNCTION integrations_test_no_space()"
        )
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1764000000,
            "chat": {"id": 1, "type": "private"},
            "from": {"id": 1, "is_bot": False, "first_name": "Иван"},
            "text": "Хотим в Анталью",
        },
    }
    api_client.post(
        f"/api/v1/integrations/telegram/{telegram_bot.pk}/webhook/",
        update,
        format="json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=telegram_bot.webhook_secret,
    )
    item = InboxItem.objects.get()
    assert item.status == InboxStatus.FAILED
    listing = admin_client.get(reverse("admin:integrations_inboxitem_changelist")).content.decode()
    assert "No space left on device" in listing

    response = admin_client.post(
        reverse("admin:integrations_inboxitem_changelist"),
        {"action": "retry", "_selected_action": [item.pk]},
        follow=True,
    )
    assert "Повторная обработка: failed: 1" in response.content.decode()
    item.refresh_from_db()
    assert item.attempts == 2
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("role,allowed", [("supervisor", True), ("operator", False), ("accountant", False)])
def test_admin_pages_follow_the_role_permissions(client, make_user, role, allowed):
    user = make_user(role, is_staff=True)
    client.force_login(user)
    for name in ("integrationsettings", "inboxitem"):
        response = client.get(reverse(f"admin:integrations_{name}_changelist"))
        assert (response.status_code == 200) is allowed, (name, response.status_code)


def test_admin_password_in_the_admin_form_locks_after_five_failures_from_one_address(
    admin_client, fake_telegram, admin_user
):
    url = reverse("admin:integrations_integrationsettings_add")
    for _ in range(5):
        wrong = admin_client.post(url, _add_form(admin_password="nope"), REMOTE_ADDR="10.30.0.1")
        assert "Неверный пароль администратора." in wrong.content.decode()
    locked = admin_client.post(url, _add_form(), REMOTE_ADDR="10.30.0.1")
    assert locked.status_code == 200 and "Слишком много неверных попыток" in locked.content.decode()
    assert IntegrationSettings.objects.count() == 0
    # the same administrator from another address is not held up; their own login was never counted
    assert admin_client.post(url, _add_form(), REMOTE_ADDR="10.30.0.2").status_code == 302
    assert IntegrationSettings.objects.count() == 1
