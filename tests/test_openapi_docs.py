"""The API documents itself, offline (issue 13, point 6): local Swagger UI / ReDoc, a summary for
every operation, and the statuses an operation can answer in its schema — for every endpoint,
including ones added later (travelcrm.api.ErrorAwareAutoSchema does it by the operation's kind)."""

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
