"""Structured logging (issue 3, point 8): one JSON object per line on stdout, request context on
every line, and no passwords, tokens or personal data in any part of a record."""

import io
import json
import logging
import time

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


# --- The development server's own request lines (issue 12, point 8) ----------------------------------

PERSONAL = ("79161234567", "9161234567", "anna@example.com", "anna%40example.com", "4510 123456",
            "4510%20123456", "4510123456", "Anna.Petrova")


@pytest.fixture
def dev_server():
    """Django's development server (runserver's WSGIServer and request handler) on a free port."""
    import threading

    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer, get_internal_wsgi_application

    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_dev_server_lines_are_json_and_carry_no_personal_data(dev_server, log_lines, capsys):
    import httpx

    queries = [
        ("GET", "/api/v1/leads/?phone=%2B79161234567&email=anna%40example.com"),  # 401
        ("GET", "/api/v1/clients/?passport=4510%20123456&ordering=-created_at"),  # 401
        ("GET", "/nowhere/?phone=89161234567&q=Anna.Petrova"),  # 404
        ("GET", "/form/?email=anna@example.com&x=%2B7%20916%20123-45-67"),  # 200
        ("POST", "/api/v1/auth/token/?email=anna@example.com&passport=4510123456"),  # 400
    ]
    with httpx.Client(base_url=dev_server, timeout=10) as http:
        statuses = [http.request(method, url, json={}).status_code for method, url in queries]
    assert statuses == [401, 401, 404, 200, 400]

    def server_lines_now():
        lines = log_lines()  # every line is one JSON object, or this raises
        return lines, [line for line in lines if line["logger"] == "django.server"]

    # The server thread writes a request's line after the response has gone out: wait for the last one.
    deadline = time.monotonic() + 10
    lines, server_lines = server_lines_now()
    while len(server_lines) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
        lines, server_lines = server_lines_now()
    # every 4xx request line came through the project's handler, scrubbed
    assert len(server_lines) == 4, server_lines
    assert any("phone=***&email=***" in line["message"] for line in server_lines)
    assert all("socket" not in json.dumps(line) for line in server_lines)
    captured = capsys.readouterr()
    text = json.dumps(lines, ensure_ascii=False) + captured.out + captured.err
    for value in PERSONAL:
        assert value not in text, value
    assert "GET /" not in captured.err  # nothing fell through to Python's last-resort printer


def test_query_strings_are_scrubbed_in_any_message(log_lines):
    logging.getLogger("travelcrm.test").warning(
        "called %s", "/api/v1/clients/?phone=8%20(916)%20123-45-67&search=Anna.Petrova&page=2"
    )
    [line] = [line for line in log_lines() if line["logger"] == "travelcrm.test"]
    assert line["message"] == "called /api/v1/clients/?phone=***&search=***&page=2"
