"""Settings from the environment (issue 3, point 2): production refuses missing or weak secrets at
start-up with one line naming the variable; `check --deploy` is clean with production settings;
every variable settings.py reads is documented in .env.example."""

import os
import re
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_VARIABLE = re.compile(r"""(?:\benv(?:\.\w+)?|_secret)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def settings_variables() -> set[str]:
    return set(SETTINGS_VARIABLE.findall((ROOT / "travelcrm" / "settings.py").read_text()))


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in settings_variables()}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        BLIND_INDEX_KEY=secrets.token_urlsafe(40),
        ADMIN_PASSWORD="Adm1n-" + secrets.token_urlsafe(12),
        ALLOWED_HOSTS="crm.agency.example",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/travelcrm"),
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def python(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "travelcrm.settings"},
        capture_output=True, text=True, timeout=120,
    )


BAD_SECRETS = [
    ("SECRET_KEY", "", "is not set"),
    ("SECRET_KEY", "short-secret", "too short"),
    ("SECRET_KEY", "ab" * 40, "too weak"),
    ("SECRET_KEY", "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz", "development value"),
    ("FIELD_ENCRYPTION_KEY", "", "is not set"),
    ("FIELD_ENCRYPTION_KEY", "not-a-fernet-key", "not a Fernet key"),
    ("FIELD_ENCRYPTION_KEY", "ZGV2LWluc2VjdXJlLWZlcm5ldC1rZXktMDEyMzQ1Njc=", "development value"),
    ("BLIND_INDEX_KEY", "", "is not set"),
    ("BLIND_INDEX_KEY", "short", "too short"),
    ("ADMIN_PASSWORD", "", "is not set"),
    ("ADMIN_PASSWORD", "admin", "too short"),
]


def test_missing_or_weak_secret_stops_start_up_with_one_line():
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: manage(production_env(**{case[0]: case[1]}), "check"), BAD_SECRETS))
    for (name, _value, reason), result in zip(BAD_SECRETS, results, strict=True):
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0, (name, reason, result.stdout)
        assert len(lines) == 1, (name, reason, result.stderr)
        assert lines[0].startswith(f"Configuration error: {name} "), lines[0]
        assert reason in lines[0], lines[0]


def test_dev_mode_starts_without_secrets():
    env = production_env(DEBUG="true", SECRET_KEY="", FIELD_ENCRYPTION_KEY="", BLIND_INDEX_KEY="", ADMIN_PASSWORD="")
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_lifetimes_and_limits_come_from_the_environment():
    env = production_env(JWT_ACCESS_MINUTES="5", JWT_REFRESH_DAYS="2", LOGIN_FAILURE_LIMIT="3",
                         LOGIN_COOLOFF_MINUTES="30", DB_CONN_MAX_AGE="0")
    result = python(env, "\n".join([
        "from django.conf import settings",
        "from rest_framework_simplejwt.tokens import RefreshToken",
        "refresh = RefreshToken()",
        "access = refresh.access_token",
        "print(access['exp'] - access['iat'], refresh['exp'] - refresh['iat'])",
        "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds())",
        "print(settings.DATABASES['default']['CONN_MAX_AGE'], settings.DEBUG, settings.LANGUAGE_CODE)",
    ]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["300", str(2 * 86400), "3", "1800.0", "0", "False", "ru"]


def test_production_mode_defaults():
    result = python(production_env(), "\n".join([
        "from django.conf import settings",
        "print(settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)",
        "print(settings.ALLOWED_HOSTS, settings.TIME_ZONE, settings.USE_TZ)",
        "print('rest_framework.renderers.BrowsableAPIRenderer' in settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'])",
        "print('whitenoise.middleware.WhiteNoiseMiddleware' in settings.MIDDLEWARE)",
    ]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "['crm.agency.example']", "Europe/Moscow", "True", "False",
                                     "True"]


def test_every_settings_variable_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    missing = settings_variables() - documented
    assert not missing, f"read in settings.py but not documented in .env.example: {sorted(missing)}"


@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "ADMIN_PASSWORD"])
def test_env_example_has_no_real_secrets(name):
    text = (ROOT / ".env.example").read_text()
    match = re.search(rf"^{name}=(.*)$", text, re.MULTILINE)
    assert match is not None, f"{name} missing from .env.example"
    assert match.group(1).strip() == "", f"{name} must be left empty in .env.example"


@pytest.mark.django_db
def test_prepared_statements_are_used_and_can_be_turned_off():
    """On by default: a query run more than 5 times on a connection is prepared by PostgreSQL."""
    from django.db import connection

    code = "\n".join([
        "from django.db import connection",
        "o = connection.settings_dict['OPTIONS']",
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))",
    ])
    on = python(production_env(), code)
    off = python(production_env(DB_PREPARED_STATEMENTS="false"), code)
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    assert on.stdout.split() == ["True", "5"]
    assert off.stdout.split() == ["None", "None"]

    from apps.accounts.models import User

    for _ in range(7):
        list(User.objects.filter(email="nobody@test.travelcrm"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1
