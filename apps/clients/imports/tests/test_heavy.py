"""A CSV import run inside the request (dry run or a small file) counts against
HEAVY_REQUEST_SLOTS (apps.core.heavy); an import handed to the job worker does not hold a web
worker and is not limited."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as BrowserClient

from apps.clients.imports.tests.test_service import GOOD, csv_bytes
from apps.clients.models import Client
from apps.core.heavy import acquire_slot, release_slot

pytestmark = pytest.mark.django_db
API = "/api/v1/clients/import/"
ADMIN = "/admin/clients/client/import-csv/"


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("clients.csv", data, content_type="text/csv")


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_api_import_answers_503_while_every_slot_is_taken(operator_api, other_process_holding, dry_run):
    other_process_holding(0, 1)
    response = operator_api.post(API, {"file": upload(csv_bytes(*GOOD)), "dry_run": dry_run}, format="multipart")
    assert response.status_code == 503
    assert response.json()["code"] == "server_busy" and "Повторите через минуту" in response.json()["detail"]
    assert response["Retry-After"] == "30"
    assert not Client.objects.exists()


def test_api_import_takes_a_free_slot_and_gives_it_back(operator_api, other_process_holding):
    other_process_holding(0)
    for _ in range(2):
        assert operator_api.post(API, {"file": upload(csv_bytes(*GOOD))}, format="multipart").status_code == 200
    assert acquire_slot() == 1
    release_slot(1)


def test_import_handed_to_a_job_is_not_limited(operator_api, other_process_holding):
    other_process_holding(0, 1)
    response = operator_api.post(API, {"file": upload(csv_bytes(*GOOD)), "background": "true"}, format="multipart")
    assert response.status_code == 202


def test_admin_preview_and_confirm_answer_503_while_every_slot_is_taken(admin_user, other_process_holding):
    browser = BrowserClient()
    browser.force_login(admin_user)
    preview = browser.post(ADMIN, {"file": SimpleUploadedFile("c.csv", csv_bytes(*GOOD)), "on_duplicate": "skip"})
    assert preview.status_code == 200
    token = preview.context["confirm_token"]

    other_process_holding(0, 1)
    busy_preview = browser.post(ADMIN, {"file": SimpleUploadedFile("c.csv", csv_bytes(*GOOD)),
                                        "on_duplicate": "skip"})
    assert busy_preview.status_code == 503 and busy_preview["Retry-After"] == "30"
    assert "Повторите через минуту" in busy_preview.content.decode()
    busy_confirm = browser.post(ADMIN, {"confirm_token": token})
    assert busy_confirm.status_code == 503 and busy_confirm["Retry-After"] == "30"
    assert busy_confirm.context["confirm_token"] == token  # the same file can be confirmed again
    assert not Client.objects.exists()
