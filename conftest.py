"""Fixtures shared by every app's tests: users per role and API clients authenticated as them."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.models import Role, User

TEST_PASSWORD = "Test-password-2026!"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 costs ~0.3 s per user on this machine; tests do not need it strong."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def _make_user(role: str = Role.OPERATOR, **extra) -> User:
        number = next(counter)
        extra.setdefault("email", f"{role}{number}@test.travelcrm")
        extra.setdefault("full_name", f"Тест {role} {number}")
        return User.objects.create_user(password=TEST_PASSWORD, role=role, **extra)

    return _make_user


@pytest.fixture
def operator(make_user):
    return make_user(Role.OPERATOR)


@pytest.fixture
def accountant(make_user):
    return make_user(Role.ACCOUNTANT)


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


@pytest.fixture
def admin_user(make_user):
    return User.objects.create_superuser(email="root@test.travelcrm", password=TEST_PASSWORD)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_as():
    """client_as(user) -> an APIClient authenticated as that user (JWT is tested in accounts)."""

    def _client_as(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return _client_as


@pytest.fixture
def operator_api(client_as, operator):
    return client_as(operator)


@pytest.fixture
def accountant_api(client_as, accountant):
    return client_as(accountant)


@pytest.fixture
def supervisor_api(client_as, supervisor):
    return client_as(supervisor)


@pytest.fixture(autouse=True)
def _fresh_row_estimates():
    """apps.core.paging keeps planner estimates per process for a minute: none may leak between tests."""
    from apps.core import paging

    paging._estimates.clear()
    paging._over_limit_until.clear()


@pytest.fixture(autouse=True)
def _empty_job_queue(request, django_db_blocker):
    """The job queue's tables are not Django-managed, so a transactional test's flush keeps them:
    empty them around such a test, so none sees another's (failed) jobs."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction"))

    def empty():
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers,"
                " procrastinate_workers"
            )

    if transactional:
        empty()
    yield
    if transactional:
        empty()


@pytest.fixture
def other_process_holding(db, settings):
    """Another web process (its own PostgreSQL session) holding heavy slots (apps.core.heavy):
    `other_process_holding(0, 1)` takes slots 0 and 1 until the test ends. HEAVY_REQUEST_SLOTS is 2."""
    import psycopg
    from django.db import connection

    from apps.core.heavy import LOCK_CLASS

    settings.HEAVY_REQUEST_SLOTS = 2
    # A streamed response a test never read gives its slot back only when closed; start clean.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")
    params = connection.get_connection_params()
    held = []
    with psycopg.connect(**{k: v for k, v in params.items() if k in {"host", "port", "user", "dbname", "password"}},
                         autocommit=True) as other:
        def hold(*slots):
            for slot in slots:
                assert other.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, slot]).fetchone()[0]
                held.append(slot)
        yield hold
        for slot in held:
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, slot])


def fetch_download(url: str) -> tuple[bytes, dict]:
    """Body and headers of a download link: the app's own /files/ link (stored files are encrypted,
    issue 14) through the test client, an absolute (pre-signed S3) link over HTTP."""
    import urllib.request

    from django.test import Client as _Browser

    if url.startswith("/"):
        response = _Browser().get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return body, {key: value for key, value in response.items()}
    with urllib.request.urlopen(url, timeout=10) as download:  # noqa: S310 (local S3)
        return download.read(), dict(download.headers)
