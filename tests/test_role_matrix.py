"""The role matrix (travelcrm/role_matrix.py), enforced by walking every operation of the schema.

Every OpenAPI operation is called by each role (anonymous, then a JWT of operator, accountant and
supervisor) against a small world of real objects, so an answer is a permission answer and not a
404 of a missing row. Each call runs in a savepoint rolled back afterwards: every role meets the
same world. A write that succeeds must have named its actor in every audit entry it wrote.
"""

import io
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from auditlog.models import LogEntry
from botocore.exceptions import ClientError
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import Role
from apps.audit.models import AccessLogEntry, DestructionRecord
from apps.clients.consents import consent_record, consent_text_ensure
from apps.clients.models import ClientContact
from apps.clients.services import client_file_add, passport_add
from apps.core.storage import ensure_bucket
from apps.documents.demo import build_demo_order, ensure_requisites
from apps.documents.models import DocumentTemplate
from apps.documents.services import document_generate, load_default_templates
from apps.finance.services import payment_create, rate_set_manual, supplier_payment_create
from apps.finance.tests.factories import REQUISITES
from apps.integrations.models import IntegrationSettings
from apps.jobs.models import JobProgress
from apps.leads.services import lead_create_manual
from apps.orders.models import Supplier
from apps.orders.services import order_transition, service_update
from conftest import TEST_PASSWORD
from travelcrm.role_matrix import DOCS_FILE, END, MATRIX, ROLES, START, docs_table

pytestmark = pytest.mark.django_db
_unique = count(500)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def schema_operations() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


# --- The world ------------------------------------------------------------------------------------


@pytest.fixture
def world(make_user, settings):
    """One real object of every kind an operation's path can name: {collection: id}."""
    settings.ADMIN_PASSWORD = "Adm1n-pass-for-tests!"
    try:
        ensure_bucket()
    except ClientError as error:  # another test process created it a moment ago
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    ensure_requisites()
    load_default_templates()
    users = {role: make_user(role) for role in (Role.OPERATOR, Role.ACCOUNTANT, Role.SUPERVISOR)}
    order = build_demo_order(services=2, unique=str(next(_unique)))
    client = order.client
    other_client = order.travellers.exclude(pk=client.pk).first()
    template = DocumentTemplate.objects.order_by("pk").first()
    uploaded = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
    passport = passport_add(client=client, data={"kind": "internal", "series": "4510",
                                                  "number": str(next(_unique)).zfill(6), "issue_date": "2010-05-01"})
    rate = rate_set_manual(currency="USD", on_date=date(2026, 6, 1), rate=Decimal("90.5"))
    # Money moves on confirmed orders only (docs/user/accountant.md): the world's order is confirmed,
    # its first service bought from a supplier that was paid once.
    supplier = Supplier.objects.create(name="Поставщик для матрицы")
    service_update(service=order.services.order_by("pk").first(), data={"supplier": supplier})
    order_transition(order=order, action="confirm")
    objects = {
        "users": users,
        "clients": client.pk,
        "other_client": other_client.pk,
        "contacts": ClientContact.objects.filter(client=client).first().pk,
        "passports": passport.pk,
        "files": client_file_add(client=client, uploaded=uploaded).pk,
        "leads": lead_create_manual(data={"contact_name": "Ирина", "text": "Хочу в Сочи"}).pk,
        "orders": order.pk,
        "services": order.services.first().pk,
        "payments": payment_create(order_id=order.pk, data={"amount": "1000.00", "currency": "RUB",
                                                            "method": "cash", "date": date(2026, 6, 1)}).pk,
        "suppliers": Supplier.objects.create(name="Поставщик без заказов").pk,
        "supplier-payments": supplier_payment_create(order_id=order.pk, data={
            "supplier": supplier, "amount": "100.00", "method": "cash", "date": date(2026, 6, 1)}).pk,
        "supplier": supplier.pk,
        "supplier-statements": supplier.pk,
        "agent-reports": supplier.pk,
        "documents": document_generate(order=order, doc_type="invoice").pk,
        "document-templates": template.pk,
        "versions": template.versions.order_by("version").first().version,
        "rates": rate.pk,
        "telegram": IntegrationSettings.objects.create(type="telegram", is_active=True).pk,
        "whatsapp": IntegrationSettings.objects.create(type="whatsapp", is_active=True).pk,
    }
    objects["jobs"] = JobProgress.objects.create(
        kind="test", title="Матрица ролей", created_by=users[Role.SUPERVISOR]).pk
    objects["audit"] = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    objects["access"] = AccessLogEntry.objects.create(
        user=users[Role.OPERATOR], client_ids=[client.pk], categories=["contacts"], endpoint="/api/v1/clients/",
        method="GET").pk
    objects["destructions"] = DestructionRecord.objects.create(
        client_id=client.pk, subject_label="Клиент №1", performed_by=users[Role.SUPERVISOR],
        performed_by_name="Руководитель", reason="Истёк срок хранения", categories=["contacts"]).pk
    objects["consents"] = consent_record(
        text=consent_text_ensure(body="Согласие (матрица ролей)\n"), channel="web", client=client).pk
    return objects


