from datetime import timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.api.serializers import MeSerializer
from apps.accounts.models import Role, User
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def obtain(api_client, email, password=TEST_PASSWORD):
    return api_client.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")


def test_token_me_refresh_logout_cycle(api_client, operator):
    response = obtain(api_client, operator.email.upper())
    assert response.status_code == 200, response.content
    access, refresh = response.json()["access"], response.json()["refresh"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api_client.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json()["email"] == operator.email
    assert me.json()["role"] == "operator"

    rotated = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert rotated.status_code == 200
    new_refresh = rotated.json()["refresh"]
    reused = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"

    assert api_client.post("/api/v1/auth/logout/", {"refresh": new_refresh}, format="json").status_code == 205
    after_logout = api_client.post("/api/v1/auth/token/refresh/", {"refresh": new_refresh}, format="json")
    assert after_logout.status_code == 401


def test_wrong_password_is_401_in_error_format(api_client, operator):
    response = obtain(api_client, operator.email, "wrong")
    assert response.status_code == 401
    body = response.json()
    assert set(body) >= {"code", "detail", "fields"}


def test_lockout_after_five_failures(api_client, operator):
    for _ in range(5):
        assert obtain(api_client, operator.email, "wrong").status_code == 401
    locked = obtain(api_client, operator.email)
    assert locked.status_code == 429
    assert "Слишком много" in locked.json()["detail"]


def test_inactive_user_gets_no_token(api_client, make_user):
    user = make_user(Role.OPERATOR, is_active=False)
    assert obtain(api_client, user.email).status_code == 401


def test_role_groups_exist_and_follow_role(make_user):
    assert set(Group.objects.values_list("name", flat=True)) >= {"operator", "accountant", "supervisor"}
    user = make_user(Role.ACCOUNTANT)
    assert list(user.groups.values_list("name", flat=True)) == ["accountant"]
    user.role = Role.SUPERVISOR
    user.save()
    assert list(user.groups.values_list("name", flat=True)) == ["supervisor"]


# --- Token lifetimes, expiry, revocation ----------------------------------------------------------

ME_URL = "/api/v1/auth/me/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"


def tokens(api_client, user):
    response = obtain(api_client, user.email)
    assert response.status_code == 200, response.content
    return response.json()["access"], response.json()["refresh"]


def lifetime(token_class, raw: str) -> timedelta:
    payload = token_class(raw).payload
    return timedelta(seconds=payload["exp"] - payload["iat"])


def assert_error_format(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "detail", "fields"}
    assert body["code"] == code, body
    return body


def test_default_lifetimes_are_15_minutes_and_7_days(api_client, operator):
    access, refresh = tokens(api_client, operator)
    # simplejwt dates the access token from the refresh token's time but stamps its own iat,
    # so the two may straddle a second boundary.
    assert timedelta(minutes=15) - lifetime(AccessToken, access) in (timedelta(0), timedelta(seconds=1))
    assert lifetime(RefreshToken, refresh) == timedelta(days=7)


def test_expired_access_token_is_401_in_error_format(api_client, operator):
    access, _ = tokens(api_client, operator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get(ME_URL).status_code == 200
    later = timezone.now() + timedelta(minutes=16)
    with mock.patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=later):
        response = api_client.get(ME_URL)
    body = assert_error_format(response, 401, "token_not_valid")
    assert body["fields"] == {}


def test_expired_refresh_token_is_refused(api_client, operator):
    _, refresh = tokens(api_client, operator)
    later = timezone.now() + timedelta(days=8)
    with mock.patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=later):
        response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")
    assert_error_format(response, 401, "token_not_valid")


