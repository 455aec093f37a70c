"""Integration settings: endpoints, supervisors only, the ADMIN_PASSWORD gate, encryption."""

import pytest
from auditlog.models import LogEntry
from django.db import connection

from apps.integrations.fields import UndecryptableValue
from apps.integrations.models import IntegrationSettings
from apps.integrations.tests.conftest import ADMIN_PASSWORD, BOT_TOKEN, WA_APP_SECRET, WA_TOKEN, WA_VERIFY

pytestmark = pytest.mark.django_db

LIST = "/api/v1/settings/integrations/list"
ADD = "/api/v1/settings/integrations/add"
UPDATE = "/api/v1/settings/integrations/update"
ACTIVATE = "/api/v1/settings/integrations/activate"
DEACTIVATE = "/api/v1/settings/integrations/deactivate"


def _add_bot(api, **extra):
    body = {"type": "telegram", "purpose": "sales", "api_token": BOT_TOKEN, "admin_password": ADMIN_PASSWORD, **extra}
    return api.post(ADD, body, format="json")


def test_add_telegram_bot_checks_token_with_getme_and_never_returns_it(supervisor_api, fake_telegram):
    response = _add_bot(supervisor_api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bot_name"] == "travel_sales_bot"
    assert body["has_token"] is True
    assert body["is_active"] is False
    assert BOT_TOKEN not in response.content.decode()
    assert ("getMe", BOT_TOKEN) in fake_telegram.calls

    listed = supervisor_api.get(LIST)
    assert listed.status_code == 200
    assert listed.json()["results"][0]["has_token"] is True
    assert BOT_TOKEN not in listed.content.decode()


def test_token_is_encrypted_in_the_database_and_decrypts(supervisor_api, fake_telegram):
    integration_id = _add_bot(supervisor_api).json()["id"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_token_encrypted FROM integrations_integrationsettings WHERE id = %s", [integration_id]
        )
        stored = cursor.fetchone()[0]
    assert BOT_TOKEN not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert IntegrationSettings.objects.get(pk=integration_id).api_token_encrypted == BOT_TOKEN


def test_undecryptable_token_raises_instead_of_passing_through(supervisor_api, fake_telegram):
    integration_id = _add_bot(supervisor_api).json()["id"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_integrationsettings SET api_token_encrypted = %s WHERE id = %s",
            ["gAAAAABnot-a-valid-fernet-token", integration_id],
        )
    with pytest.raises(UndecryptableValue):
        IntegrationSettings.objects.get(pk=integration_id)


@pytest.mark.parametrize("password", ["wrong-password", "", None])
def test_wrong_or_missing_admin_password_is_refused_and_audited(supervisor_api, supervisor, fake_telegram, password):
    body = {"type": "telegram", "purpose": "sales", "api_token": BOT_TOKEN}
    if password is not None:
        body["admin_password"] = password
    response = supervisor_api.post(ADD, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "admin_password_invalid"
    assert IntegrationSettings.objects.count() == 0
    entry = LogEntry.objects.get(additional_data__event="admin_password_rejected")
    assert entry.actor == supervisor
    assert fake_telegram.calls == []  # the token was not even tried


def test_replacing_a_token_needs_the_admin_password(supervisor_api, fake_telegram):
    integration_id = _add_bot(supervisor_api).json()["id"]
    new_token = "7000002:BBHanotherFakeTokenForTests_abcdefghijklm"
    fake_telegram.add_bot(new_token, username="travel_ops_bot", bot_id=7000002)
    refused = supervisor_api.post(
        UPDATE, {"id": integration_id, "api_token": new_token, "admin_password": "nope"}, format="json"
    )
    assert refused.status_code == 403
    assert IntegrationSettings.objects.get(pk=integration_id).api_token_encrypted == BOT_TOKEN

    plain = supervisor_api.post(UPDATE, {"id": integration_id, "purpose": "operators"}, format="json")
    assert plain.status_code == 200  # no secret → no password needed
    replaced = supervisor_api.post(
        UPDATE, {"id": integration_id, "api_token": new_token, "admin_password": ADMIN_PASSWORD}, format="json"
    )
    assert replaced.status_code == 200
    integration = IntegrationSettings.objects.get(pk=integration_id)
    assert (integration.api_token_encrypted, integration.bot_name, integration.purpose) == (
        new_token,
        "travel_ops_bot",
        "operators",
    )


def test_invalid_token_is_a_clear_400(supervisor_api, fake_telegram):
    response = supervisor_api.post(
        ADD, {"type": "telegram", "api_token": "123:bad", "admin_password": ADMIN_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "token_invalid"
    assert "123:bad" not in response.content.decode()


def test_activate_sets_webhook_with_random_secret_and_deactivate_removes_it(supervisor_api, fake_telegram):
    integration_id = _add_bot(supervisor_api).json()["id"]
    response = supervisor_api.post(ACTIVATE, {"id": integration_id}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    hook = fake_telegram.webhooks[BOT_TOKEN]
    assert hook["url"] == f"https://crm.example.test/api/v1/integrations/telegram/{integration_id}/webhook/"
    assert len(hook["secret_token"]) >= 32
    assert IntegrationSettings.objects.get(pk=integration_id).webhook_secret == hook["secret_token"]

    response = supervisor_api.post(DEACTIVATE, {"id": integration_id}, format="json")
    assert response.json()["is_active"] is False
    assert BOT_TOKEN not in fake_telegram.webhooks


def test_several_bots_with_purposes(supervisor_api, fake_telegram, fake_graph):
    _add_bot(supervisor_api)
    second = "7000003:CCHthirdFakeTokenForTests_abcdefghijklmnop"
    fake_telegram.add_bot(second, username="travel_suppliers_bot", bot_id=7000003)
    _add_bot(supervisor_api, api_token=second, purpose="suppliers")
    whatsapp = supervisor_api.post(
        ADD,
        {
            "type": "whatsapp",
            "purpose": "operators",
            "api_token": WA_TOKEN,
            "app_secret": WA_APP_SECRET,
            "verify_token": WA_VERIFY,
            "phone_number_id": "100200300",
            "admin_password": ADMIN_PASSWORD,
        },
        format="json",
    )
    assert whatsapp.status_code == 201, whatsapp.content
    rows = supervisor_api.get(LIST).json()["results"]
    assert [(r["type"], r["purpose"]) for r in rows] == [
        ("telegram", "sales"),
        ("telegram", "suppliers"),
        ("whatsapp", "operators"),
    ]
    for secret in (WA_TOKEN, WA_APP_SECRET, WA_VERIFY, BOT_TOKEN, second):
        assert secret not in str(rows)


def test_whatsapp_needs_its_secrets(supervisor_api):
    response = supervisor_api.post(
        ADD, {"type": "whatsapp", "api_token": WA_TOKEN, "admin_password": ADMIN_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"app_secret", "verify_token", "phone_number_id"}


@pytest.mark.parametrize("role_api", ["operator_api", "accountant_api"])
@pytest.mark.parametrize(
    "method,url", [("get", LIST), ("post", ADD), ("post", ACTIVATE), ("post", DEACTIVATE), ("post", UPDATE)]
)
def test_only_supervisors(request, role_api, method, url):
    api = request.getfixturevalue(role_api)
    response = getattr(api, method)(url, {}, format="json") if method == "post" else api.get(url)
    assert response.status_code == 403


def test_anonymous_is_refused(api_client):
    assert api_client.get(LIST).status_code in (401, 403)


def test_list_runs_constant_queries(supervisor_api, supervisor, django_assert_max_num_queries):
    for index in range(5):
        IntegrationSettings.objects.create(type="email", purpose="sales", imap_host="imap.test", imap_user=f"u{index}")
    with django_assert_max_num_queries(6):
        response = supervisor_api.get(LIST)
    assert len(response.json()["results"]) == 5


def test_audit_diff_never_holds_secrets(supervisor_api, fake_telegram):
    integration_id = _add_bot(supervisor_api).json()["id"]
    supervisor_api.post(ACTIVATE, {"id": integration_id}, format="json")
    entries = LogEntry.objects.filter(object_pk=str(integration_id))
    assert entries.count() >= 2
    secret = IntegrationSettings.objects.get(pk=integration_id).webhook_secret
    for entry in entries:
        dump = f"{entry.changes} {entry.changes_text} {entry.serialized_data} {entry.additional_data}"
        assert BOT_TOKEN not in dump
        assert secret not in dump
        assert "api_token_encrypted" not in dump


def test_admin_password_gate_locks_the_user_and_address_pair_only(make_user, client_as, fake_telegram):
    """Five wrong ADMIN_PASSWORDs from one address: 429 there, even for the right one; elsewhere fine."""
    from axes.models import AccessAttempt

    from apps.accounts.models import Role

    supervisor, colleague = make_user(Role.SUPERVISOR), make_user(Role.SUPERVISOR)
    api = client_as(supervisor)
    for _ in range(5):
        wrong = api.post(ADD, {"type": "telegram", "purpose": "sales", "api_token": BOT_TOKEN,
                               "admin_password": "guess"}, format="json", REMOTE_ADDR="10.20.0.1")
        assert wrong.status_code == 403 and wrong.json()["code"] == "admin_password_invalid"
    body = {"type": "telegram", "purpose": "sales", "api_token": BOT_TOKEN, "admin_password": ADMIN_PASSWORD}
    locked = api.post(ADD, body, format="json", REMOTE_ADDR="10.20.0.1")
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert "admin_password" in locked.json()["fields"]
    assert IntegrationSettings.objects.count() == 0
    assert api.post(ADD, body, format="json", REMOTE_ADDR="10.20.0.2").status_code == 201
    assert client_as(colleague).post(ADD, body, format="json", REMOTE_ADDR="10.20.0.1").status_code == 201
    # The employee's own login is a different counter; nothing secret is kept with the failures.
    stored = " ".join(f"{row.username} {row.get_data} {row.post_data}" for row in AccessAttempt.objects.all())
    assert "admin-password:" in stored and "guess" not in stored and BOT_TOKEN not in stored
    assert LogEntry.objects.filter(additional_data__event="admin_password_rejected").count() == 5