def fill_path(path: str, world: dict) -> str:
    """/api/v1/clients/{client_id}/contacts/{id}/ → the world's client and contact."""
    parts = path.strip("/").split("/")
    filled = []
    for index, part in enumerate(parts):
        if part.startswith("{"):
            collection = parts[index - 1]
            if collection not in world:
                raise LookupError(
                    f"{path}: tests/test_role_matrix.py's `world` fixture has no object for '{collection}' — "
                    "add one (a real row the operation can find)."
                )
            part = str(world[collection])
        filled.append(part)
    return "/" + "/".join(filled) + ("/" if path.endswith("/") else "")


# Bodies for writes that should succeed for a role allowed to do them (the rest get {}: a role with
# the right answers 400, one without 403 — still a permission answer).
def _payloads(world: dict) -> dict:
    return {
        "POST /api/v1/clients/": {"last_name": "Матрицева", "first_name": "Ольга"},
        "POST /api/v1/clients/{client_id}/contacts/": {"kind": "email", "value": "matrix@example.com"},
        "POST /api/v1/leads/": {"contact_name": "Пётр", "text": "Нужен тур"},
        "POST /api/v1/suppliers/": {"name": "Новый поставщик"},
        "POST /api/v1/orders/": {"client": world["clients"], "currency": "RUB"},
        "POST /api/v1/orders/{order_id}/documents/": {"type": "invoice"},
        "POST /api/v1/orders/{order_id}/payments/": {"amount": "500.00", "currency": "RUB", "method": "cash",
                                                     "date": "2026-06-02"},
        "POST /api/v1/payments/": {"order": world["orders"], "amount": "500.00", "currency": "RUB",
                                   "method": "cash", "date": "2026-06-02"},
        "POST /api/v1/finance/rates/": {"currency": "EUR", "date": "2026-06-01", "rate": "99.1"},
        "POST /api/v1/clients/{id}/merge/": {"other_id": world["other_client"]},
        "POST /api/v1/document-templates/": {"type": "offer", "body": "<p>КП {{ document.number }}</p>"},
        "PUT /api/v1/suppliers/{id}/": {"name": "Поставщик целиком"},
        "POST /api/v1/leads/{id}/link-client/": {"client": world["clients"]},
        "PUT /api/v1/finance/requisites/": REQUISITES,
        "POST /api/v1/auth/password/": {"old_password": TEST_PASSWORD, "new_password": "Новый-пароль-2026!"},
        "POST /api/v1/leads/{id}/reject/": {"reason": "Не дозвонились"},
        "POST /api/v1/clients/{client_id}/passports/": {"kind": "internal", "series": "4511", "number": "654321",
                                                        "issue_date": "2011-01-01"},
        "POST /api/v1/orders/{order_id}/services/": {"type": "transfer", "start_dt": "2026-07-20T10:00:00+03:00",
                                                     "end_dt": "2026-07-20T11:00:00+03:00", "origin": "AYT",
                                                     "destination": "Кемер", "price": "2500.00"},
        "POST /api/v1/auth/token/": {"email": world["users"]["operator"].email, "password": TEST_PASSWORD},
        "POST /api/v1/public/leads/": {"name": "Посетитель сайта", "phone": "+7 916 000-11-22",
                                       "consent": True, "wishes": "Турция"},
        "GET /api/v1/exports/1c/payments/": {"from": "2026-06-01", "to": "2026-06-30"},
        "GET /api/v1/exports/payments/other/": {"from": "2026-06-01", "to": "2026-06-30"},
        "PATCH /api/v1/clients/{id}/": {"notes": "правка"},
        "PATCH /api/v1/orders/{id}/": {"notes": "правка"},
        "PATCH /api/v1/suppliers/{id}/": {"name": "Переименован"},
        "PATCH /api/v1/payments/{id}/": {"comment": "правка"},
        "POST /api/v1/supplier-payments/": {"order": world["orders"], "supplier": world["supplier"],
                                            "amount": "50.00", "method": "cash", "date": "2026-06-02"},
        "POST /api/v1/orders/{order_id}/supplier-payments/": {"supplier": world["supplier"], "amount": "50.00",
                                                              "method": "cash", "date": "2026-06-02"},
        "PATCH /api/v1/supplier-payments/{id}/": {"comment": "правка"},
        "GET /api/v1/finance/supplier-statements/{supplier_id}/": {"from": "2026-06-01", "to": "2026-06-30"},
        "GET /api/v1/finance/agent-reports/{supplier_id}/": {"from": "2026-06-01", "to": "2026-06-30"},
    }


