"""/health/live and /health/ready (issue 3, point 7): 200 when up, 503 naming what is down."""

import copy
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_live_is_200_without_touching_anything(client):
    # No django_db mark: a database query here would fail the test.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_answers_whatever_the_host(client, settings):
    """The container's HEALTHCHECK calls 127.0.0.1 even when ALLOWED_HOSTS names only the domain."""
    settings.ALLOWED_HOSTS = ["crm.agency.example"]
    response = client.get("/health/live", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response["X-Request-ID"]
    assert client.get("/admin/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_live_refuses_other_methods(client):
    assert client.post("/health/live").status_code == 405


@pytest.mark.django_db
def test_ready_is_200_when_database_and_storage_answer(client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "database": "ok",
        "storage": "ok",
        "jobs": "ok",
        "jobs_oldest_waiting_seconds": None,
        "worker_last_heartbeat_seconds": None,
    }


@pytest.mark.django_db
def test_ready_reports_job_lag_as_degraded_not_down(client, settings):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from apps.jobs.tasks import retry_stalled_jobs

    settings.JOB_LAG_DEGRADED_SECONDS = 60
    retry_stalled_jobs.configure(schedule_in={"seconds": -300}).defer(timestamp=0)  # due five minutes ago
    response = client.get("/health/ready")
    assert response.status_code == 200, "a late worker is not a reason to take the web server out"
    body = response.json()
    assert body["jobs"] == "degraded"
    assert 299 <= body["jobs_oldest_waiting_seconds"] < 400
    assert body["worker_last_heartbeat_seconds"] is None  # no worker ever ran
    assert ProcrastinateJob.objects.count() == 1


@pytest.mark.django_db
def test_ready_is_503_naming_storage_when_s3_is_down(client, settings):
    storages = copy.deepcopy(settings.STORAGES)
    storages["default"]["OPTIONS"]["endpoint_url"] = f"http://127.0.0.1:{closed_port()}"
    with override_settings(STORAGES=storages):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "ok" and response.json()["storage"] == "unavailable"


@pytest.mark.django_db
def test_ready_is_503_when_the_bucket_is_missing(client, settings):
    settings.S3_BUCKET = "no-such-bucket-travelcrm-health"
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["storage"] == "unavailable"


# A process configured with a wrong database: serves /health/live, reports the database on /ready.
WRONG_DATABASE_PROBE = """
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
client = Client()
live = client.get("/health/live")
ready = client.get("/health/ready")
print(live.status_code, ready.status_code, ready.content.decode())
"""


@pytest.mark.parametrize("database_url", [
    "postgres://postgres@127.0.0.1:{port}/travelcrm",           # no server there
    "postgres://postgres@127.0.0.1:5432/no_such_database_xyz",  # server up, database missing
])
def test_ready_is_503_naming_the_database_when_it_is_wrong(database_url):
    real = os.environ.get("DATABASE_URL", "")
    if "{port}" not in database_url and "127.0.0.1:5432" not in real:
        pytest.skip("needs the machine's PostgreSQL on 127.0.0.1:5432")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
        "DEBUG": "true",
        "DB_CONNECT_TIMEOUT": "2",
        "DATABASE_URL": database_url.format(port=closed_port()),
    }
    result = subprocess.run([sys.executable, "-c", WRONG_DATABASE_PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == '200 503 {"database": "unavailable", "storage": "ok"}', result.stdout
