"""API: generate/list per order, download links that expire, statuses, templates, permissions per role."""

import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.documents import services
from apps.documents.models import Document, DocumentTemplate, DocumentTemplateVersion
from apps.documents.tests.helpers import normalise, pdf_bytes_text
from conftest import fetch_download

pytestmark = pytest.mark.django_db


def _url(order):
    return f"/api/v1/orders/{order.pk}/documents/"


def _get(url: str) -> tuple[int, bytes]:
    if url.startswith("/"):  # the app's link: stored files are encrypted and streamed by the app (issue 14)
        from django.test import Client as Browser

        response = Browser().get(url)
        body = b"".join(response.streaming_content) if response.streaming else b""
        return response.status_code, body
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our local S3)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


# --- Generate and list --------------------------------------------------------------------------------


def test_operator_generates_and_lists_all_versions(order, operator_api, operator):
    first = operator_api.post(_url(order), {"type": "invoice"}, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["type"] == "invoice" and body["version"] == 1 and body["status"] == "draft"
    assert body["order"] == order.pk and body["generated_by"] == operator.pk
    assert body["storage_key"].startswith("documents/") and body["template_version"]
    second = operator_api.post(_url(order), {"type": "invoice"}, format="json")
    assert second.json()["version"] == 2

    listing = operator_api.get(_url(order))
    assert listing.status_code == 200
    versions = [(row["type"], row["version"]) for row in listing.json()["results"]]
    assert versions == [("invoice", 2), ("invoice", 1)]


def test_list_query_count_does_not_grow(make_order, operator_api, django_assert_max_num_queries):
    order = make_order(services=2)
    for doc_type in ("invoice", "contract", "act", "offer", "invoice", "act"):
        services.document_generate(order=order, doc_type=doc_type)
    with django_assert_max_num_queries(6):
        response = operator_api.get(_url(order))
    assert response.json()["count"] == 6
    with django_assert_max_num_queries(6):
        operator_api.get("/api/v1/documents/")


def test_bad_input_is_a_4xx_in_the_error_format(order, operator_api):
    response = operator_api.post(_url(order), {"type": "passport"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and "type" in response.json()["fields"]
    missing = operator_api.post("/api/v1/orders/999999/documents/", {"type": "invoice"}, format="json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_order_without_services_is_400(make_order, operator_api):
    empty = make_order(services=0)
    response = operator_api.post(_url(empty), {"type": "invoice"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "order_empty"
    assert not Document.objects.filter(order=empty).exists()


def test_missing_active_template_is_400(order, operator_api):
    DocumentTemplateVersion.objects.filter(template__type="act").update(is_active=False)
    response = operator_api.post(_url(order), {"type": "act"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "template_missing"


# --- Permissions ----------------------------------------------------------------------------------------


def test_accountant_reads_only_invoices_and_acts(order, accountant_api):
    invoice = services.document_generate(order=order, doc_type="invoice")
    contract = services.document_generate(order=order, doc_type="contract")
    act = services.document_generate(order=order, doc_type="act")
    offer = services.document_generate(order=order, doc_type="offer")

    listing = accountant_api.get("/api/v1/documents/").json()["results"]
    assert {row["id"] for row in listing} == {invoice.pk, act.pk}
    assert accountant_api.get("/api/v1/documents/?type=contract").json()["count"] == 0
    assert [row["id"] for row in accountant_api.get("/api/v1/documents/?type=act").json()["results"]] == [act.pk]
    per_order = accountant_api.get(_url(order)).json()["results"]
    assert {row["id"] for row in per_order} == {invoice.pk, act.pk}
    assert accountant_api.get(f"/api/v1/documents/{invoice.pk}/download/").status_code == 200
    for hidden in (contract, offer):
        assert accountant_api.get(f"/api/v1/documents/{hidden.pk}/").status_code == 404
        assert accountant_api.get(f"/api/v1/documents/{hidden.pk}/download/").status_code == 404


def test_accountant_cannot_generate_or_mark(order, accountant_api):
    assert accountant_api.post(_url(order), {"type": "invoice"}, format="json").status_code == 403
    invoice = services.document_generate(order=order, doc_type="invoice")
    assert accountant_api.post(f"/api/v1/documents/{invoice.pk}/mark-sent/").status_code == 403


def test_only_supervisors_manage_templates(templates, operator_api, accountant_api, supervisor_api):
    upload = {"type": "offer", "body": "<p>{{ client.full_name }}: {{ totals.total|money }}</p>"}
    assert operator_api.post("/api/v1/document-templates/", upload, format="json").status_code == 403
    assert accountant_api.post("/api/v1/document-templates/", upload, format="json").status_code == 403
    assert accountant_api.get("/api/v1/document-templates/").status_code == 403
    assert operator_api.get("/api/v1/document-templates/").status_code == 200
    template = DocumentTemplate.objects.get(type="offer")
    assert operator_api.post(f"/api/v1/document-templates/{template.pk}/versions/1/activate/").status_code == 403
    assert supervisor_api.post("/api/v1/document-templates/", upload, format="json").status_code == 201


def test_template_list_query_count(templates, supervisor_api, supervisor, django_assert_max_num_queries):
    for _ in range(3):
        services.template_upload(doc_type="offer", body="<p>{{ client.full_name }}</p>", actor=supervisor, check=False)
    with django_assert_max_num_queries(6):
        response = supervisor_api.get("/api/v1/document-templates/")
    assert response.status_code == 200 and response.json()["count"] == 4


def test_anonymous_is_401(order, api_client):
    assert api_client.get(_url(order)).status_code == 401


# --- Statuses -----------------------------------------------------------------------------------------------


def test_mark_sent_then_signed_then_conflict(order, operator_api):
    document = services.document_generate(order=order, doc_type="contract")
    sent = operator_api.post(f"/api/v1/documents/{document.pk}/mark-sent/")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    signed = operator_api.post(f"/api/v1/documents/{document.pk}/mark-signed/")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    again = operator_api.post(f"/api/v1/documents/{document.pk}/mark-sent/")
    assert again.status_code == 409 and again.json()["code"] == "document_status_conflict"


# --- Download -------------------------------------------------------------------------------------------


def test_download_is_a_presigned_url_with_default_ttl(order, operator_api):
    document = services.document_generate(order=order, doc_type="invoice")
    body = operator_api.get(f"/api/v1/documents/{document.pk}/download/").json()
    assert body["url"].startswith("/files/") and body["expires_in"] == 900
    status, content = _get(body["url"])
    assert status == 200 and content.startswith(b"%PDF")
    assert document.number in normalise(pdf_bytes_text(content))


@pytest.mark.slow
def test_download_url_expires(order, operator_api, settings, authenticated_s3):
    """Against an S3 server that checks signatures: the link works, then stops working after its TTL."""
    storages = {**settings.STORAGES}
    storages["default"] = {**storages["default"], "OPTIONS": {**storages["default"]["OPTIONS"], **authenticated_s3}}
    settings.STORAGES = storages
    settings.DOWNLOAD_URL_TTL_SECONDS = 3  # long enough for a loaded CI machine to fetch it once
    document = services.document_generate(order=order, doc_type="invoice")
    assert _get(f"{authenticated_s3['endpoint_url']}/{authenticated_s3['bucket_name']}/{document.file.name}")[0] == 403
    url = operator_api.get(f"/api/v1/documents/{document.pk}/download/").json()["url"]
    assert url.startswith("/files/")  # the object is ciphertext: the app decrypts and streams it
    assert _get(url)[0] == 200
    time.sleep(4.5)
    assert _get(url)[0] == 404


def test_download_streams_when_configured(order, operator_api, settings):
    settings.DOCUMENTS_DOWNLOAD_STREAM = True
    document = services.document_generate(order=order, doc_type="invoice")
    response = operator_api.get(f"/api/v1/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["X-Content-Type-Options"] == "nosniff"
    expected = f"Счёт {order.number} v{document.version}.pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert urllib.parse.unquote(response["Content-Disposition"].split("filename*=UTF-8''")[1]) == expected


def test_presigned_download_is_an_attachment_named_for_people(order, operator_api):
    services.document_generate(order=order, doc_type="invoice")
    document = services.document_generate(order=order, doc_type="invoice")
    body = operator_api.get(f"/api/v1/documents/{document.pk}/download/").json()
    assert body["file_name"] == f"Счёт {order.number} v2.pdf"
    headers = fetch_download(body["url"])[1]
    assert headers["Content-Type"] == "application/pdf"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1]) == f"Счёт {order.number} v2.pdf"


def test_contract_is_downloadable_only_with_the_personal_data_right(order, make_user, client_as, operator_api):
    """A role that may list every document type but not see personal data gets no contract file."""
    contract = services.document_generate(order=order, doc_type="contract")
    invoice = services.document_generate(order=order, doc_type="invoice")
    reader = make_user("accountant")
    reader.user_permissions.add(Permission.objects.get(codename="view_all_document_types"))
    api = client_as(type(reader).objects.get(pk=reader.pk))
    refused = api.get(f"/api/v1/documents/{contract.pk}/download/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "personal_data_forbidden" and "url" not in refused.json()
    assert api.get(f"/api/v1/documents/{contract.pk}/").status_code == 200  # it exists, only the file is refused
    assert api.get(f"/api/v1/documents/{invoice.pk}/download/").status_code == 200
    assert operator_api.get(f"/api/v1/documents/{contract.pk}/download/").status_code == 200

    browser = Client()
    reader.is_staff = True
    reader.save()
    browser.force_login(reader)
    page = browser.get(f"/admin/documents/document/{contract.pk}/download/")
    assert page.status_code == 403 and "personal_data_forbidden" in page.content.decode()
    assert browser.get(f"/admin/documents/document/{invoice.pk}/download/").status_code == 302


# --- Templates ------------------------------------------------------------------------------------------


def test_template_upload_and_rollback_through_the_api(order, supervisor_api, operator_api):
    template = DocumentTemplate.objects.get(type="invoice")
    # The defaults may already have an updated version (post_migrate refresh): count from the last one.
    base = template.versions.order_by("-version").first().version
    upload = supervisor_api.post(
        "/api/v1/document-templates/",
        {"type": "invoice", "body": "<h1>Новый счёт {{ document.number }}</h1>", "css": "h1 { font-size: 20pt; }",
         "comment": "короче"},
        format="json",
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["version"] == base + 1 and upload.json()["is_active"]
    detail = supervisor_api.get(f"/api/v1/document-templates/{template.pk}/").json()
    assert detail["active_version"] == base + 1
    assert [v["version"] for v in detail["versions"]][:2] == [base + 1, base]

    generated = operator_api.post(_url(order), {"type": "invoice"}, format="json").json()
    assert generated["template_version_number"] == base + 1

    rollback = supervisor_api.post(f"/api/v1/document-templates/{template.pk}/versions/{base}/activate/")
    assert rollback.status_code == 200 and rollback.json()["is_active"]
    generated = operator_api.post(_url(order), {"type": "invoice"}, format="json").json()
    assert generated["template_version_number"] == base
    assert Document.objects.filter(order=order, type="invoice").count() == 2

    versions = supervisor_api.get(f"/api/v1/document-templates/{template.pk}/versions/").json()["results"]
    assert [(v["version"], v["is_active"]) for v in versions][:2] == [(base + 1, False), (base, True)]


def test_broken_template_upload_is_400_with_line(templates, supervisor_api):
    response = supervisor_api.post(
        "/api/v1/document-templates/",
        {"type": "act", "body": "<p>Акт</p>\n<p>{% if totals.total %}</p>"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "template_error" and body["line"] == 2
    assert "строка 2" in body["fields"]["body"][0]


def test_template_reaching_class_is_refused_through_the_api(templates, supervisor_api):
    before = DocumentTemplateVersion.objects.filter(template__type="act").count()
    response = supervisor_api.post(
        "/api/v1/document-templates/",
        {"type": "act", "body": "{{ cycler.__init__.__globals__.os.system('id') }}"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "template_forbidden"
    assert DocumentTemplateVersion.objects.filter(template__type="act").count() == before


def test_a_document_whose_object_is_gone_is_a_404_not_a_500(order, operator_api, settings):
    """A restore without its files, or an object removed by hand: the row outlived its PDF."""
    from django.core.files.storage import default_storage

    settings.DOCUMENTS_DOWNLOAD_STREAM = True
    document = services.document_generate(order=order, doc_type="invoice")
    default_storage.delete(document.file.name)
    response = operator_api.get(f"/api/v1/documents/{document.pk}/download/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and "хранилище" in response.json()["detail"]
