"""jobs.retry_stalled: jobs of a dead worker go back to the queue."""

import pytest
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.jobs.tasks import retry_stalled_jobs
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs


def _job(status: str, *, task="integrations.drain_replies", lock=None, queueing_lock=None, worker=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status, lock, queueing_lock, args, worker_id) "
            "VALUES ('replies', %s, %s, %s, %s, '{}', %s) RETURNING id", [task, status, lock, queueing_lock, worker])
        return cursor.fetchone()[0]


def _dead_worker() -> int:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') "
                       "RETURNING id")
        return cursor.fetchone()[0]


def test_a_stalled_job_goes_back_to_the_queue(settings):
    settings.JOB_STALLED_SECONDS = 5
    stalled = _job("doing", task="integrations.answer_callback", worker=_dead_worker())
    retry_stalled_jobs.defer(timestamp=0)
    run_jobs(queues=["default"])
    assert ProcrastinateJob.objects.get(pk=stalled).status == "todo"


def test_a_stalled_job_whose_twin_waits_is_ended_and_frees_its_lock(settings):
    """A dead worker's replies drain, while the next drain waits (same queueing lock): putting the dead
    one back would break the lock's uniqueness (it failed every minute, for ever) and its `lock`
    kept the waiting one from starting. It is ended; the waiting one runs."""
    settings.JOB_STALLED_SECONDS = 5
    name = "integrations.drain_replies"
    stalled = _job("doing", lock=name, queueing_lock=name, worker=_dead_worker())
    waiting = _job("todo", lock=name, queueing_lock=name)
    retry_stalled_jobs.defer(timestamp=0)
    run_jobs(queues=["default"])
    assert ProcrastinateJob.objects.get(pk=stalled).status == "failed"
    assert not ProcrastinateJob.objects.filter(task_name__endswith="retry_stalled_jobs", status="failed").exists()
    run_jobs(queues=["replies"])
    assert not ProcrastinateJob.objects.filter(pk=waiting, status="todo").exists()  # ran (and was deleted)

