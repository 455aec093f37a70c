"""Deployment files (issue 3, point 10). No Docker engine runs here, so the files are read and
checked against the code: services, images, ports, volumes, health checks, commands, env names."""

import re
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

from tests.test_settings import settings_variables

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "API_PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS",
    "LOG_MAX_SIZE", "LOG_MAX_FILES", "BACKUP_HOST_DIR",
}
REQUIRED_SECRETS = {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "ADMIN_PASSWORD"}


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def override() -> dict:
    return load("docker-compose.override.yml")


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def referenced_variables(text: str) -> set[str]:
    return set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))


def env_example_names() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


def command_text(service: dict) -> str:
    command = service.get("command") or service.get("entrypoint") or ""
    return " ".join(command) if isinstance(command, list) else command


def test_services(compose):
    assert set(compose["services"]) >= {"api", "worker", "db", "minio", "createbucket"}
    assert compose["services"]["db"]["image"] == "postgres:16"
    assert compose["services"]["minio"]["image"].startswith("minio/minio")
    assert compose["services"]["createbucket"]["image"].startswith("minio/mc")
    assert compose["services"]["api"]["build"]["context"] == "."


def test_worker_runs_the_jobs_with_the_api_settings(compose):
    api, worker = compose["services"]["api"], compose["services"]["worker"]
    assert worker["image"] == api["image"], "the worker runs the very code of the API"
    assert command_text(worker) == "python manage.py worker"
    assert worker["environment"] == {k: v for k, v in api["environment"].items() if k != "GUNICORN_CMD_ARGS"}
    assert worker["depends_on"] == {"api": {"condition": "service_healthy"}}, "the API migrates first"
    assert worker["restart"] == "unless-stopped" and worker["stop_grace_period"]
    assert "ports" not in worker
    assert any(volume.endswith(":/backups") for volume in worker["volumes"])
    assert api["environment"]["BACKUP_DIR"] == "/backups"


def test_image_carries_the_servers_own_pg_dump(compose, dockerfile):
    server_major = compose["services"]["db"]["image"].split(":")[1].split("-")[0]
    assert f"COPY --from=postgres:{server_major}-bookworm /usr/lib/postgresql/{server_major}/bin/pg_dump" in dockerfile
    assert f"ENV BACKUP_PG_BIN_DIR=/usr/lib/postgresql/{server_major}/bin" in dockerfile


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.override.yml"])
def test_every_service_limits_its_logs(name):
    for service_name, service in load(name)["services"].items():
        logging = service.get("logging") or {}
        assert logging.get("driver") == "json-file", f"{service_name} has no log limits"
        assert logging["options"]["max-size"] and logging["options"]["max-file"]


def test_volumes_keep_the_data(compose):
    assert set(compose["volumes"]) >= {"pgdata", "miniodata"}
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    minio = compose["services"]["minio"]
    data_dir = minio["command"].split()[1]
    assert f"miniodata:{data_dir}" in minio["volumes"]


