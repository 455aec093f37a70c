"""Telegram webhook under load: 2 000 text updates, each posted twice (as Telegram retries), 8 senders.

    scripts/devservices.py exec -- .venv/bin/python bench/telegram_webhook.py
    .venv/bin/python bench/telegram_webhook.py --updates 2000 --senders 8 --port 8150 --fake-port 8160

Production-like: DEBUG=false (random throw-away secrets), gunicorn with 2 sync workers on
127.0.0.1:<port>, persistent database connections, the JSON request log on (to /dev/null), real
PostgreSQL and S3. The Bot API is the local fake (apps/integrations/testing/fake_telegram.py) on
127.0.0.1:<fake-port>: the bot is added (getMe) and activated (setWebhook with a random secret)
through the services, and every update is answered with sendMessage, as in production.
Customers: updates/4 distinct Telegram users, 4 messages each (so appends to open leads race too).
Runs in its own database (<name>_telegram_bench). Checks after the run: every response 200,
one inbox item / lead message / reply per update, one lead per customer — 0 lost, 0 duplicates.
Prints a JSON summary; target p95 <= 100 ms.
"""

import argparse
import http.client
import json
import os
import queue
import random
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from benchdb import (  # noqa: E402 — bench/ is the script's own folder
    add_scale_argument,
    bench_database_url,
    create_database,
    scaled_suffix,
    vacuum_analyze,
)
from gunicorn_server import start_gunicorn, stop  # noqa: E402 — bench/ is the script's own folder

sys.path.insert(0, str(ROOT))

from apps.integrations.testing.fake_telegram import FakeTelegram  # noqa: E402 — stdlib-only fake

MESSAGES_PER_CUSTOMER = 4


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _own_database(scale: int = 1) -> str:
    """The run writes leads encrypted with throw-away keys: in a developer's database they could never
    be read back (the admin's lead pages would fail on them)."""
    url = bench_database_url(scaled_suffix("_telegram_bench", scale))
    create_database(url)
    return url


def bench_environment(port: int, fake_url: str, scale: int = 1) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DATABASE_URL=_own_database(scale),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        BLIND_INDEX_KEY=secrets.token_urlsafe(40),
        ADMIN_PASSWORD=secrets.token_urlsafe(16),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DB_CONN_MAX_AGE="600",
        TELEGRAM_API_BASE_URL=fake_url,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        DJANGO_SETTINGS_MODULE="travelcrm.settings",
    )
    return env


SETUP = """
import django; django.setup()
from django.conf import settings
from apps.accounts.models import Role, User
from apps.core.storage import ensure_bucket
from apps.integrations import services
try:
    ensure_bucket()
except Exception:
    pass
user, _ = User.objects.get_or_create(email="bench-telegram@bench.travelcrm",
                                     defaults={"role": Role.SUPERVISOR, "full_name": "Нагрузочный Тест"})
bot = services.integration_add(actor=user, admin_password=settings.ADMIN_PASSWORD, type="telegram",
                               purpose="sales", data={"api_token": TOKEN})
services.integration_activate(actor=user, integration=bot)
print(bot.pk)
"""

VERIFY = """
import django, json; django.setup()
from apps.integrations.models import InboxItem
from apps.leads.models import Lead, LeadMessage
bot_id = BOT_ID
prefix = f"{bot_id}:"
items = InboxItem.objects.filter(integration_id=bot_id)
messages = LeadMessage.objects.filter(channel="telegram", external_id__startswith=prefix)
print(json.dumps({
    "inbox_items": items.count(),
    "inbox_not_processed": items.exclude(status="processed").count(),
    "lead_messages": messages.count(),
    "distinct_message_ids": messages.values("external_id").distinct().count(),
    "leads": Lead.objects.filter(messages__external_id__startswith=prefix).distinct().count(),
}))
"""


