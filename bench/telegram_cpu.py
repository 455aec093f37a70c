"""Telegram webhook, in process: CPU ms and SQL statements per update (new lead / append / retry).

    scripts/devservices.py exec -- .venv/bin/python bench/telegram_cpu.py [--updates 300] [--fake-port 8161]

On a shared 2-core machine the load benchmark (bench/telegram_webhook.py) moves with the
neighbours' load; CPU time per update does not, and it is what limits the updates/s of a worker.
Posts updates through Django's test client (the whole middleware stack, DEBUG off, the request log
on) to a bot added and activated through the services against the local fake Bot API, and
measures per update: the request thread's CPU, the reply jobs' CPU (a worker in this process runs
them after the requests: Procrastinate's fetch and finish, the claim, sendMessage, the `sent`
update — without the fake Bot API's own CPU, counted apart as fake_bot_api_cpu_ms), the PostgreSQL
backend's CPU of the requests (read from /proc when the server runs on this machine, else null),
and the statements of one update.
Prints one JSON object.
"""

import argparse
import json
import os
import random
import secrets
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram_webhook import bench_environment  # noqa: E402 — bench/ is the script's own folder

from apps.integrations.testing.fake_telegram import FakeTelegram  # noqa: E402 — stdlib-only fake

TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(name: str) -> float:
    """CPU seconds of this process's thread with that name (0 when it does not run yet)."""
    for thread in threading.enumerate():
        if thread.name == name and thread.native_id:
            return _proc_cpu(f"/proc/self/task/{thread.native_id}/stat") or 0.0
    return 0.0


def _proc_cpu(path: str) -> float | None:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _count_fake_cpu(fake) -> list[float]:
    """The fake Bot API answers in threads of this process: count their CPU (each request's
    thread_time) so that it is not taken for the worker's."""
    spent = [0.0]
    handler = fake.httpd.RequestHandlerClass
    original = handler.handle_one_request

    def counted(self):
        started = time.thread_time()
        try:
            original(self)
        finally:
            spent[0] += time.thread_time() - started

    handler.handle_one_request = counted
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=300, help="updates measured per kind")
    parser.add_argument("--fake-port", type=int, default=8161)
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "CPU ms and statements per update, in process, on a fresh bot: an update touches the rows "
        "of its own chat through indexed lookups (the webhook under a growing leads table: "
        "bench/telegram_webhook.py --scale)"))
    args = parser.parse_args()

    fake = FakeTelegram(args.fake_port).start()
    fake_cpu = _count_fake_cpu(fake)
    token = f"{random.randint(10**8, 10**9)}:{secrets.token_urlsafe(30)}"  # noqa: S311 — a test token
    fake.add_bot(token, username="cpu_bench_bot")
    os.environ.update(bench_environment(0, fake.url))
    os.environ.update(ALLOWED_HOSTS="testserver", PUBLIC_BASE_URL="http://127.0.0.1:9")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import Role, User
    from apps.integrations import services
    from apps.jobs.worker import run_jobs

    call_command("migrate", verbosity=0)  # its own database (bench_database_url), maybe new
    user, _ = User.objects.get_or_create(
        email="bench-telegram@bench.travelcrm", defaults={"role": Role.SUPERVISOR, "full_name": "Нагрузочный Тест"}
    )
    bot = services.integration_add(
        actor=user, admin_password=settings.ADMIN_PASSWORD, type="telegram", purpose="sales", data={"api_token": token}
    )
    services.integration_activate(actor=user, integration=bot)
    path = f"/api/v1/integrations/telegram/{bot.pk}/webhook/"
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": fake.webhooks[token]["secret_token"]}
    http = Client()
    base = random.randint(10**8, 10**9)  # noqa: S311 — update and user ids of this run
    sent = [0]

    def post(customer_messages: int = 1, body: str | None = None) -> str:
        if body is None:
            index = sent[0]
            sent[0] += 1
            user_id = base + index // customer_messages
            body = json.dumps(
                {
                    "update_id": base + index,
                    "message": {
                        "message_id": index + 1,
                        "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private"},
                        "from": {"id": user_id, "is_bot": False, "first_name": "Клиент", "last_name": str(index)},
                        "text": "Здравствуйте! Хочу тур",
                    },
                }
            )
        response = http.post(path, body, content_type="application/json", **headers)
        assert response.status_code == 200, response.content
        return body

    def backend_cpu() -> float | None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        return _proc_cpu(f"/proc/{pid}/stat")

    def measure(send) -> tuple[dict, list]:
        pg, wall = backend_cpu(), time.perf_counter()
        request = thread_cpu("MainThread")
        bodies = [send(index) for index in range(args.updates)]
        request = thread_cpu("MainThread") - request
        pg_after = backend_cpu()
        # The replies are jobs now: a worker (in this process) sends them after the requests.
        worker, fake_before = time.process_time(), fake_cpu[0]
        run_jobs()
        fake_spent = fake_cpu[0] - fake_before
        worker = time.process_time() - worker - fake_spent
        per = 1000 / args.updates
        figures = {
            "request_cpu_ms": round(request * per, 2),
            "reply_job_cpu_ms": round(worker * per, 2),
            "fake_bot_api_cpu_ms": round(fake_spent * per, 2),
            "postgres_cpu_ms": round((pg_after - pg) * per, 2) if pg is not None and pg_after is not None else None,
            "wall_ms": round((time.perf_counter() - wall) * per, 2),
        }
        return figures, bodies

    def statements(send) -> int:
        with CaptureQueriesContext(connection) as queries:
            send()
        return len(queries.captured_queries)

    for _ in range(30):  # warm-up: imports, the Bot API client, content types
        post()
    run_jobs()
    result = {"updates_per_kind": args.updates}
    result["new_lead"], _ = measure(lambda index: post())
    result["new_lead"]["statements"] = statements(post)
    sent[0] = (sent[0] // 4 + 1) * 4  # the next updates: 4 messages per customer, so 3 of 4 append
    result["append_1_of_4_new"], bodies = measure(lambda index: post(4))
    result["duplicate"], _ = measure(lambda index: post(body=bodies[index]))
    sent[0] = (sent[0] // 4 + 1) * 4
    post(4)
    result["append_1_of_4_new"]["append_statements"] = statements(lambda: post(4))
    result["duplicate"]["statements"] = statements(lambda: post(body=bodies[0]))
    fake.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
