"""Running a Procrastinate worker in this process: the `worker` command and the tests.

The web process only *enqueues* jobs (through Django's own connection, inside the request's
transaction). A worker needs its own pooled psycopg connection for LISTEN/NOTIFY, so it swaps
the app's connector for the worker connector while it runs.
"""

from __future__ import annotations

import contextlib
import os

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from procrastinate.contrib.django import app, procrastinate_app
from procrastinate.periodic import PeriodicRegistry

FETCH_POLL_SECONDS = 0.2


def _fresh_connections(call_next, context, worker):
    """Sync tasks run in a thread pool with one Django connection per thread: drop a connection
    that broke or outlived CONN_MAX_AGE before and after each job, as a request would."""
    close_old_connections()
    try:
        return call_next()
    finally:
        close_old_connections()


# Async tasks that do the same themselves inside their own ORM hops (see own_connections).
_OWN_CONNECTIONS: set[str] = set()


def own_connections(task):
    """Mark an async task that calls close_old_connections() itself in its first and last hop to the
    ORM's thread, so the middleware below does not add two more thread hops around every run."""
    _OWN_CONNECTIONS.add(task.name)
    return task


async def _fresh_connections_async(call_next, context, worker):
    """The same for async tasks, whose ORM calls go through sync_to_async's one shared thread."""
    if context.job.task_name in _OWN_CONNECTIONS:
        return await call_next()
    await sync_to_async(close_old_connections)()
    try:
        return await call_next()
    finally:
        await sync_to_async(close_old_connections)()


@contextlib.contextmanager
def _without_schedules():
    real = procrastinate_app.current_app  # `app` is a read-only proxy of it
    saved = real.periodic_registry
    real.periodic_registry = PeriodicRegistry()
    try:
        yield
    finally:
        real.periodic_registry = saved


def run_worker(
    *,
    queues: list[str] | None = None,
    concurrency: int | None = None,
    once: bool = False,
    schedules: bool = True,
    name: str | None = None,
) -> None:
    """Run a worker until stopped (SIGINT/SIGTERM finish the running jobs first), or with
    once=True until no job is waiting (tests, `worker --once`). schedules=False leaves the
    periodic jobs to other workers (tests must not poll mailboxes behind their back)."""
    options = {
        "queues": queues,
        "concurrency": concurrency or settings.WORKER_CONCURRENCY,
        "wait": not once,
        "name": name,
        "listen_notify": not once,
        "install_signal_handlers": not once,
        "task_middleware": [_fresh_connections, _fresh_connections_async],
        "update_heartbeat_interval": settings.JOB_HEARTBEAT_SECONDS,
        "stalled_worker_timeout": settings.JOB_STALLED_SECONDS,
        "delete_jobs": "successful" if settings.JOB_DELETE_SUCCESSFUL else "never",
        # A job that was not ready when its NOTIFY came (the replies drain waiting behind the running
        # one's lock, a 429's retry_after) is found by this poll; Procrastinate's default is 5 s.
        # Five cheap fetches a second per idle worker.
        "fetch_job_polling_interval": FETCH_POLL_SECONDS,
    }
    plan = contextlib.ExitStack()
    with plan:
        plan.enter_context(app.replace_connector(app.connector.get_worker_connector()))
        if not schedules:
            plan.enter_context(_without_schedules())
        app.run_worker(**options)


def lower_priority() -> int:
    """The `worker` command's process yields the CPU to the web server's (WORKER_NICE); returns the
    niceness it runs at. Not for run_jobs: tests run the worker inside their own process."""
    if settings.WORKER_NICE > 0:
        return os.nice(settings.WORKER_NICE)
    return os.nice(0)


def run_jobs(queues: list[str] | None = None) -> None:
    """Tests: run every job waiting now (and the retries they schedule for now) with a real
    worker against the test database, then return. Jobs must be committed first, so tests that
    enqueue use `@pytest.mark.django_db(transaction=True)`."""
    run_worker(queues=queues, once=True, schedules=False, concurrency=1)
