import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import Role
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
