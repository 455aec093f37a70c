"""Large exports run as a job (issue 15 point 3): 202 + job id, progress done / total, a file in object
storage (encrypted like every file) with a link when ready — the same bytes the request would stream."""

import pytest

from apps.core.models import StoredObjectKey
from apps.finance.tests.test_exports import month  # noqa: F401 - the 1C fixture
from apps.finance.tests.test_reports import book, read_csv  # noqa: F401 - the reports fixture
from apps.jobs.models import JobProgress
from apps.jobs.worker import run_jobs
from conftest import fetch_download

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs


def _finished(api, response) -> dict:
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["status_url"] == f"/api/v1/jobs/{body['job_id']}/"
    queued = api.get(body["status_url"]).json()
    assert queued["status"] == "queued" and queued["file_url"] is None
    run_jobs()
    return api.get(body["status_url"]).json()


def test_a_large_report_csv_is_a_job_leaving_the_same_file(accountant_api, book, settings, client_as,  # noqa: F811
                                                           make_user):
    direct = read_csv(accountant_api.get("/api/v1/reports/orders/?format=csv"))
    settings.EXPORT_BACKGROUND_ROWS = 2  # the book's orders report has 3 rows: "large"
    done = _finished(accountant_api, accountant_api.get("/api/v1/reports/orders/?format=csv"))
    assert (done["status"], done["done"], done["total"], done["percent"]) == ("succeeded", 3, 3, 100)
    assert done["kind"] == "export" and done["result"]["rows"] == 3 and done["result"]["name"].endswith(".csv")
    body, headers = fetch_download(done["file_url"])
    assert body.decode("utf-8-sig").splitlines()[0].startswith("Номер заказа")
    import csv
    import io

    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")) == direct
    progress = JobProgress.objects.get(pk=done["id"])
    assert StoredObjectKey.objects.filter(key=progress.file_key).exists()  # stored encrypted
    assert client_as(make_user("accountant")).get(f"/api/v1/jobs/{done['id']}/").status_code == 404


def test_report_xlsx_on_request(accountant_api, book):  # noqa: F811
    done = _finished(accountant_api, accountant_api.get("/api/v1/reports/orders/?format=xlsx&background=true"))
    assert done["status"] == "succeeded" and done["total"] == 3
    body, _ = fetch_download(done["file_url"])
    assert body[:2] == b"PK"  # a workbook (a zip)


def test_the_1c_file_as_a_job(accountant_api, month):  # noqa: F811
    url = f"/api/v1/exports/1c/payments/?from={month['from']}&to={month['to']}"
    direct = b"".join(accountant_api.get(url).streaming_content)
    done = _finished(accountant_api, accountant_api.get(url + "&background=true"))
    assert done["status"] == "succeeded" and done["done"] == done["total"] > 0
    body, _ = fetch_download(done["file_url"])

    def stable(data: bytes) -> list[bytes]:  # the creation time differs between the two
        return [line for line in data.split(b"\r\n") if not line.startswith((b"\xc4\xe0\xf2\xe0\xd1\xee\xe7",
                                                                             b"\xc2\xf0\xe5\xec\xff\xd1\xee\xe7"))]

    assert stable(body) == stable(direct)


def test_a_refused_1c_file_fails_the_job_with_the_reason(accountant_api, month):  # noqa: F811
    from apps.finance.models import Payment

    Payment.objects.filter(pk=month["payments"][0].pk).update(bank_doc_number="")
    url = f"/api/v1/exports/1c/payments/?from={month['from']}&to={month['to']}&background=true"
    done = _finished(accountant_api, accountant_api.get(url))
    assert done["status"] == "failed" and "платёжного поручения" in done["error"] and done["file_url"] is None


def test_old_export_files_are_purged(accountant_api, book, settings):  # noqa: F811
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from apps.jobs.exports import exports_purge

    done = _finished(accountant_api, accountant_api.get("/api/v1/reports/orders/?format=csv&background=true"))
    progress = JobProgress.objects.get(pk=done["id"])
    key = progress.file_key
    assert exports_purge() == 0
    assert exports_purge(now=timezone.now() + timedelta(days=settings.EXPORT_FILE_DAYS + 1)) == 1
    assert not default_storage.exists(key) and JobProgress.objects.get(pk=progress.pk).file_key == ""
    assert accountant_api.get(f"/api/v1/jobs/{done['id']}/").json()["file_url"] is None


def _admin(user):
    from django.test import Client as BrowserClient

    browser = BrowserClient()
    browser.force_login(user)
    return browser


def test_admin_report_file_small_goes_to_the_streamed_file(book, make_user):  # noqa: F811
    answer = _admin(make_user("accountant", is_staff=True)).get(
        "/admin/finance/financereport/orders/export/csv/?currency=RUB&page=3")
    assert answer.status_code == 302 and answer["Location"] == "/api/v1/reports/orders/csv/?currency=RUB"
    assert not JobProgress.objects.exists()


def test_admin_report_file_too_large_becomes_a_job_with_its_progress_page(book, make_user, settings):  # noqa: F811
    """A browser must not land on the API's 202 JSON: the admin starts the job and opens its page."""
    settings.EXPORT_BACKGROUND_ROWS = 2  # the book's orders report has 3 rows
    browser = _admin(make_user("accountant", is_staff=True))
    answer = browser.get("/admin/finance/financereport/orders/export/xlsx/")
    progress = JobProgress.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/admin/jobs/jobprogress/{progress.pk}/change/"
    run_jobs()
    page = browser.get(answer["Location"]).content.decode()
    assert "Файл готовится в фоне" in page and "Скачать report-orders-" in page and ".xlsx" in page


def test_admin_report_file_in_background_on_request_and_bad_filters(book, make_user):  # noqa: F811
    browser = _admin(make_user("accountant", is_staff=True))
    assert browser.get("/admin/finance/financereport/orders/export/csv/?background=1").status_code == 302
    assert JobProgress.objects.get().title == "Выгрузка отчёта «Отчёт по заказам»"
    assert browser.get("/admin/finance/financereport/orders/export/csv/?background=0").status_code == 302
    assert JobProgress.objects.count() == 1  # "0" is "no", as in the API: the small file streams
    assert browser.get("/admin/finance/financereport/orders/export/csv/?background=-1")["Location"].startswith(
        "/admin/finance/financereport/orders/?")  # not a boolean: back to the filters with a message
    bad = browser.get("/admin/finance/financereport/orders/export/csv/?date_from=вчера")
    assert bad.status_code == 302 and bad["Location"].startswith("/admin/finance/financereport/orders/?")
    assert browser.get("/admin/finance/financereport/orders/export/pdf/").status_code == 404
    assert browser.get("/admin/finance/financereport/nothing/export/csv/").status_code == 404
    operator = _admin(make_user("operator", is_staff=True))
    assert operator.get("/admin/finance/financereport/orders/export/csv/").status_code == 403