def run_django(code: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"django script failed: {result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def make_updates(count: int, run_seed: int) -> list[dict]:
    base_user = 900_000_000 + (run_seed % 1000) * 100_000
    updates = []
    for index in range(count):
        user_id = base_user + index // MESSAGES_PER_CUSTOMER
        updates.append(
            {
                "update_id": 10_000 + index,
                "message": {
                    "message_id": index + 1,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private", "first_name": "Клиент"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "Клиент", "last_name": str(index // 4)},
                    "text": f"Здравствуйте! Хочу тур, сообщение {index % MESSAGES_PER_CUSTOMER + 1}",
                },
            }
        )
    return updates


def send_all(
    port: int, path: str, secret: str, bodies: list[bytes | None], senders: int, rate: float = 0.0
) -> tuple[list[float], list[int]]:
    """POST each body (GET when the body is None) from `senders` keep-alive connections: as fast as
    they answer (closed loop), or with `rate` > 0 body i is due at start + i / rate (open loop, as
    Telegram delivers: arrivals do not wait for answers) and its latency counts from when it was due,
    so a server falling behind shows its queueing delay too."""
    work: queue.Queue = queue.Queue()
    for index, body in enumerate(bodies):
        work.put((index, body))
    start = time.perf_counter()
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local_lat, local_status = [], []
        while True:
            try:
                index, body = work.get_nowait()
            except queue.Empty:
                break
            started = time.perf_counter()
            if rate > 0:
                due = start + index / rate
                if due > started:
                    time.sleep(due - started)
                started = due
            try:
                if body is None:
                    conn.request("GET", path)
                else:
                    conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                local_status.append(response.status)
            except OSError:
                local_status.append(0)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local_lat.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local_lat)
            statuses.extend(local_status)

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def wait_for_worker(url: str, since: datetime, timeout: float = 60.0) -> None:
    """A worker is started long before traffic in production: measure only once it has started
    (its heartbeat row exists), so its start-up CPU (Django, tasks) does not land on the first posts."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat >= %s"
            if conn.execute(query, [since]).fetchone()[0]:
                break
            time.sleep(0.2)
    time.sleep(1.0)


def percentile(sorted_values: list[float], p: float) -> float:
    return round(sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))] * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=None, help="overrides --scale (default 2 000 x scale)")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="posts per second, open loop (default 0: as fast as the senders get answers)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--fake-port", type=int, default=8160)
    parser.add_argument("--baseline-requests", type=int, default=400)
    add_scale_argument(parser, sizes="1 = 2 000 distinct updates (500 customers' leads), 10 = 20 000 (5 000); "
                                     "the leads of earlier runs stay in the scale's database")
    args = parser.parse_args()
    args.updates = args.updates or 2000 * args.scale

    token = f"{random.randint(10**8, 10**9)}:{secrets.token_urlsafe(30)}"
    fake = FakeTelegram(args.fake_port).start()
    fake.add_bot(token, username="bench_bot")
    env = bench_environment(args.port, fake.url, args.scale)
    log("migrating")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    vacuum_analyze(env["DATABASE_URL"])  # the leads of earlier runs: statistics as production has them
    bot_id = int(run_django(SETUP.replace("TOKEN", repr(token)), env))
    secret = fake.webhooks[token]["secret_token"]
    path = f"/api/v1/integrations/telegram/{bot_id}/webhook/"
    updates = make_updates(args.updates, bot_id)
    bodies = [json.dumps(update).encode() for update in updates for _ in range(2)]
    rng = random.Random(bot_id)
    # Each update twice; the retry lands a little later (within ~50 posts), as Telegram's does.
    order = sorted(range(len(bodies)), key=lambda i: i + (rng.randint(1, 50) if i % 2 else 0))
    bodies = [bodies[i] for i in order]

    process = start_gunicorn(env, args.port, args.workers)
    # Replies are jobs (issue 15): one worker beside the web server, as `make run` and compose run it.
    worker = None
    if (ROOT / "apps" / "jobs").is_dir():
        since = datetime.now(UTC)
        worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--no-schedules"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_worker(env["DATABASE_URL"], since)
    time.sleep(2.0)  # gunicorn's workers import the app after it answers: let both sides settle alike
    try:
        # Baseline of the same run: the cheapest endpoint, same senders — how loaded the machine is.
        started = time.monotonic()
        base_lat, _ = send_all(args.port, "/health/live", "", [None] * args.baseline_requests, args.senders)
        base_elapsed = time.monotonic() - started
        base_lat.sort()
        log(f"posting {len(bodies)} updates ({args.updates} unique) with {args.senders} senders")
        started = time.monotonic()
        latencies, statuses = send_all(args.port, path, secret, bodies, args.senders, args.rate)
        elapsed = time.monotonic() - started
        # Replies leave on each worker's client loop after the response: give them time to land.
        deadline = time.monotonic() + 30
        while sum(1 for m in fake.sent if m["token"] == token) < args.updates and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop(process)
        if worker is not None:
            stop(worker)
    counts = json.loads(run_django(VERIFY.replace("BOT_ID", str(bot_id)), env))
    fake.stop()

    replies = [m for m in fake.sent if m["token"] == token]
    customers = args.updates // MESSAGES_PER_CUSTOMER
    latencies.sort()
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores",
        "posts": len(bodies),
        "unique_updates": args.updates,
        "senders": args.senders,
        "rate_per_s": args.rate or "closed loop",
        "gunicorn_workers": args.workers,
        "elapsed_s": round(elapsed, 2),
        "posts_per_s": round(len(bodies) / elapsed, 1),
        "updates_per_s": round(args.updates / elapsed, 1),
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "non_200": sum(1 for status in statuses if status != 200),
        "baseline_health_live": {
            "requests": len(base_lat),
            "rps": round(len(base_lat) / base_elapsed, 1),
            "p50_ms": percentile(base_lat, 0.50),
            "p95_ms": percentile(base_lat, 0.95),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **counts,
        "expected_leads": customers,
        "replies_sent": len(replies),
        "distinct_replies": len({(m["chat_id"], m["text"]) for m in replies}),
    }
    ok = (
        summary["non_200"] == 0
        and counts["inbox_items"] == args.updates
        and counts["inbox_not_processed"] == 0
        and counts["lead_messages"] == args.updates == counts["distinct_message_ids"]
        and counts["leads"] == customers
        and len(replies) == args.updates
    )
    summary["lost"] = args.updates - counts["lead_messages"]
    extra_leads = max(0, counts["leads"] - customers)
    summary["duplicates"] = counts["lead_messages"] - counts["distinct_message_ids"] + extra_leads
    summary["verdict"] = "OK" if ok else "FAILED"
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
