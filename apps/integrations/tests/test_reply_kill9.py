"""A worker killed with SIGKILL in the middle of sending a reply: after the restart the job runs
again, finds the attempt in flight and does not send blindly — the reply becomes «доставка не
подтверждена» for the manager, who sends it once more (issue 15: never lost, never twice)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.integrations.models import OutboundMessage, OutboundStatus
from apps.integrations.outbound import outbound_enqueue, outbound_resend
from apps.jobs.tasks import retry_stalled_jobs
from apps.jobs.worker import run_jobs

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_kill_9_mid_send_then_restart_is_unconfirmed_and_resent_once(telegram_bot, fake_telegram, settings):
    outbound_enqueue(channel="telegram", integration=telegram_bot, key="kill9:1", chat_id=555001,
                     text="Ваша заявка № 7 получена.")
    fake_telegram.hold_sends = True  # the worker's sendMessage hangs on the wire...
    env = {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "true",
           "TELEGRAM_API_BASE_URL": fake_telegram.url, "JOB_HEARTBEAT_SECONDS": "0.5"}
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--no-schedules", "--concurrency", "1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: fake_telegram.held == 1)
        assert ProcrastinateJob.objects.get(task_name="integrations.drain_replies").status == "doing"
        os.kill(worker.pid, signal.SIGKILL)  # ...and the worker dies right there
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    fake_telegram.release(drop=True)  # that request never reached Telegram
    assert fake_telegram.sent == []

    settings.JOB_STALLED_SECONDS = 1  # the dead worker missed its heartbeats
    time.sleep(1.5)
    retry_stalled_jobs.defer(timestamp=0)  # what the every-minute schedule runs
    run_jobs()  # a worker after the restart: puts the job back, then runs it
    run_jobs()
    assert fake_telegram.sent == []  # Telegram may or may not have had it: not sent again blindly
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.UNCONFIRMED
    outbound_resend(message_id=message.pk)  # the manager's «Отправить ещё раз»
    run_jobs()
    assert [m["text"] for m in fake_telegram.sent] == ["Ваша заявка № 7 получена."]
    message.refresh_from_db()
    assert message.status == OutboundStatus.SENT
    assert not ProcrastinateJob.objects.filter(status__in=["todo", "doing"]).exists()
