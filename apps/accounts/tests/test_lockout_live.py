"""Lockout with real source addresses: a live server, clients bound to 127.0.0.2 and 127.0.0.3.

The address the lockout counts is the TCP peer (no header in play), exactly as in production
without a proxy: five wrong passwords for an employee from one address leave the employee free to
log in from the other (API, admin login form, and the ADMIN_PASSWORD gate of the integrations).
"""

import re

import httpx
import pytest

from apps.accounts.models import Role
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

ATTACKER, EMPLOYEE = "127.0.0.2", "127.0.0.3"
ADMIN_PASSWORD = "Live-admin-password-2026!"


@pytest.fixture
def base_url(live_server) -> str:
    # The server listens on the loopback; the clients pick their own source address on it.
    return f"http://127.0.0.1:{live_server.thread.port}"


def http_from(address: str, base_url: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base_url, transport=transport, timeout=10, follow_redirects=False)


def token(http: httpx.Client, email: str, password: str) -> httpx.Response:
    return http.post("/api/v1/auth/token/", json={"email": email, "password": password})


def test_api_login_from_another_address_stays_open(base_url, make_user):
    employee = make_user(Role.OPERATOR)
    with http_from(ATTACKER, base_url) as attacker, http_from(EMPLOYEE, base_url) as own:
        for _ in range(5):
            assert token(attacker, employee.email, "wrong").status_code == 401
        locked = token(attacker, employee.email, TEST_PASSWORD)
        assert locked.status_code == 429 and locked.json()["code"] == "too_many_login_attempts"
        assert token(own, employee.email, TEST_PASSWORD).status_code == 200


def admin_login(http: httpx.Client, email: str, password: str) -> httpx.Response:
    page = http.get("/admin/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return http.post(
        "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": csrf, "username": email, "password": password, "next": "/admin/"},
        headers={"Referer": f"{http.base_url}/admin/login/"},
    )


def test_admin_login_from_another_address_stays_open(base_url, make_user):
    employee = make_user(Role.SUPERVISOR)
    with http_from(ATTACKER, base_url) as attacker, http_from(EMPLOYEE, base_url) as own:
        for _ in range(4):
            assert admin_login(attacker, employee.email, "wrong").status_code == 200  # the form again
        assert admin_login(attacker, employee.email, "wrong").status_code == 429  # the fifth locks the pair
        assert admin_login(attacker, employee.email, TEST_PASSWORD).status_code == 429
        logged_in = admin_login(own, employee.email, TEST_PASSWORD)
        assert logged_in.status_code == 302 and logged_in.headers["location"] == "/admin/"


def test_admin_password_gate_from_another_address_stays_open(base_url, make_user, settings):
    settings.ADMIN_PASSWORD = ADMIN_PASSWORD
    supervisor = make_user(Role.SUPERVISOR)
    body = {"type": "email", "purpose": "sales", "imap_host": "127.0.0.1", "imap_user": "leads",
            "imap_password": "imap-secret"}
    with http_from(ATTACKER, base_url) as attacker, http_from(EMPLOYEE, base_url) as own:
        for http in (attacker, own):
            http.headers["Authorization"] = "Bearer " + token(http, supervisor.email, TEST_PASSWORD).json()["access"]
        add = "/api/v1/settings/integrations/add"
        for _ in range(5):
            assert attacker.post(add, json={**body, "admin_password": "guess"}).status_code == 403
        assert attacker.post(add, json={**body, "admin_password": ADMIN_PASSWORD}).status_code == 429
        assert own.post(add, json={**body, "admin_password": ADMIN_PASSWORD}).status_code == 201
