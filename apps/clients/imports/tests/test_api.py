import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.clients.imports.reader import DEFAULT_MAX_BYTES
from apps.clients.imports.tests.test_service import GOOD, csv_bytes
from apps.clients.models import Client

pytestmark = pytest.mark.django_db
URL = "/api/v1/clients/import/"


def upload(data: bytes, name: str = "clients.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_dry_run_then_real_run(operator_api):
    preview = operator_api.post(URL, {"file": upload(csv_bytes(*GOOD)), "dry_run": "true"}, format="multipart")
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["dry_run"] is True and body["totals"]["created"] == 2
    assert [row["status"] for row in body["rows"]] == ["created", "created"]
    assert not Client.objects.exists()

    real = operator_api.post(URL, {"file": upload(csv_bytes(*GOOD))}, format="multipart")
    assert real.status_code == 200
    assert real.json()["totals"]["created"] == 2 and Client.objects.count() == 2
    assert all(row["client_id"] for row in real.json()["rows"])

    again = operator_api.post(URL, {"file": upload(csv_bytes(*GOOD))}, format="multipart")
    assert again.json()["totals"] == {"rows": 2, "created": 0, "updated": 0, "duplicate": 2, "rejected": 0}


def test_rejected_rows_are_reported_with_reasons(operator_api):
    data = csv_bytes("Иванов;;;;;;+79161234567;;;;", "Петров;Пётр;;;;99.99.1999;+79161234568;;;;")
    body = operator_api.post(URL, {"file": upload(data), "dry_run": "true"}, format="multipart").json()
    assert [row["errors"][0]["code"] for row in body["rows"]] == ["missing_name", "bad_date"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (bytes(range(256)) * 10, "not_csv"),
        (b"name;city\r\nX;Y\r\n", "wrong_columns"),
    ],
)
def test_broken_files_answer_400_in_the_error_format(operator_api, data, code):
    response = operator_api.post(URL, {"file": upload(data)}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code and body["detail"] and "file" in body["fields"]


def test_missing_file_and_bad_options_are_400(operator_api):
    response = operator_api.post(URL, {"dry_run": "true"}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "file_required"
    response = operator_api.post(URL, {"file": upload(csv_bytes(*GOOD)), "on_duplicate": "merge"}, format="multipart")
    assert response.status_code == 400 and "on_duplicate" in response.json()["fields"]


def test_file_over_the_limit_is_400(operator_api):
    big = io.BytesIO(csv_bytes() + b"x" * (DEFAULT_MAX_BYTES + 1))
    big.name = "big.csv"
    response = operator_api.post(URL, {"file": big}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "file_too_large"


def test_fifty_megabytes_are_refused_before_reading(operator_api):
    big = io.BytesIO(b"a" * (50 * 1024 * 1024))
    big.name = "huge.csv"
    response = operator_api.post(URL, {"file": big}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "file_too_large"


def test_rights(accountant_api, operator_api, supervisor_api):
    assert accountant_api.post(URL, {"file": upload(csv_bytes(*GOOD))}, format="multipart").status_code == 403
    update = {"file": upload(csv_bytes(*GOOD)), "on_duplicate": "update"}
    assert operator_api.post(URL, update, format="multipart").status_code == 200  # operators may change clients
    assert supervisor_api.post(URL, {"file": upload(csv_bytes(*GOOD))}, format="multipart").status_code == 200


def test_example_file_is_importable(operator_api, accountant_api):
    response = operator_api.get(URL + "example/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf") and "фамилия;имя;отчество".encode() in content
    report = operator_api.post(URL, {"file": upload(content), "dry_run": "true"}, format="multipart").json()
    assert report["totals"]["created"] == 2 and report["totals"]["rejected"] == 0
    assert accountant_api.get(URL + "example/").status_code == 200


def test_anonymous_is_refused(api_client):
    assert api_client.post(URL, {}, format="multipart").status_code == 401
