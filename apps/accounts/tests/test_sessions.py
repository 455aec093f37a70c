"""Sessions end when they should: password change, log out everywhere, role change, reuse, max age."""

from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import RefreshTokenFamily, Role, User
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-long-passphrase-77"


def sign_in(email: str, password: str = TEST_PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me(access: str) -> int:
    return APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def refresh(token: str):
    return APIClient().post("/api/v1/auth/token/refresh/", {"refresh": token}, format="json")


def as_bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_password_change_ends_every_other_session(operator):
    phone, laptop = sign_in(operator.email), sign_in(operator.email)
    response = as_bearer(laptop["access"]).post(
        "/api/v1/auth/password/", {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    fresh = response.json()
    # Access tokens issued before the change are refused at once; refresh tokens too.
    for access in (phone["access"], laptop["access"]):
        assert me(access) == 401
    for old in (phone["refresh"], laptop["refresh"]):
        assert refresh(old).status_code == 401
    # The caller goes on with the pair it was given; the new password signs in, the old does not.
    assert me(fresh["access"]) == 200
    assert refresh(fresh["refresh"]).status_code == 200
    sign_in(operator.email, NEW_PASSWORD)
    assert APIClient().post(
        "/api/v1/auth/token/", {"email": operator.email, "password": TEST_PASSWORD}, format="json"
    ).status_code == 401


def test_password_change_bad_input(operator):
    api = as_bearer(sign_in(operator.email)["access"])
    failed = []
    user_login_failed.connect(receiver := lambda **kwargs: failed.append(kwargs), weak=False)
    try:
        wrong = api.post("/api/v1/auth/password/", {"old_password": "nope", "new_password": NEW_PASSWORD},
                         format="json")
    finally:
        user_login_failed.disconnect(receiver)
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_password"
    assert "old_password" in wrong.json()["fields"] and len(failed) == 1  # the standard signal, for audit
    weak = api.post("/api/v1/auth/password/", {"old_password": TEST_PASSWORD, "new_password": "12345678"},
                    format="json")
    assert weak.status_code == 400 and weak.json()["fields"]["new_password"]
    same = api.post("/api/v1/auth/password/", {"old_password": TEST_PASSWORD, "new_password": TEST_PASSWORD},
                    format="json")
    assert same.status_code == 400 and "new_password" in same.json()["fields"]
    missing = api.post("/api/v1/auth/password/", {"old_password": TEST_PASSWORD}, format="json")
    assert missing.status_code == 400 and "new_password" in missing.json()["fields"]
    assert APIClient().post("/api/v1/auth/password/", {}, format="json").status_code == 401
    User.objects.get(pk=operator.pk).check_password(TEST_PASSWORD)


def test_wrong_old_passwords_count_like_logins(operator):
    api = as_bearer(sign_in(operator.email)["access"])
    body = {"old_password": "guess", "new_password": NEW_PASSWORD}
    for _ in range(4):
        assert api.post("/api/v1/auth/password/", body, format="json").status_code == 400
    assert api.post("/api/v1/auth/password/", body, format="json").status_code == 429  # the fifth locks
    locked = api.post("/api/v1/auth/password/", {**body, "old_password": TEST_PASSWORD}, format="json")
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_login_attempts"
    assert User.objects.get(pk=operator.pk).check_password(TEST_PASSWORD)


def test_logout_all_ends_every_session_and_sends_the_signal(operator, supervisor):
    sessions = [sign_in(operator.email) for _ in range(2)]
    other_person = sign_in(supervisor.email)
    logged_out = []
    user_logged_out.connect(receiver := lambda **kwargs: logged_out.append(kwargs["user"]), weak=False)
    try:
        assert as_bearer(sessions[0]["access"]).post("/api/v1/auth/logout-all/").status_code == 205
    finally:
        user_logged_out.disconnect(receiver)
    assert [user.pk for user in logged_out] == [operator.pk]
    for session in sessions:
        assert me(session["access"]) == 401 and refresh(session["refresh"]).status_code == 401
    assert me(other_person["access"]) == 200 and refresh(other_person["refresh"]).status_code == 200
    again = sign_in(operator.email)  # signing in again works
    assert me(again["access"]) == 200


def test_me_stays_one_statement_with_the_stamp(operator, django_assert_max_num_queries):
    tokens = sign_in(operator.email)
    User.objects.filter(pk=operator.pk).update(tokens_valid_after=timezone.now() - timedelta(minutes=5))
    client = as_bearer(tokens["access"])
    with django_assert_max_num_queries(1):
        assert client.get("/api/v1/auth/me/").status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(operator):
    first = sign_in(operator.email)
    other = sign_in(operator.email)  # another device: its own family
    second = refresh(first["refresh"]).json()
    reused = refresh(first["refresh"])  # the old one again: stolen, or replayed
    assert reused.status_code == 401
    assert refresh(second["refresh"]).status_code == 401  # the whole family is gone
    assert RefreshTokenFamily.objects.filter(revoked_reason="reuse").count() == 1
    assert refresh(other["refresh"]).status_code == 200


def test_a_family_lives_at_most_jwt_refresh_max_days(operator, settings):
    settings.JWT_REFRESH_MAX_DAYS = 30
    tokens = sign_in(operator.email)
    family = RefreshTokenFamily.objects.get()
    RefreshTokenFamily.objects.filter(pk=family.pk).update(created_at=timezone.now() - timedelta(days=29, hours=23))
    rotated = refresh(tokens["refresh"])
    assert rotated.status_code == 200
    # the sliding 7 days would say a week; the family's 30 days say one more hour
    expires = RefreshToken(rotated.json()["refresh"])["exp"]
    assert expires <= (family.created_at - timedelta(days=29, hours=23) + timedelta(days=30)).timestamp() + 5
    RefreshTokenFamily.objects.filter(pk=family.pk).update(created_at=timezone.now() - timedelta(days=31))
    expired = refresh(rotated.json()["refresh"])
    assert expired.status_code == 401 and expired.json()["code"] == "session_expired"


def admin_client(user) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": user.email, "password": TEST_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    return client


def _change_form(user: User, **changes) -> dict:
    data = {"email": user.email, "full_name": user.full_name, "role": user.role, "is_active": "on",
            "is_staff": "on", "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "10:00:00"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("change", ["role", "deactivate", "password"])
def test_admin_role_change_deactivation_and_password_end_the_sessions(make_user, admin_user, change):
    employee = make_user(Role.OPERATOR)
    tokens = sign_in(employee.email)
    admin = admin_client(admin_user)
    if change == "password":
        response = admin.post(f"/admin/accounts/user/{employee.pk}/password/",
                              {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    else:
        changes = {"role": Role.ACCOUNTANT} if change == "role" else {"is_active": None}
        response = admin.post(f"/admin/accounts/user/{employee.pk}/change/", _change_form(employee, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert me(tokens["access"]) == 401 and refresh(tokens["refresh"]).status_code == 401
    if change == "deactivate":  # back in service, the old tokens stay dead
        User.objects.filter(pk=employee.pk).update(is_active=True)
        assert me(tokens["access"]) == 401
    # An edit that changes neither role nor activity ends nothing.
    fresh = sign_in(employee.email, NEW_PASSWORD if change == "password" else TEST_PASSWORD)
    employee = User.objects.get(pk=employee.pk)
    response = admin.post(f"/admin/accounts/user/{employee.pk}/change/",
                          _change_form(employee, full_name="Новое Имя"))
    assert response.status_code == 302
    assert me(fresh["access"]) == 200


def test_old_sessions_are_purged(operator):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from apps.accounts.tasks import sessions_purge_daily

    old, current = sign_in(operator.email), sign_in(operator.email)
    old_family = RefreshTokenFamily.objects.get(pk=RefreshToken(old["refresh"])["fam"])
    RefreshTokenFamily.objects.filter(pk=old_family.pk).update(created_at=timezone.now() - timedelta(days=31))
    OutstandingToken.objects.filter(jti=RefreshToken(old["refresh"])["jti"]).update(
        expires_at=timezone.now() - timedelta(days=1))
    assert sessions_purge_daily(timestamp=0) == {"families": 1, "tokens": 1}
    assert RefreshTokenFamily.objects.count() == 1 and refresh(current["refresh"]).status_code == 200
    assert refresh(old["refresh"]).status_code == 401
