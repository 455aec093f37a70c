"""Structured logging (issue 3, point 8): one JSON object per line on stdout, request context on
every line, and no passwords, tokens or personal data in any part of a record."""

import io
import json
import logging

import pytest

from conftest import TEST_PASSWORD
from travelcrm.logging import JsonFormatter


@pytest.fixture
def log_lines():
    """The project's stdout handler (as configured in settings.LOGGING), writing into a buffer."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def read() -> list[dict]:
        lines = buffer.getvalue().splitlines()
        return [json.loads(line) for line in lines]  # every line is one JSON object

    yield read
    handler.setStream(previous)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "travelcrm.request"]


def test_access_line_has_every_field(client, log_lines):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="trace-abc-123")
    assert response["X-Request-ID"] == "trace-abc-123"
    [line] = request_lines(log_lines())
    assert set(line) >= {"time", "level", "logger", "message", "request_id", "user_id", "method", "path",
                         "status", "duration_ms"}
    assert line["request_id"] == "trace-abc-123"
    assert line["level"] == "INFO" and line["method"] == "GET" and line["path"] == "/health/live"
    assert line["status"] == 200 and line["user_id"] is None
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_request_id_generated_when_missing_or_unsafe(client, log_lines):
    generated = client.get("/health/live")["X-Request-ID"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    unsafe = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert " " not in unsafe and len(unsafe) == 32
    ids = [line["request_id"] for line in request_lines(log_lines())]
    assert ids == [generated, unsafe]


@pytest.mark.django_db
def test_user_id_of_a_jwt_user_on_the_access_line(api_client, operator, log_lines):
    token = api_client.post("/api/v1/auth/token/", {"email": operator.email, "password": TEST_PASSWORD},
                            format="json").json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    api_client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID="me-1")
    me_line = next(line for line in request_lines(log_lines()) if line["request_id"] == "me-1")
    assert me_line["user_id"] == operator.pk
    assert me_line["status"] == 200


def test_lines_logged_during_a_request_carry_its_id(client, log_lines, settings):
    settings.ROOT_URLCONF = "tests.urls"
    from django.test import Client

    Client(raise_request_exception=False).get("/api/v1/_test/boom/", HTTP_X_REQUEST_ID="boom-1")
    lines = log_lines()
    error = next(line for line in lines if line["logger"] == "travelcrm.api")
    assert error["request_id"] == "boom-1" and error["level"] == "ERROR"
    assert "RuntimeError" in error["exception"]
    django_line = next(line for line in lines if line["logger"] == "django.request")
    assert django_line["request_id"] == "boom-1"


SECRETS = {
    "email": "ivan.petrov@mail.example",
    "phone": "+7 916 123-45-67",
    "phone2": "8 (495) 765 43 21",
    "passport": "45 12 345678",
    "foreign_passport": "75 1234567",
    "password": "Sup3r-Secret!",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJlLXZhbHVl",
    "bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
}


def assert_clean(text: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked: {text}"
    assert "45 12" not in text and "916 123" not in text


def test_filter_scrubs_message_and_args(log_lines):
    logger = logging.getLogger("apps.clients")
    logger.warning("client %s phone %s passport %s", SECRETS["email"], SECRETS["phone"], SECRETS["passport"])
    logger.info("login password=%s token: %s", SECRETS["password"], SECRETS["jwt"])
    logger.info("header Authorization: Bearer %s, bot %s", SECRETS["jwt"], SECRETS["bot_token"])
    logger.info("second phone %s foreign %s", SECRETS["phone2"], SECRETS["foreign_passport"])
    logger.info('payload {"password": "%s", "email": "%s"}', SECRETS["password"], SECRETS["email"])
    lines = log_lines()
    assert len(lines) == 5
    text = json.dumps(lines, ensure_ascii=False)
    assert_clean(text)
    assert "[email]" in lines[0]["message"] and "[phone]" in lines[0]["message"]
    assert "[passport]" in lines[0]["message"]


def test_filter_scrubs_extras_nested(log_lines):
    logging.getLogger("apps.leads").info(
        "incoming message",
        extra={"sender": {"email": SECRETS["email"], "phones": [SECRETS["phone"]]},
               "text": f"my passport {SECRETS['passport']}", "auth": f"Bearer {SECRETS['jwt']}"},
    )
    [line] = log_lines()
    assert_clean(json.dumps(line, ensure_ascii=False))
    assert line["sender"]["email"] == "[email]"


def test_filter_scrubs_exception_text(log_lines):
    try:
        raise ValueError(f"cannot save {SECRETS['email']} / {SECRETS['phone']} password={SECRETS['password']}")
    except ValueError:
        logging.getLogger("apps.orders").exception("save failed for %s", SECRETS["passport"])
    [line] = log_lines()
    assert "ValueError" in line["exception"]
    assert_clean(json.dumps(line, ensure_ascii=False))


def test_filter_keeps_ordinary_numbers(log_lines):
    logging.getLogger("apps.finance").info("order 2026-000123 total 150000.00 RUB on 2026-11-26 12:30:00")
    [line] = log_lines()
    assert line["message"] == "order 2026-000123 total 150000.00 RUB on 2026-11-26 12:30:00"


@pytest.mark.django_db
def test_login_with_wrong_password_leaks_nothing(api_client, operator, log_lines):
    api_client.post("/api/v1/auth/token/", {"email": operator.email, "password": SECRETS["password"]},
                    format="json")
    for _ in range(5):
        api_client.post("/api/v1/auth/token/", {"email": operator.email, "password": "x"}, format="json")
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert operator.email not in text and SECRETS["password"] not in text
