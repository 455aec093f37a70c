"""Replies drained by job workers through the local fake Bot API (issue 15's performance targets).

    .venv/bin/python bench/replies_drain.py [--replies 2000] [--workers 2] [--trickle 200] [--port 8152]

Phase 1 (latency): one worker idles; `--trickle` replies are enqueued one by one at ~20/s;
the wait of each reply (stored → its attempt started by the replies drain) gives p50/p95.
Phase 2 (durability): `--replies` replies enqueued at once, `--workers` worker processes drain
them while the fake answers 429 (retry_after 1 s) for the first 3 s; one worker is killed with
SIGKILL a third of the way through and started again. Twice = received more than once by the fake;
unconfirmed = left «доставка не подтверждена» (the killed worker's attempts in flight: not re-sent,
shown to the manager; the fake tells how many of them did reach it); lost = never received and not
shown as unconfirmed or failed. Runs in its own database (<DATABASE_URL name>_replies).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import bench_database_url, create_database  # noqa: E402

from apps.integrations.testing.fake_telegram import FakeTelegram  # noqa: E402 — stdlib-only fake

TOKEN = "7000009:AAHbenchTokenForTheDrain_abcdefghijklmno"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--port", type=int, default=8152)
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "its size is the queue (--replies, --trickle), made and drained in the run; no stored data "
        "it reads grows"))
    args = parser.parse_args()

    url = bench_database_url("_replies")
    create_database(url, drop=True)
    fake = FakeTelegram(args.port)
    fake.add_bot(TOKEN)
    fake.start()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true", "TELEGRAM_API_BASE_URL": fake.url,
           "JOB_HEARTBEAT_SECONDS": "1", "JOB_STALLED_SECONDS": "3", "JOB_DELETE_SUCCESSFUL": "false",
           "DJANGO_SETTINGS_MODULE": "travelcrm.settings"}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from procrastinate.exceptions import AlreadyEnqueued

    from apps.integrations.models import IntegrationSettings, OutboundMessage, OutboundStatus
    from apps.integrations.outbound import outbound_enqueue
    from apps.jobs.tasks import retry_stalled_jobs

    call_command("migrate", verbosity=0)
    bot = IntegrationSettings.objects.create(type="telegram", is_active=True, api_token_encrypted=TOKEN)

    def start_worker(name: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-schedules", "--concurrency", "4", "--name", name],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def enqueue(prefix: str, n: int, pause: float = 0.0) -> None:
        for index in range(n):
            with transaction.atomic():
                outbound_enqueue(channel="telegram", integration=bot, key=f"{prefix}:{index}",
                                 chat_id=900000 + index, text=f"{prefix} reply {index}")
            if pause:
                time.sleep(pause)

    def waits(prefix: str) -> list[float]:
        """Seconds from a reply's commit to the start of its (last) attempt by a worker: Telegram texts
        go to the replies drain, so there is no job per reply to time."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(EPOCH FROM attempt_started_at - created_at) FROM integrations_outboundmessage "
                "WHERE key LIKE %s AND attempt_started_at IS NOT NULL", [f"{prefix}:%"])
            return sorted(float(row[0]) for row in cursor.fetchall())

    def sent(prefix: str) -> Counter:
        return Counter(m["text"] for m in list(fake.sent) if m["text"].startswith(prefix + " "))

    def drained(prefix: str, n: int) -> bool:
        return not OutboundMessage.objects.filter(
            key__startswith=prefix + ":", status__in=(OutboundStatus.PENDING, OutboundStatus.SENDING)
        ).exists()

    # Phase 1: latency of a lone job on an idle worker.
    workers = [start_worker("w1")]
    time.sleep(4)
    enqueue("trickle", args.trickle, pause=0.05)
    deadline = time.monotonic() + 120
    while not drained("trickle", args.trickle) and time.monotonic() < deadline:
        time.sleep(0.2)
    trickle = waits("trickle")

    # Phase 2: a burst, 429 for a while, a worker killed mid-way.
    workers += [start_worker(f"w{i + 2}") for i in range(args.workers - 1)]
    time.sleep(3)
    fake.throttle_until = time.time() + 3
    fake.retry_after = 1
    started = time.monotonic()
    enqueue("burst", args.replies)
    enqueued = time.monotonic() - started
    killed = False
    deadline = time.monotonic() + 600
    while not drained("burst", args.replies) and time.monotonic() < deadline:
        if not killed and sum(sent("burst").values()) >= args.replies // 3:
            os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and nothing else: its own session
            workers[0].wait()
            killed = True
            time.sleep(1)
            workers[0] = start_worker("w1-restarted")
        try:
            retry_stalled_jobs.defer(timestamp=int(time.time()))  # what the every-minute schedule does
        except AlreadyEnqueued:
            pass
        time.sleep(1)
    drain = time.monotonic() - started
    time.sleep(1)
    counts = sent("burst")
    expected = {f"burst reply {i}" for i in range(args.replies)}
    statuses = dict(OutboundMessage.objects.filter(key__startswith="burst:").values_list("text", "status"))
    visible = {text for text, status in statuses.items() if status in (OutboundStatus.UNCONFIRMED,
                                                                        OutboundStatus.FAILED)}
    unconfirmed = {text for text, status in statuses.items() if status == OutboundStatus.UNCONFIRMED}
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(60)
    fake.stop()
    burst = waits("burst")
    p = lambda values, q: round(statistics.quantiles(values, n=100)[q - 1], 3) if len(values) > 1 else None  # noqa: E731
    print({
        "trickle_jobs": len(trickle), "trickle_wait_p50_s": p(trickle, 50), "trickle_wait_p95_s": p(trickle, 95),
        "burst_replies": args.replies, "workers": args.workers, "killed_one_worker": killed,
        "answered_429": fake.throttled, "enqueue_s": round(enqueued, 1), "drain_s": round(drain, 1),
        "replies_per_s": round(args.replies / drain, 1), "lost": len(expected - set(counts) - visible),
        "sent_twice": sum(1 for c in counts.values() if c > 1), "unconfirmed": len(unconfirmed),
        "unconfirmed_but_delivered": len(unconfirmed & set(counts)),
        "failed": sum(1 for status in statuses.values() if status == OutboundStatus.FAILED),
        "burst_wait_p95_s": p(burst, 95),
    })


if __name__ == "__main__":
    main()