def test_blacklisted_refresh_token_is_401(api_client, operator):
    access, refresh = tokens(api_client, operator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.post(LOGOUT_URL, {"refresh": refresh}, format="json").status_code == 205
    api_client.credentials()
    assert_error_format(api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"), 401, "token_not_valid")
    # Logging out twice with the same token is refused too.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert_error_format(api_client.post(LOGOUT_URL, {"refresh": refresh}, format="json"), 401, "token_not_valid")


def test_garbage_refresh_token_is_401(api_client):
    assert_error_format(api_client.post(REFRESH_URL, {"refresh": "garbage"}, format="json"), 401, "token_not_valid")


def test_logout_needs_authentication_and_own_token(api_client, operator, accountant):
    _, operator_refresh = tokens(api_client, operator)
    assert_error_format(api_client.post(LOGOUT_URL, {"refresh": operator_refresh}, format="json"), 401,
                        "not_authenticated")
    accountant_access, _ = tokens(api_client, accountant)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {accountant_access}")
    assert_error_format(api_client.post(LOGOUT_URL, {"refresh": operator_refresh}, format="json"), 401,
                        "token_not_valid")
    assert_error_format(api_client.post(LOGOUT_URL, {}, format="json"), 400, "validation_error")


def test_inactive_user_cannot_refresh_nor_use_access_token(api_client, operator):
    access, refresh = tokens(api_client, operator)
    operator.is_active = False
    operator.save()
    assert_error_format(api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"), 401, "no_active_account")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get(ME_URL).status_code == 401


def test_deleted_user_cannot_refresh(api_client, operator):
    _, refresh = tokens(api_client, operator)
    operator.delete()
    assert_error_format(api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"), 401, "no_active_account")


def test_unknown_email_and_wrong_password_answer_alike(api_client, operator):
    unknown = obtain(api_client, "nobody@test.travelcrm")
    wrong = obtain(api_client, operator.email, "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert "пароль" in wrong.json()["detail"]


def test_me_lists_id_email_role_name_and_permissions(api_client, supervisor):
    access, _ = tokens(api_client, supervisor)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    body = api_client.get(ME_URL).json()
    assert body["id"] == supervisor.pk
    assert body["email"] == supervisor.email
    assert body["role"] == "supervisor"
    assert body["full_name"] == supervisor.full_name
    assert body["is_superuser"] is False
    assert "accounts.change_user" in body["permissions"]
    assert set(body) == set(MeSerializer().fields), "the view and its documented shape must agree"


def test_me_query_budget(api_client, supervisor, django_assert_max_num_queries):
    access, _ = tokens(api_client, supervisor)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    # The user and its permissions come in one query (apps.accounts.authentication).
    with django_assert_max_num_queries(1):
        assert api_client.get(ME_URL).status_code == 200


@pytest.mark.urls("tests.urls")
def test_permission_checked_api_request_is_one_query(api_client, supervisor, django_assert_max_num_queries):
    access, _ = tokens(api_client, supervisor)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    with django_assert_max_num_queries(3):  # user+permissions, count, page
        assert api_client.get("/api/v1/_test/users/").status_code == 200


@pytest.mark.parametrize("role", ["operator", "accountant", "supervisor", "superuser"])
def test_permissions_loaded_with_the_user_equal_djangos(role, make_user, admin_user):
    from apps.accounts.selectors import user_with_permissions

    user = admin_user if role == "superuser" else make_user(role)
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    loaded = user_with_permissions(user.pk)
    assert loaded.get_all_permissions() == User.objects.get(pk=user.pk).get_all_permissions()
    assert loaded.has_perm("auth.view_group")


def test_token_login_creates_no_session(api_client, operator):
    response = obtain(api_client, operator.email)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


# --- Lockout (django-axes): per (e-mail, address) pair, an address ceiling, Russian message ---------


def obtain_from(api_client, ip: str, email: str, password: str = TEST_PASSWORD):
    return api_client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip
    )


def fail_five_times(api_client, *, ip_for, email_for):
    for attempt in range(5):
        response = obtain_from(api_client, ip_for(attempt), email_for(attempt), "wrong")
        assert response.status_code == 401, response.content


def test_lockout_per_email_and_address_pair(api_client, operator, accountant):
    fail_five_times(api_client, ip_for=lambda n: "10.0.0.1", email_for=lambda n: operator.email)
    locked = obtain_from(api_client, "10.0.0.1", operator.email)
    body = assert_error_format(locked, 429, "too_many_login_attempts")
    assert body["detail"].startswith("Слишком много неудачных попыток входа")
    assert "15 мин" in body["detail"]
    assert int(locked["Retry-After"]) == 15 * 60
    # The same employee from another address, another employee from the same one: not affected.
    assert obtain_from(api_client, "10.9.9.9", operator.email).status_code == 200
    assert obtain_from(api_client, "10.0.0.1", accountant.email).status_code == 200


def test_failures_spread_over_addresses_lock_nobody_out(api_client, operator):
    fail_five_times(api_client, ip_for=lambda n: f"10.0.0.{n + 1}", email_for=lambda n: operator.email)
    assert obtain_from(api_client, "10.0.0.1", operator.email).status_code == 200


def test_address_ceiling_against_password_spraying(api_client, operator, accountant, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for n in range(8):  # one address, a new e-mail every time: no pair reaches five
        assert obtain_from(api_client, "10.1.1.1", f"guess{n % 4}@test.travelcrm", "wrong").status_code == 401
    assert_error_format(obtain_from(api_client, "10.1.1.1", operator.email), 429, "too_many_login_attempts")
    assert obtain_from(api_client, "10.2.2.2", accountant.email).status_code == 200


def test_lockout_counts_case_insensitive_emails(api_client, operator):
    fail_five_times(api_client, ip_for=lambda n: "10.3.0.1",
                    email_for=lambda n: operator.email.upper() if n % 2 else operator.email)
    assert obtain_from(api_client, "10.3.0.1", operator.email).status_code == 429


def test_forwarded_address_counts_only_behind_a_trusted_proxy(api_client, operator, settings):
    def forwarded(client, password):
        return api_client.post(
            "/api/v1/auth/token/", {"email": operator.email, "password": password}, format="json",
            REMOTE_ADDR="10.7.0.1", HTTP_X_FORWARDED_FOR=client,
        )

    # Not trusted: a forged header does not move the attacker to another bucket.
    for n in range(5):
        assert forwarded(f"203.0.113.{n}", "wrong").status_code == 401
    assert forwarded("203.0.113.99", TEST_PASSWORD).status_code == 429
    # Behind the trusted proxy, each client address is its own pair.
    settings.TRUSTED_PROXIES = ["10.7.0.0/24"]
    assert forwarded("203.0.113.50", TEST_PASSWORD).status_code == 200


def test_lockout_lifted_after_the_window(api_client, operator):
    fail_five_times(api_client, ip_for=lambda n: "10.4.4.4", email_for=lambda n: operator.email)
    assert obtain_from(api_client, "10.4.4.4", operator.email).status_code == 429
    # Time travel: the failures happened 16 minutes ago, past the 15-minute window.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert obtain_from(api_client, "10.4.4.4", operator.email).status_code == 200


def test_lockout_lifted_by_axes_reset(api_client, operator):
    fail_five_times(api_client, ip_for=lambda n: "10.5.5.5", email_for=lambda n: operator.email)
    assert obtain_from(api_client, "10.5.5.5", operator.email).status_code == 429
    axes_reset(username=operator.email)
    axes_reset(ip="10.5.5.5")
    assert obtain_from(api_client, "10.5.5.5", operator.email).status_code == 200


def test_four_failures_then_success_resets_the_count(api_client, operator):
    for _ in range(4):
        assert obtain_from(api_client, "10.6.6.6", operator.email, "wrong").status_code == 401
    assert obtain_from(api_client, "10.6.6.6", operator.email).status_code == 200
    for _ in range(4):
        assert obtain_from(api_client, "10.6.6.6", operator.email, "wrong").status_code == 401
    assert obtain_from(api_client, "10.6.6.6", operator.email).status_code == 200
