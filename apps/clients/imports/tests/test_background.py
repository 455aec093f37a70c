"""Large CSV imports run as a job: 202 + job id in the API, a progress page in the admin, the
result (totals, rejected lines without their values) when done."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as BrowserClient

from apps.clients.imports.tests.test_service import GOOD, csv_bytes
from apps.clients.models import Client
from apps.jobs.models import JobProgress
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs
URL = "/api/v1/clients/import/"
ROWS = [*GOOD, "Сидоров;Пётр;;;;31.02.1980;+7 916 000-00-01;;;;", "Кузнецова;Ольга;;;;;+7 916 000-00-02;;;;"]


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.csv", data, content_type="text/csv")


def test_large_file_answers_202_with_a_job_to_poll(operator_api, client_as, make_user, api_client, settings):
    settings.IMPORT_BACKGROUND_ROWS = 3  # this file has 4 rows: "large"
    response = operator_api.post(URL, {"file": _upload(csv_bytes(*ROWS))}, format="multipart")
    assert response.status_code == 202, response.content
    job_url = response.json()["status_url"]
    assert job_url == f"/api/v1/jobs/{response.json()['job_id']}/" and response["Location"] == job_url
    assert not Client.objects.exists()  # the request did not import

    queued = operator_api.get(job_url).json()
    assert (queued["status"], queued["total"], queued["percent"]) == ("queued", 4, 0)
    run_jobs()
    done = operator_api.get(job_url).json()
    assert done["status"] == "succeeded" and done["percent"] == 100 and done["done"] == 4
    assert done["result"]["totals"] == {"rows": 4, "created": 3, "updated": 0, "duplicate": 0, "rejected": 1}
    assert done["result"]["rejected_rows"] == [{"line": 4, "errors": [{"field": "birth_date", "code": "bad_date"}]}]
    assert "31.02.1980" not in str(done)  # the values stay out of the stored result
    assert Client.objects.count() == 3

    other = client_as(make_user("operator"))
    assert other.get(job_url).status_code == 404  # somebody else's work
    assert client_as(make_user("supervisor")).get(job_url).status_code == 200
    assert api_client.get(job_url).status_code == 401


def test_background_on_request_and_dry_run_stays_immediate(operator_api):
    preview = operator_api.post(URL, {"file": _upload(csv_bytes(*GOOD)), "dry_run": "true", "background": "true"},
                                format="multipart")
    assert preview.status_code == 200 and preview.json()["totals"]["created"] == 2
    started = operator_api.post(URL, {"file": _upload(csv_bytes(*GOOD)), "background": "true"}, format="multipart")
    assert started.status_code == 202
    run_jobs()
    assert Client.objects.count() == 2


def test_a_file_that_is_not_csv_is_refused_at_once(operator_api):
    response = operator_api.post(URL, {"file": _upload(b"\x00\x01PK\x03\x04"), "background": "true"},
                                 format="multipart")
    assert response.status_code == 400
    assert not JobProgress.objects.exists()


def test_admin_confirm_of_a_large_file_shows_the_progress_page(admin_user, settings):
    settings.IMPORT_BACKGROUND_ROWS = 1
    browser = BrowserClient()
    browser.force_login(admin_user)
    preview = browser.post("/admin/clients/client/import-csv/",
                           {"file": SimpleUploadedFile("c.csv", csv_bytes(*GOOD)), "on_duplicate": "skip"})
    started = browser.post("/admin/clients/client/import-csv/", {"confirm_token": preview.context["confirm_token"]})
    progress = JobProgress.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/admin/jobs/jobprogress/{progress.pk}/change/"
    page = browser.get(started["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and "<progress" in page  # refreshes itself while it runs
    run_jobs()
    page = browser.get(started["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page and "готово" in page and "создано" in page
    listing = browser.get("/admin/jobs/jobprogress/").content.decode()
    assert 'value="100"' in listing
