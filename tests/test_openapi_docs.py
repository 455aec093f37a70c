"""The API documents itself, offline (issue 13, point 6): local Swagger UI / ReDoc, a summary for
every operation, and the statuses an operation can answer in its schema — for every endpoint,
including ones added later (travelcrm.api.ErrorAwareAutoSchema does it by the operation's kind)."""

import json
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, items in schema["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", method, operation


def test_every_operation_has_a_summary(schema):
    """A new endpoint needs extend_schema(summary="…") in Russian unless it is plain CRUD of a
    model (then «Список: …», «Создать: …» come from the model's verbose names)."""
    missing = [name for name, _method, operation in operations(schema) if not operation.get("summary")]
    assert not missing, "operations without a summary:\n" + "\n".join(missing)


def test_generated_summaries_are_russian(schema):
    orders = schema["paths"]["/api/v1/orders/"]
    assert orders["get"]["summary"] == "Список: заказы"
    assert re.search("[А-Яа-я]", orders["post"]["summary"])


def test_every_summary_is_russian(schema):
    """Summaries in one language, like the error texts: each starts with a Russian word (field and
    parameter names such as `admin_password` may follow in Latin letters)."""
    english = [f"{name}: {operation.get('summary')}" for name, _method, operation in operations(schema)
               if not re.match(r"[«(]?[А-ЯЁа-яё]", operation.get("summary") or "")]  # fmt: skip
    assert not english, "summaries not in Russian:\n" + "\n".join(english)


def test_optional_query_parameters_may_be_empty(schema):
    """`?date_to=` means "not set" (django-filter and DRF skip an empty value): documented as such."""
    for name, _method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                assert parameter.get("allowEmptyValue") is True, (name, parameter["name"])


def test_times_of_day_have_no_offset_format(schema):
    """OpenAPI's `format: time` demands an offset; the API's times of day are local ("09:30:00")."""
    assert '"format": "time"' not in json.dumps(schema)
    payment = schema["components"]["schemas"]["Payment"]["properties"]["time"]
    assert re.fullmatch(payment["pattern"], "00:00:00") and re.fullmatch(payment["pattern"], "09:30")


def test_lists_document_a_bad_filter_and_a_page_past_the_end(schema):
    lists = [(name, op) for name, method, op in operations(schema)
             if method == "get" and op["operationId"].endswith("_list")]  # fmt: skip
    assert lists
    for name, operation in lists:
        assert {"400", "404"} <= set(operation["responses"]), name


def test_authenticated_writes_document_a_conflict(schema):
    for name, method, operation in operations(schema):
        secured = operation.get("security") and {} not in operation["security"]
        if method != "get" and secured:
            assert "409" in operation["responses"], name


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_load_only_local_files(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html[:500]
    external = [source for source in sources if re.match(r"^(https?:)?//", source)]
    assert not external, f"{url} loads {external}"
    scripts = [source for source in sources if source.endswith(".js")]
    assert scripts
    for source in scripts:
        assert finders.find(source.split("/static/", 1)[1]), source  # shipped with drf-spectacular-sidecar


# The customer's own names for the integration settings stay exactly as agreed (no trailing slash).
CUSTOMER_PATHS = re.compile(r"^/api/v1/settings/integrations/(list|add|activate|deactivate|update)$")


def test_every_path_ends_with_a_slash(schema):
    missing = [path for path in schema["paths"] if not path.endswith("/") and not CUSTOMER_PATHS.match(path)]
    assert not missing, missing


def test_path_parameters_are_named_alike(schema):
    """`{id}` for the resource itself, `{<parent>_id}` for a parent (`{order_id}`, `{client_id}`);
    `{number}` is a template version's number, not an id."""
    for path in schema["paths"]:
        names = re.findall(r"{([^}]+)}", path)
        assert all(name in ("id", "number") or re.fullmatch(r"[a-z]+_id", name) for name in names), path
        assert len(names) == len(set(names)), path
        if names and not path.rstrip("/").endswith("}"):
            continue
        if len(names) > 1:
            assert names[-1] in ("id", "number"), path  # the resource itself is {id}


def test_actions_are_kebab_case(schema):
    for path in schema["paths"]:
        literal = [part for part in path.split("/") if part and not part.startswith("{")]
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", part) for part in literal), path


def test_every_request_body_and_success_answer_has_an_example(schema):
    """Hand-written (the per-type service examples, the free-form answers of reports and statements
    in travelcrm.openapi_examples.RESPONSE_EXAMPLES) or built from the serializer's fields. Every JSON
    success answer has one, free-form objects included."""
    missing = []
    for name, _method, operation in operations(schema):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            if not content.get("examples"):
                missing.append(f"{name} request {media}")
        for code, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if code.startswith("2") and content is not None and not content.get("examples"):
                missing.append(f"{name} {code}")
    assert not missing, "\n".join(missing)


def test_heavy_operations_document_server_busy_and_a_json_202(schema):
    """A report, an export, a statement take a heavy slot (apps/core/heavy.py): 503 server_busy is in
    their schema; a file handed to a background job answers 202 in JSON, whatever the file's type."""
    for path in ("/api/v1/reports/debts/", "/api/v1/reports/debts/xlsx/", "/api/v1/exports/1c/payments/",
                 "/api/v1/finance/supplier-statements/{supplier_id}/"):
        assert "503" in schema["paths"][path]["get"]["responses"], path
    assert "503" not in schema["paths"]["/api/v1/orders/"]["get"]["responses"]
    started = schema["paths"]["/api/v1/reports/debts/xlsx/"]["get"]["responses"]["202"]["content"]
    assert list(started) == ["application/json"]
    assert next(iter(started["application/json"]["examples"].values()))["value"] == {
        "job_id": 118, "status_url": "/api/v1/jobs/118/"}


def test_free_form_answers_have_their_hand_written_example(schema):
    """The twelve free-form JSON answers (reports, statements, the subject access export, a consent's
    withdrawal) carry the example of RESPONSE_EXAMPLES, with prices as decimal strings."""
    from travelcrm.openapi_examples import RESPONSE_EXAMPLES

    found = {}
    for _name, _method, operation in operations(schema):
        for code, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if operation["operationId"] in RESPONSE_EXAMPLES and code == "200" and content:
                found[operation["operationId"]] = next(iter(content["examples"].values()))["value"]
    expected = {key for key, by_status in RESPONSE_EXAMPLES.items() if 200 in by_status}
    assert set(found) == expected and len(expected) == 12
    for operation_id, value in found.items():
        assert value == RESPONSE_EXAMPLES[operation_id][200]
    assert re.fullmatch(r"\d+\.\d{2}", found["reports_debts_retrieve"]["results"][0]["balance_due"])


def test_prices_in_examples_are_decimal_strings(schema):
    service = schema["paths"]["/api/v1/orders/{order_id}/services/"]["post"]
    for example in service["requestBody"]["content"]["application/json"]["examples"].values():
        for key in ("price", "commission"):
            assert re.fullmatch(r"\d+\.\d{2}", example["value"][key]), example
    order = schema["paths"]["/api/v1/orders/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    value = next(iter(order["examples"].values()))["value"]
    assert re.fullmatch(r"\d+\.\d{2}", value["total_amount"])


def test_service_details_are_a_one_of_per_service_type(schema):
    from apps.orders.details import SCHEMAS

    components = schema["components"]["schemas"]
    for component in ("ServiceWriteRequest", "Service"):
        details = components[component]["properties"]["details"]
        variants = {variant["title"]: variant for variant in details["oneOf"]}
        assert set(variants) == set(SCHEMAS), component
        for service_type, fields in SCHEMAS.items():
            variant = variants[service_type]
            assert set(variant["properties"]) == set(fields)
            assert set(variant.get("required", [])) == {key for key, spec in fields.items() if spec.required}
            assert variant["additionalProperties"] is False
    examples = schema["paths"]["/api/v1/orders/{order_id}/services/"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]
    assert {example["value"]["type"] for example in examples.values()} == set(SCHEMAS)


def test_schemathesis_is_a_documented_command():
    """`make schemathesis` runs every check but positive_data_acceptance (why: Makefile, docs/api.md)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    makefile = (root / "Makefile").read_text()
    target = makefile.split("\nschemathesis:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/schemathesis_run.py" in target
    assert re.findall(r"--exclude-checks (\S+)", target) == ["positive_data_acceptance"]
    runner = (root / "scripts" / "schemathesis_run.py").read_text()
    assert '"--checks", "all"' in runner
    for doc in ("docs/api.md", "docs/development.md"):
        assert "make schemathesis" in (root / doc).read_text(), doc
