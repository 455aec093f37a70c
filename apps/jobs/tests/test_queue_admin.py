"""«Фоновые задачи → Очередь задач»: Procrastinate's jobs in Russian for the supervisor, with history,
a retry of a failed job and a cancel of a waiting one; nobody else sees the queue."""

import re

import pytest
from django.db import connection
from django.test import Client as BrowserClient
from procrastinate.contrib.django import app

from apps.jobs.models import QueueJob

pytestmark = pytest.mark.django_db(transaction=True)  # the job manager works on committed rows

ENGLISH = ("Task Name", "Task name", "Summary", "Procrastinate", "Queueing lock", "Retry Job", "Cancel Job", "Todo",
           "Deferred", "Attempts", "Scheduled at", "Worker", "Event ")


def browser(user) -> BrowserClient:
    client = BrowserClient()
    client.force_login(user)
    return client


def _status(job_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id])
        return cursor.fetchone()[0]


def test_the_queue_in_russian_with_history_retry_and_cancel(make_user):
    waiting = app.configure_task(name="finance.fetch_rates", queue="default").defer()
    failed = app.configure_task(name="integrations.poll_mailbox", queue="intake").defer(integration_id=1)
    with connection.cursor() as cursor:  # as a worker leaves a job whose attempts are spent
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed', attempts = 5 WHERE id = %s", [failed])
    supervisor = browser(make_user("supervisor", is_staff=True))

    page = supervisor.get("/admin/jobs/queuejob/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Очередь задач" in text and "Загрузка курсов ЦБ" in text and "Проверка почтового ящика" in text
    assert "в очереди" in text and "ошибка" in text
    for english in ENGLISH:
        assert not re.search(rf">[^<]*{english}[^<]*<", text), english
    assert supervisor.get("/admin/jobs/queuejob/?status=failed").context["cl"].result_count == 1

    detail = supervisor.get(f"/admin/jobs/queuejob/{waiting}/change/").content.decode()
    for english in ENGLISH:
        assert not re.search(rf">[^<]*{english}[^<]*<", detail), english
    assert "История задачи" in detail and "поставлена в очередь" in detail and "общая" in detail

    supervisor.post("/admin/jobs/queuejob/", {"action": "retry", "_selected_action": [failed, waiting]})
    assert _status(failed) == "todo" and _status(waiting) == "todo"
    supervisor.post("/admin/jobs/queuejob/", {"action": "cancel", "_selected_action": [waiting]})
    assert _status(waiting) == "cancelled"
    assert QueueJob.objects.count() == 2  # nothing deleted


def test_only_the_supervisor_sees_the_queue(make_user):
    app.configure_task(name="finance.fetch_rates", queue="default").defer()
    for role in ("operator", "accountant"):
        web = browser(make_user(role, is_staff=True))
        assert web.get("/admin/jobs/queuejob/").status_code == 403
        assert "/admin/jobs/queuejob/" not in web.get("/admin/").content.decode()
    assert browser(make_user("supervisor", is_staff=True)).get("/admin/procrastinate/").status_code == 404