def _multipart(operation: str):
    if operation == "POST /api/v1/clients/{client_id}/files/":
        return {"file": _named(PNG, "scan.png"), "description": "скан"}
    if operation == "POST /api/v1/clients/import/":
        return {"file": _named("Фамилия;Имя\r\nИмпортов;Иван\r\n".encode(), "clients.csv"), "dry_run": "true"}
    return None


def _named(content: bytes, name: str):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def call(operation: str, role: str, world: dict):
    method, path = operation.split(" ", 1)
    api = APIClient()
    if role != "anonymous":
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(world['users'][role])}")
    url = fill_path(path, world)
    multipart = _multipart(operation)
    if multipart is not None:
        return getattr(api, method.lower())(url, multipart, format="multipart")
    body = _payloads(world).get(operation, {})
    if method in ("GET", "DELETE"):
        return getattr(api, method.lower())(url, body)
    return getattr(api, method.lower())(url, body, format="json")


def _public(operation: str, world: dict) -> bool:
    """Open endpoints read no credentials: their writes have no actor to name."""
    view = resolve(fill_path(operation.split(" ", 1)[1], world)).func
    return view.cls.public


def test_every_operation_answers_every_role_as_the_matrix_says(world):
    operations = schema_operations()
    missing = [op for op in operations if op not in MATRIX]
    stale = [op for op in MATRIX if op not in operations]
    wrong, observed, actorless = [], {}, []
    for operation in operations:
        answers = []
        for role in ROLES:
            cache.clear()  # throttles and lockouts count per test, not across roles
            last_entry = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            with transaction.atomic():
                response = call(operation, role, world)
                if 200 <= response.status_code < 300 and role != "anonymous" and not _public(operation, world):
                    user = world["users"][role]
                    stray = LogEntry.objects.filter(pk__gt=last_entry).exclude(actor=user)
                    actorless += [f"{operation} as {role}: audit entry {e.pk} ({e}) actor={e.actor_id}" for e in stray]
                transaction.set_rollback(True)
            answers.append(response.status_code)
            assert response.status_code < 500, f"{operation} as {role}: {response.status_code} {response.content[:300]}"
        observed[operation] = tuple(answers)
        if operation in MATRIX and MATRIX[operation] != tuple(answers):
            wrong.append(f"{operation}: matrix {MATRIX[operation]}, got {tuple(answers)}")
    suggestion = "\n".join(f'    "{op}": {observed[op]},' for op in missing)
    assert not missing, (
        "Operations without an entry in travelcrm/role_matrix.py MATRIX (anonymous, operator, accountant, "
        f"supervisor) — check these observed answers are what each role SHOULD get, then add:\n{suggestion}"
    )
    assert not stale, f"MATRIX entries for operations that no longer exist: {stale}"
    assert not wrong, "Answers differ from travelcrm/role_matrix.py:\n" + "\n".join(wrong)
    assert not actorless, "Writes whose audit entries do not name the user:\n" + "\n".join(actorless)


def test_docs_role_table_is_generated_from_the_matrix():
    text = DOCS_FILE.read_text(encoding="utf-8")
    assert START + docs_table() + END in text, (
        "docs/api.md's role table differs from travelcrm/role_matrix.py; regenerate it: "
        ".venv/bin/python -m travelcrm.role_matrix --write"
    )
