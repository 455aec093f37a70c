"""One error format for every 4xx/5xx of the API: {"code", "detail", "fields"} (issue 3, point 5)."""

import json

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from conftest import TEST_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]

TOKEN_URL = "/api/v1/auth/token/"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"code", "detail", "fields"} <= set(body), body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


def test_400_validation_errors_name_the_fields(api_client):
    response = api_client.post("/api/v1/_test/echo/", {"name": "x" * 11, "nights": 0})
    body = assert_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"name", "nights"}
    assert all(isinstance(m, str) for messages in body["fields"].values() for m in messages)


def test_400_malformed_json(api_client):
    response = api_client.post(TOKEN_URL, data='{"email": "a@b.c", "password": ', content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_400_missing_fields_on_login(api_client):
    body = assert_error(api_client.post(TOKEN_URL, {}, format="json"), 400, "validation_error")
    assert set(body["fields"]) == {"email", "password"}


def test_401_without_credentials(api_client):
    response = api_client.get("/api/v1/auth/me/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_401_with_a_garbage_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(api_client.get("/api/v1/auth/me/"), 401, "token_not_valid")


def test_403_role_without_the_permission(operator_api):
    assert_error(operator_api.get("/api/v1/_test/users/"), 403, "permission_denied")


def test_404_from_a_viewset(supervisor_api):
    assert_error(supervisor_api.get("/api/v1/_test/users/999999999/"), 404, "not_found")


def test_404_unknown_api_url_is_json(api_client):
    assert_error(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(api_client.get("/api/nothing-here"), 404, "not_found")


@override_settings(DEBUG=True)
def test_404_unknown_api_url_is_json_in_debug_mode_too(api_client):
    assert_error(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_404_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_405_wrong_method(api_client):
    response = api_client.get(TOKEN_URL)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_409_conflict_with_extra_keys(api_client):
    body = assert_error(api_client.post("/api/v1/_test/conflict/", {}, format="json"), 409, "duplicate")
    assert body["detail"] == "Такая запись уже есть."
    assert body["matches"] == [1, 2]


def test_413_oversized_json_body(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = json.dumps({"email": "a@b.c", "password": "x" * 2048})
    assert_error(api_client.post(TOKEN_URL, data=payload, content_type="application/json"), 413, "request_too_large")


def test_413_oversized_multipart_fields(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api_client.post(TOKEN_URL, {"email": "a@b.c", "password": "x" * 4096}, format="multipart")
    assert_error(response, 413, "request_too_large")


def test_415_wrong_content_type(api_client):
    response = api_client.post("/api/v1/_test/echo/", data="name=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    response = api_client.post(TOKEN_URL, data="<xml/>", content_type="application/xml")
    assert_error(response, 415, "unsupported_media_type")


def test_429_throttled_with_retry_after(api_client):
    cache.clear()
    assert api_client.get("/api/v1/_test/throttled/").status_code == 200
    response = api_client.get("/api/v1/_test/throttled/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_429_login_lockout(api_client, operator):
    for _ in range(5):
        api_client.post(TOKEN_URL, {"email": operator.email, "password": "wrong"}, format="json")
    response = api_client.post(TOKEN_URL, {"email": operator.email, "password": TEST_PASSWORD}, format="json")
    assert_error(response, 429, "too_many_login_attempts")


def _raw_client() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/api/v1/_test/boom/", "/api/v1/_test/plain-boom/"])
def test_500_is_json_with_request_id_and_no_traceback(url):
    response = _raw_client().get(url, HTTP_X_REQUEST_ID="req-500-test")
    body = assert_error(response, 500, "server_error")
    assert body["request_id"] == "req-500-test"
    assert response["X-Request-ID"] == "req-500-test"
    text = response.content.decode()
    assert "Traceback" not in text and "boom" not in text and "RuntimeError" not in text


@override_settings(DEBUG=True, DEBUG_PROPAGATE_EXCEPTIONS=False)
@pytest.mark.parametrize("url", ["/api/v1/_test/boom/", "/api/v1/_test/plain-boom/"])
def test_500_has_no_traceback_in_debug_mode_either(url):
    response = _raw_client().get(url)
    body = assert_error(response, 500, "server_error")
    assert body["request_id"]
    assert "Traceback" not in response.content.decode()


def test_500_is_logged_with_the_traceback(caplog):
    with caplog.at_level("ERROR"):
        _raw_client().get("/api/v1/_test/boom/", HTTP_X_REQUEST_ID="req-500-log")
    logged = [r for r in caplog.records if r.name == "travelcrm.api"]
    assert logged and "RuntimeError" in logged[0].exc_text
    assert logged[0].request_id == "req-500-log"


@pytest.mark.parametrize("body", [b"null", b"[1, 2]", b'"text"', b"5"])
def test_a_json_body_that_is_not_an_object_is_a_400(supervisor_api, body):
    """Found by schemathesis: `null` sent to the lead conversion was taken for "no fields" (201)."""
    response = supervisor_api.post("/api/v1/auth/logout-all/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Тело запроса должно быть JSON-объектом."