def test_health_checks_and_start_order(compose):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["minio"]["healthcheck"]["test"]
    api = services["api"]
    assert "/health/live" in " ".join(api["healthcheck"]["test"])
    assert api["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "minio": {"condition": "service_healthy"},
        "createbucket": {"condition": "service_completed_successfully"},
    }
    assert services["createbucket"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert resolve("/health/live").url_name == "health-live"


def test_ports(compose):
    api_ports = compose["services"]["api"]["ports"]
    assert any(port.endswith(":8000") for port in api_ports)
    assert "ports" not in compose["services"]["db"], "PostgreSQL stays inside the compose network"
    minio_ports = compose["services"]["minio"]["ports"]
    assert all(port.startswith("127.0.0.1:") for port in minio_ports)


def test_the_web_server_has_threads_beyond_the_heavy_slots(compose):
    """A slow report holds one thread; quick requests still find free ones (HEAVY_REQUEST_SLOTS)."""
    from django.conf import settings

    args = compose["services"]["api"]["environment"]["GUNICORN_CMD_ARGS"]
    assert "--workers ${GUNICORN_WORKERS:-2}" in args and "--threads ${GUNICORN_THREADS:-4}" in args
    assert settings.HEAVY_REQUEST_SLOTS < 2 * 4


def test_idle_connections_outlive_the_proxys(compose, dockerfile):
    """A proxy reuses pooled connections for up to 2 min (Caddy): gunicorn's default 2 s keep-alive
    closed them first and a POST sent on a closed one was reset (bench/load.py found it)."""
    assert "--keep-alive 130" in compose["services"]["api"]["environment"]["GUNICORN_CMD_ARGS"]
    assert "--keep-alive 130" in dockerfile


def test_commands(compose):
    api = command_text(compose["services"]["api"])
    assert api.index("migrate --noinput") < api.index("ensure_admin") < api.index("gunicorn travelcrm.wsgi:application")
    assert (ROOT / "travelcrm" / "wsgi.py").exists()
    bucket = command_text(compose["services"]["createbucket"])
    assert "mc mb --ignore-existing" in bucket and "S3_BUCKET" in bucket


def test_app_environment_matches_settings(compose):
    api_env = compose["services"]["api"]["environment"]
    known = settings_variables()
    unknown = set(api_env) - known - {"GUNICORN_CMD_ARGS"}
    assert not unknown, f"compose passes variables settings.py never reads: {sorted(unknown)}"
    assert set(api_env) >= REQUIRED_SECRETS | {"DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "S3_ENDPOINT_URL",
                                               "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"}
    assert api_env["DEBUG"] == "false"
    assert "@db:5432/" in api_env["DATABASE_URL"]
    assert api_env["S3_ENDPOINT_URL"] == "http://minio:9000"
    for secret in REQUIRED_SECRETS:
        assert api_env[secret].startswith(f"${{{secret}:?"), f"{secret} must be required, never defaulted"


def test_database_and_bucket_names_agree(compose):
    services = compose["services"]
    db_env = services["db"]["environment"]
    url = services["api"]["environment"]["DATABASE_URL"]
    assert url.startswith(f"postgres://{db_env['POSTGRES_USER']}:") and url.endswith(f"/{db_env['POSTGRES_DB']}")
    assert services["createbucket"]["environment"]["S3_BUCKET"] == services["api"]["environment"]["S3_BUCKET"]


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.override.yml"])
def test_every_referenced_variable_is_documented(name):
    missing = referenced_variables((ROOT / name).read_text()) - env_example_names()
    assert not missing, f"{name} uses variables not documented in .env.example: {sorted(missing)}"
    assert referenced_variables((ROOT / name).read_text()) <= settings_variables() | COMPOSE_ONLY


def test_override_adds_a_test_runner(override, dockerfile):
    tests = override["services"]["tests"]
    assert tests["profiles"] == ["test"], "the test runner must not start with a plain `docker compose up`"
    assert tests["build"]["target"] == "test"
    assert re.search(r"^FROM runtime AS test$", dockerfile, re.MULTILINE)
    command = command_text(tests)
    assert "pytest" in command and "ruff check" in command
    assert set(tests["environment"]) <= settings_variables()
    assert tests["environment"]["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert set(tests["depends_on"]) == {"db", "minio", "createbucket"}


def test_dockerfile(dockerfile):
    assert re.search(r"^FROM python:3\.11-slim AS runtime$", dockerfile, re.MULTILINE)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"):
        assert package in dockerfile
    assert "pip install -r requirements/base.txt" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] != "root", "the image must run as a non-root user"
    runtime = dockerfile.split("AS test")[0]
    assert re.findall(r"^USER (\S+)$", runtime, re.MULTILINE)[-1] == "app"
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"^HEALTHCHECK .*\n?.*/health/live", dockerfile, re.MULTILINE)
    assert 'CMD ["gunicorn", "travelcrm.wsgi:application"]' in dockerfile
    assert "EXPOSE 8000" in dockerfile


def test_dockerignore_keeps_secrets_and_local_data_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "var", ".git"} <= set(ignored)
