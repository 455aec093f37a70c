"""OpenAPI (issue 3, point 6): a valid OpenAPI 3 schema, Swagger UI with JWT "Authorize", error shapes."""

from io import StringIO

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_yaml_is_served_too(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3")


def test_bearer_jwt_security_scheme(schema):
    schemes = schema["components"]["securitySchemes"]
    jwt = next(value for value in schemes.values() if value.get("scheme") == "bearer")
    assert jwt["type"] == "http" and jwt["bearerFormat"] == "JWT"
    name = next(key for key, value in schemes.items() if value is jwt)
    me = schema["paths"]["/api/v1/auth/me/"]["get"]
    assert {name: []} in me["security"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert token.get("security") in (None, [], [{}]) or {} in token["security"]


def test_every_operation_documents_request_response_and_errors(schema):
    assert "Error" in schema["components"]["schemas"]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) >= {"code", "detail", "fields"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation["responses"]
            successes = [code for code in responses if code[0] in "23"]  # a redirect to a file counts
            assert successes, f"{method.upper()} {path}: no success response"
            errors = [code for code in responses if code[0] in "45"]
            assert "500" in errors, f"{method.upper()} {path}: no 500 error shape"
            for code in errors:
                if "content" not in responses[code]:
                    continue  # declared on purpose without a body (e.g. a webhook's bare 403)
                ref = responses[code]["content"]["application/json"]["schema"].get("$ref")
                assert ref == "#/components/schemas/Error", f"{method.upper()} {path} {code}: {ref}"
            if method in {"post", "put", "patch"}:
                assert "400" in errors, f"{method.upper()} {path}: no 400"
            if operation.get("security") and {} not in operation["security"]:
                assert "401" in errors, f"{method.upper()} {path}: no 401"


def test_auth_endpoints_are_described(schema):
    paths = schema["paths"]
    token = paths["/api/v1/auth/token/"]["post"]
    body = token["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"email", "password"}
    assert {"200", "400", "401", "429"} <= set(token["responses"])
    assert {"200", "401"} <= set(paths["/api/v1/auth/token/refresh/"]["post"]["responses"])
    assert "205" in paths["/api/v1/auth/logout/"]["post"]["responses"]
    me = paths["/api/v1/auth/me/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    me_fields = set(schema["components"]["schemas"][me.rsplit("/", 1)[-1]]["properties"])
    assert me_fields >= {"id", "email", "role", "full_name", "permissions"}


def test_swagger_ui_loads_with_authorize(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/api/schema/" in html
    assert "persistAuthorization" in html


def test_spectacular_validate_fail_on_warn(tmp_path, capsys):
    """Every app's endpoints must generate without warnings (so Swagger shows real shapes).

    A failure lists drf-spectacular's warnings: fix them in the app that owns the endpoint
    (extend_schema, a serializer_class, or an ENUM_NAME_OVERRIDES entry for a shared choice name).
    """
    target = tmp_path / "schema.yaml"
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stdout=StringIO())
    except Exception as error:  # noqa: BLE001 - report what drf-spectacular printed
        pytest.fail(f"{error}\n{capsys.readouterr().err}")
    assert target.stat().st_size > 0
