"""The clients admin's export of many clients runs as a job (issue 15 point 3): the same CSV,
progress done / total, a file in object storage and a link; audited and access-logged."""

import pytest
from auditlog.models import LogEntry
from django.test import Client as BrowserClient

from apps.audit.models import AccessLogEntry
from apps.clients.tests.factories import make_client
from apps.jobs.models import JobProgress, ProgressStatus
from apps.jobs.worker import run_jobs
from conftest import fetch_download

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs
LIST_URL = "/admin/clients/client/"


def test_a_large_selection_is_exported_by_a_job(operator, settings):
    clients = [make_client(last_name=f"Фонов{n}", phones=[f"+7916777{n:04d}"]) for n in range(3)]
    browser = BrowserClient()
    browser.force_login(operator)
    form = {"action": "export_admin_action", "_selected_action": [c.pk for c in clients], "format": "0"}
    direct = browser.post(LIST_URL, form).content.decode("utf-8")

    settings.EXPORT_BACKGROUND_ROWS = 2
    response = browser.post(LIST_URL, form, follow=True)
    assert "файл готовится в фоне" in response.content.decode()
    progress = JobProgress.objects.get(kind="export")
    assert (progress.status, progress.total) == (ProgressStatus.QUEUED, 3)
    assert LogEntry.objects.filter(additional_data__event="export", additional_data__job=progress.pk).exists()
    assert AccessLogEntry.objects.filter(channel="export", client_ids=sorted(c.pk for c in clients)).exists()
    run_jobs()
    progress.refresh_from_db()
    assert (progress.status, progress.done, progress.total) == (ProgressStatus.SUCCEEDED, 3, 3)
    page = browser.get(f"/admin/jobs/jobprogress/{progress.pk}/change/").content.decode()
    assert "Скачать clients-" in page
    from apps.jobs.exports import export_file_url

    body, _ = fetch_download(export_file_url(progress))
    assert body.decode("utf-8") == direct and "+79167770001" in direct
