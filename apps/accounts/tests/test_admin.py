"""The admin: Russian, titled «Travel CRM», users managed by supervisors with the same permissions as the API."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.accounts.models import Role, User
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

USERS_URL = "/admin/accounts/user/"


def admin_login(user) -> Client:
    """Log in through the admin's own login form (axes and all), as a person would."""
    client = Client()
    response = client.post("/admin/login/", {"username": user.email, "password": TEST_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def test_admin_login_page_is_russian_and_titled():
    html = Client().get("/admin/login/").content.decode()
    assert '<html lang="ru"' in html
    assert "Travel CRM" in html
    assert "Пароль" in html


def test_supervisor_pages_render_in_russian(supervisor, operator):
    client = admin_login(supervisor)
    index = client.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "<title>Сегодня | Travel CRM</title>" in html  # the home page is «Сегодня» (apps.workplace)
    assert "Travel CRM" in html and "Выйти" in html and "Пользователи" in html
    for url in (USERS_URL, f"{USERS_URL}add/", f"{USERS_URL}{operator.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ru"' in response.content.decode()
    assert "Добавить пользователя" in client.get(f"{USERS_URL}add/").content.decode()


def test_supervisor_creates_and_edits_users(supervisor):
    client = admin_login(supervisor)
    response = client.post(
        f"{USERS_URL}add/",
        {"email": "New.Person@Test.Travelcrm", "full_name": "Новый Сотрудник", "role": Role.ACCOUNTANT,
         "password1": "Very-strong-pass-1", "password2": "Very-strong-pass-1", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="new.person@test.travelcrm")
    assert created.role == Role.ACCOUNTANT
    assert list(created.groups.values_list("name", flat=True)) == ["accountant"]


def test_supervisor_cannot_grant_superuser(supervisor, operator):
    client = admin_login(supervisor)
    form = client.get(f"{USERS_URL}{operator.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in form
    assert 'name="user_permissions"' not in form and 'name="groups"' not in form
    response = client.post(
        f"{USERS_URL}{operator.pk}/change/",
        {"email": operator.email, "full_name": "Повышенный", "role": Role.OPERATOR, "is_active": "on",
         "is_staff": "on", "is_superuser": "on", "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    operator.refresh_from_db()
    assert operator.full_name == "Повышенный"
    assert operator.is_superuser is False


def test_supervisor_cannot_edit_an_administrator(supervisor, admin_user):
    client = admin_login(supervisor)
    page = client.get(f"{USERS_URL}{admin_user.pk}/change/")
    assert page.status_code == 200  # read-only view
    assert 'name="_save"' not in page.content.decode()
    response = client.post(f"{USERS_URL}{admin_user.pk}/change/", {"email": "taken@over.example", "role": "operator"})
    assert response.status_code == 403
    assert client.get(f"/admin/accounts/user/{admin_user.pk}/password/").status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.email == "root@test.travelcrm"


def test_administrator_can_grant_superuser(admin_user, operator):
    client = admin_login(admin_user)
    assert 'name="is_superuser"' in client.get(f"{USERS_URL}{operator.pk}/change/").content.decode()


def test_operator_cannot_manage_users(operator):
    client = admin_login(operator)
    assert client.get("/admin/").status_code == 200
    assert client.get(USERS_URL).status_code == 403


def test_admin_login_lockout_in_russian(operator):
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": operator.email, "password": "wrong"})
    response = client.post("/admin/login/", {"username": operator.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа" in response.content.decode()


@pytest.mark.urls("tests.urls")
def test_group_permissions_serve_the_api_and_the_admin_alike(operator, client_as):
    """One source of truth: granting a permission to a role's group opens it in both doors."""
    api = client_as(operator)
    admin = admin_login(operator)
    assert api.get("/api/v1/_test/users/").status_code == 403
    assert admin.get(USERS_URL).status_code == 403

    Group.objects.get(name="operator").permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="view_user")
    )
    operator = User.objects.get(pk=operator.pk)  # fresh object, no cached permissions
    api = client_as(operator)
    response = api.get("/api/v1/_test/users/?page_size=1")
    assert response.status_code == 200
    assert set(response.json()) == {"count", "count_is_estimate", "next", "previous", "results"}
    assert len(response.json()["results"]) == 1
    assert admin.get(USERS_URL).status_code == 200
    # View only: changing is still refused in both.
    assert admin.post(f"{USERS_URL}{operator.pk}/change/", {}).status_code == 403


@pytest.mark.urls("tests.urls")
def test_pagination_page_size_is_capped_at_200(supervisor_api):
    User.objects.bulk_create(User(email=f"bulk{n}@test.travelcrm", role=Role.OPERATOR) for n in range(205))
    body = supervisor_api.get("/api/v1/_test/users/?page_size=1000").json()
    assert body["count"] == User.objects.count() > 200
    assert len(body["results"]) == 200
    assert body["next"].endswith("page=2&page_size=1000")
    page = supervisor_api.get("/api/v1/_test/users/?page_size=2&page=2").json()
    assert page["previous"] and len(page["results"]) == 2
    assert supervisor_api.get("/api/v1/_test/users/").json()["results"].__len__() == 50
    response = supervisor_api.get("/api/v1/_test/users/?page=999")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def _edit_data(user, **changes):
    data = {"email": user.email, "full_name": user.full_name, "role": user.role, "is_active": "on",
            "is_staff": "on", "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00",
            "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "10:00:00"}
    data.update(changes)
    return data


def test_a_supervisor_cannot_take_over_another_supervisor(make_user, admin_user, operator):
    me, peer = make_user(Role.SUPERVISOR), make_user(Role.SUPERVISOR)
    client = admin_login(me)
    new_password = {"password1": "Brand-new-pass-2026!", "password2": "Brand-new-pass-2026!", "usable_password": "true"}
    assert client.get(f"{USERS_URL}{peer.pk}/password/").status_code == 403
    assert client.post(f"{USERS_URL}{peer.pk}/password/", new_password).status_code == 403
    page = client.get(f"{USERS_URL}{peer.pk}/change/").content.decode()
    assert 'name="email"' not in page and 'name="role"' not in page  # shown, not editable
    response = client.post(f"{USERS_URL}{peer.pk}/change/",
                           _edit_data(peer, email="mine@evil.example", role=Role.OPERATOR, full_name="Пётр Коллега"))
    assert response.status_code == 302
    peer.refresh_from_db()
    assert peer.email != "mine@evil.example" and peer.role == Role.SUPERVISOR and peer.full_name == "Пётр Коллега"
    assert peer.check_password(TEST_PASSWORD)
    # Staff below them and their own account remain theirs to manage.
    assert client.post(f"{USERS_URL}{operator.pk}/password/", new_password).status_code == 302
    assert client.post(f"{USERS_URL}{operator.pk}/change/",
                       _edit_data(operator, email="renamed@test.travelcrm")).status_code == 302
    operator.refresh_from_db()
    assert operator.email == "renamed@test.travelcrm" and operator.check_password("Brand-new-pass-2026!")
    assert client.get(f"{USERS_URL}{me.pk}/password/").status_code == 200
    # An administrator may change a supervisor's e-mail and password.
    root = admin_login(admin_user)
    assert root.post(f"{USERS_URL}{peer.pk}/password/", new_password).status_code == 302
    assert root.post(f"{USERS_URL}{peer.pk}/change/", _edit_data(peer, email="peer2@test.travelcrm")).status_code == 302
    peer.refresh_from_db()
    assert peer.email == "peer2@test.travelcrm" and peer.check_password("Brand-new-pass-2026!")
