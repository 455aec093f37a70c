"""Managers are not queued behind a report (issue 19 point 5): the Telegram webhook and the client
list, idle and while a loop of heavy requests runs, against gunicorn started as deployed.

    python scripts/devservices.py exec -- .venv/bin/python bench/heavy_isolation.py [--seconds 20] [--rounds 2]

1. Seeds its own database ("<name>_heavy_bench", "_heavy_bench_x10" at --scale 10) with
   bench/finance_reports.py's seed (100 000 orders x scale, 300 000 payments, 20 000 clients), a demo
   order with 10 services for the PDFs, an accountant and an operator, and a Telegram bot added and
   activated through the services against the local fake Bot API (127.0.0.1:<fake-port>).
2. Starts gunicorn with the Dockerfile's GUNICORN_CMD_ARGS (workers, threads, timeouts — what is
   deployed; only --bind differs) and one `manage.py worker` (Telegram replies are jobs), DEBUG off.
3. Managers: --senders threads post new Telegram updates to the webhook and --listers threads read
   GET /api/v1/clients/?page_size=50 as the operator, each with --think seconds between requests.
4. Phases, interleaved so the shared machine's drift hits both alike: idle (managers only) and
   heavy (managers + --heavy-users threads looping over a year's clients report, the orders report
   as XLSX and CSV, the debts CSV, the 1C file of a month and an invoice PDF — more of them at once
   than HEAVY_REQUEST_SLOTS; a 503 server_busy is counted and retried after 1 s).
5. Prints per phase: p50/p95 of each manager endpoint, the heavy requests done/refused and their
   p50, the machine's CPU busy share (/proc/stat) and the web workers' CPU seconds; then the
   heavy/idle p95 ratio per endpoint against the target (<= 1.5).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import finance_reports as base  # noqa: E402 — bench/ is the script's own folder
from benchdb import add_scale_argument, create_database, scaled_suffix, vacuum_analyze  # noqa: E402
from gunicorn_server import stop as stop_server  # noqa: E402


def log(message: str) -> None:
    print(f"[heavy] {time.strftime('%H:%M:%S', time.gmtime())} {message}", file=sys.stderr, flush=True)


def deployed_gunicorn_args(port: int) -> str:
    """The Dockerfile's GUNICORN_CMD_ARGS with --bind moved to 127.0.0.1:port."""
    text = (ROOT / "Dockerfile").read_text()
    found = re.search(r'GUNICORN_CMD_ARGS="([^"]+)"', text)
    if not found:
        raise SystemExit("bench: no GUNICORN_CMD_ARGS in the Dockerfile")
    args = shlex.split(found.group(1))
    if "--bind" in args:
        at = args.index("--bind")
        del args[at:at + 2]
    return " ".join(["--bind", f"127.0.0.1:{port}", *args])


# --- Setup (in this process) ----------------------------------------------------------------------


def prepare(args) -> dict:
    """Seed when needed; users, tokens, the bot and the PDF order. Returns what the clients need."""
    from django.conf import settings
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.models import Role, User
    from apps.core.storage import ensure_bucket
    from apps.documents.demo import build_demo_order, ensure_requisites
    from apps.integrations import services as integrations
    from apps.orders.models import Order

    call_command("migrate", verbosity=0)
    if Order.objects.count() < args.orders:
        if Order.objects.exists():
            raise SystemExit("bench: the database holds a different data set; run with --reseed")
        base.seed(args.orders)
        vacuum_analyze(os.environ["DATABASE_URL"])
    try:
        ensure_bucket()
    except Exception as error:  # SeaweedFS may leave an existing bucket out of ListBuckets
        if "BucketAlreadyOwned" not in repr(error):
            raise
    ensure_requisites()
    accountant, _ = User.objects.get_or_create(email="heavy-accountant@bench.travelcrm",
                                               defaults={"role": Role.ACCOUNTANT, "full_name": "Бухгалтер"})
    operator, _ = User.objects.get_or_create(email="heavy-operator@bench.travelcrm",
                                             defaults={"role": Role.OPERATOR, "full_name": "Менеджер"})
    supervisor, _ = User.objects.get_or_create(email="heavy-supervisor@bench.travelcrm",
                                               defaults={"role": Role.SUPERVISOR, "full_name": "Руководитель"})
    pdf_order = Order.objects.filter(notes__startswith="Демо-заказ").order_by("-id").first()
    if pdf_order is None:
        pdf_order = build_demo_order(services=10, actor=operator, unique="91")
    bot = integrations.integration_add(actor=supervisor, admin_password=settings.ADMIN_PASSWORD, type="telegram",
                                       purpose="sales", data={"api_token": args.bot_token})
    integrations.integration_activate(actor=supervisor, integration=bot)
    return {
        "accountant": str(AccessToken.for_user(accountant)),
        "operator": str(AccessToken.for_user(operator)),
        "bot_id": bot.pk,
        "pdf_order": pdf_order.pk,
    }


def heavy_requests(ctx: dict) -> list[tuple[str, str, str, bytes | None, str]]:
    """(label, method, path, body, token) of the heavy loop: what a busy accountant and manager start."""
    today = datetime.now(UTC).date()
    year_ago = today - timedelta(days=365)
    month_start = today.replace(day=1) - timedelta(days=1)
    month_start = month_start.replace(day=1)
    month_end = today.replace(day=1) - timedelta(days=1)
    period = f"date_from={year_ago}&date_to={today}"
    accountant, operator = ctx["accountant"], ctx["operator"]
    return [
        ("clients report, a year", "GET", f"/api/v1/reports/clients/?{period}", None, accountant),
        ("orders report XLSX, a year", "GET", f"/api/v1/reports/orders/xlsx/?{period}", None, accountant),
        ("1C payments, a month", "GET", f"/api/v1/exports/1c/payments/?from={month_start}&to={month_end}", None,
         accountant),
        ("debts CSV", "GET", "/api/v1/reports/debts/csv/", None, accountant),
        ("invoice PDF", "POST", f"/api/v1/orders/{ctx['pdf_order']}/documents/",
         b'{"type": "invoice", "confirm": true}', operator),
        ("orders report CSV, a year", "GET", f"/api/v1/reports/orders/csv/?{period}", None, accountant),
    ]


# --- Load -------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[str, str, float, int]] = []  # (phase, label, seconds, status)
        self.phase = "warmup"

    def add(self, label: str, seconds: float, status: int) -> None:
        with self.lock:
            # A heavy request belongs to the heavy phase whenever it ends (many outlast the window).
            phase = "heavy" if label.startswith("heavy: ") else self.phase
            self.rows.append((phase, label, seconds, status))


def request(conn_box: list, port: int, method: str, path: str, body: bytes | None, headers: dict) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        conn = conn_box[0]
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        while response.read(1 << 16):  # streamed exports: read to the end, as a browser does
            pass
        status = response.status
    except (OSError, http.client.HTTPException):
        conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        status = 0
    return time.perf_counter() - started, status


def manager_loop(stop: threading.Event, recorder: Recorder, port: int, label: str, next_request, think: float) -> None:
    conn_box = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)]
    rng = random.Random(label)
    while not stop.is_set():
        method, path, body, headers = next_request()
        seconds, status = request(conn_box, port, method, path, body, headers)
        recorder.add(label, seconds, status)
        stop.wait(think * (0.5 + rng.random()))


def heavy_loop(stop: threading.Event, recorder: Recorder, port: int, items: list, start: int, boxes: list) -> None:
    conn_box = [http.client.HTTPConnection("127.0.0.1", port, timeout=300)]
    boxes.append(conn_box)
    index = start
    while not stop.is_set():
        label, method, path, body, token = items[index % len(items)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        index += 1
        seconds, status = request(conn_box, port, method, path, body, headers)
        if stop.is_set() and status == 0:
            break  # cut off at the end of the phase: not a result
        recorder.add("heavy: " + label, seconds, status)
        if status == 503:
            stop.wait(1.0)  # a client honouring Retry-After would wait 30 s; 1 s keeps the pressure on


def abort(boxes: list) -> None:
    """Hang up on the heavy requests still running: the server stops at its next write."""
    for box in boxes:
        with contextlib.suppress(OSError, AttributeError):
            box[0].sock.shutdown(socket.SHUT_RDWR)


def wait_for_free_slots(limit: float = 180) -> float:
    """Seconds until no heavy slot is held (the server has dropped the work we hung up on)."""
    from django.db import connection

    from apps.core.heavy import LOCK_CLASS

    started = time.monotonic()
    while time.monotonic() - started < limit:
        with connection.cursor() as cursor:
            cursor.execute(  # advisory locks are per database: other databases' tests hold slots of their own
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", [LOCK_CLASS])
            if not cursor.fetchone()[0]:
                break
        time.sleep(1)
    return time.monotonic() - started


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def process_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


# --- Main ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--rounds", type=int, default=2, help="idle + heavy phase pairs (A B B A ...)")
    parser.add_argument("--senders", type=int, default=2, help="threads posting Telegram updates")
    parser.add_argument("--listers", type=int, default=2, help="threads reading the client list")
    parser.add_argument("--think", type=float, default=0.2, help="seconds between a manager's requests (mean)")
    parser.add_argument("--heavy-users", type=int, default=8, help="threads looping over heavy requests")
    parser.add_argument("--slots", type=int, default=None, help="HEAVY_REQUEST_SLOTS for the server (default: as set)")
    parser.add_argument("--gunicorn-args", default=None, help="instead of the Dockerfile's (--bind is added)")
    parser.add_argument("--port", type=int, default=8240)
    parser.add_argument("--fake-port", type=int, default=8241)
    parser.add_argument("--orders", type=int, default=None, help="overrides --scale")
    parser.add_argument("--reseed", action="store_true")
    add_scale_argument(parser, sizes="1 = 100 000 orders, 300 000 payments; 10 = 1 000 000 / 3 000 000")
    args = parser.parse_args()
    args.orders = args.orders or 100_000 * args.scale

    from apps.integrations.testing.fake_telegram import FakeTelegram

    args.bot_token = f"{random.randint(10**8, 10**9)}:{os.urandom(20).hex()}"
    fake = FakeTelegram(args.fake_port).start()
    fake.add_bot(args.bot_token, username="heavy_bench_bot")
    base.configure_environment(suffix=scaled_suffix("_heavy_bench", args.scale))
    os.environ.update({"TELEGRAM_API_BASE_URL": fake.url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
                       "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING"})
    if args.slots is not None:
        os.environ["HEAVY_REQUEST_SLOTS"] = str(args.slots)
    create_database(os.environ["DATABASE_URL"], drop=args.reseed)
    import django

    django.setup()
    from django.conf import settings

    ctx = prepare(args)
    secret = fake.webhooks[args.bot_token]["secret_token"]
    gunicorn_args = (f"--bind 127.0.0.1:{args.port} {args.gunicorn_args}" if args.gunicorn_args
                     else deployed_gunicorn_args(args.port))
    env = {**os.environ, "GUNICORN_CMD_ARGS": gunicorn_args}
    log(f"gunicorn {gunicorn_args}; HEAVY_REQUEST_SLOTS={settings.HEAVY_REQUEST_SLOTS}; "
        f"{args.heavy_users} heavy users; {os.cpu_count()} CPUs")
    web = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "travelcrm.wsgi:application"], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--no-schedules"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health/live", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit("bench: gunicorn did not start") from None
                time.sleep(0.3)
        report = run_phases(args, ctx, secret, web.pid)
    finally:
        for process in (web, worker):
            stop_server(process)  # SIGTERM, then SIGKILL: idle keep-alive connections hold a graceful stop
        fake.stop()
    report.update({"gunicorn_args": gunicorn_args, "heavy_request_slots": settings.HEAVY_REQUEST_SLOTS,
                   "heavy_users": args.heavy_users, "cpus": os.cpu_count(), "orders": args.orders})
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def run_phases(args, ctx: dict, secret: str, web_pid: int) -> dict:
    recorder = Recorder()
    stop = threading.Event()
    counter = iter(range(10**9))
    counter_lock = threading.Lock()
    webhook = f"/api/v1/integrations/telegram/{ctx['bot_id']}/webhook/"
    webhook_headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    list_headers = {"Authorization": f"Bearer {ctx['operator']}"}

    def next_update():
        with counter_lock:
            n = next(counter)
        chat = 700_000_000 + n // 4  # four messages per customer: a new lead, then appends
        body = json.dumps({"update_id": 50_000 + n, "message": {
            "message_id": n + 1, "date": int(time.time()), "text": f"Хотим в Турцию, вопрос {n}",
            "chat": {"id": chat, "type": "private", "first_name": "Клиент"},
            "from": {"id": chat, "is_bot": False, "first_name": "Клиент"}}}).encode()
        return "POST", webhook, body, webhook_headers

    def next_list():
        return "GET", "/api/v1/clients/?page_size=50", None, list_headers

    managers = [threading.Thread(target=manager_loop, args=(stop, recorder, args.port, "webhook", next_update,
                                                            args.think)) for _ in range(args.senders)]
    managers += [threading.Thread(target=manager_loop, args=(stop, recorder, args.port, "client list", next_list,
                                                             args.think)) for _ in range(args.listers)]
    for thread in managers:
        thread.start()
    items = heavy_requests(ctx)
    phases = []
    for round_number in range(args.rounds):
        phases += (["idle", "heavy"] if round_number % 2 == 0 else ["heavy", "idle"])
    stats: dict[str, dict] = {"idle": {"cpu_busy": [], "web_cpu_s": 0.0, "seconds": 0.0},
                              "heavy": {"cpu_busy": [], "web_cpu_s": 0.0, "seconds": 0.0}}
    try:
        time.sleep(3)  # warm-up: connections, caches
        for phase in phases:
            heavy_stop = threading.Event()
            heavy, boxes = [], []
            if phase == "heavy":
                heavy = [threading.Thread(target=heavy_loop, args=(heavy_stop, recorder, args.port, items, i, boxes))
                         for i in range(args.heavy_users)]
                for thread in heavy:
                    thread.start()
                recorder.phase = "ramp"
                time.sleep(3)  # every heavy user has a request in flight
            recorder.phase = phase
            busy0, total0 = cpu_times()
            pids = children(web_pid)
            web0 = process_cpu(pids)
            started = time.monotonic()
            time.sleep(args.seconds)
            recorder.phase = "ramp"
            busy1, total1 = cpu_times()
            stats[phase]["cpu_busy"].append(round((busy1 - busy0) / max(1, total1 - total0), 3))
            stats[phase]["web_cpu_s"] += process_cpu(pids) - web0
            stats[phase]["seconds"] += time.monotonic() - started
            log(f"{phase}: load average {os.getloadavg()[0]:.1f}")
            heavy_stop.set()
            abort(boxes)
            for thread in heavy:
                thread.join(timeout=60)
            drained = wait_for_free_slots()
            if heavy:
                log(f"heavy work dropped by the server {drained:.0f} s after the hang-up")
            time.sleep(2)
    finally:
        stop.set()
        for thread in managers:
            thread.join(timeout=60)
    return summarise(recorder.rows, stats)


def summarise(rows: list, stats: dict) -> dict:
    report: dict = {"phases": {}}
    for phase in ("idle", "heavy"):
        out: dict = {"machine_cpu_busy": stats[phase]["cpu_busy"],
                     "web_workers_cpu_per_s": round(stats[phase]["web_cpu_s"] / max(1e-9, stats[phase]["seconds"]), 2)}
        labels = sorted({label for p, label, _, _ in rows if p == phase})
        for label in labels:
            mine = [(s, status) for p, lab, s, status in rows if p == phase and lab == label]
            ok = [s * 1000 for s, status in mine if 200 <= status < 300]
            out[label] = {
                "ok": len(ok), "busy_503": sum(1 for _, status in mine if status == 503),
                "errors": sorted(status for _, status in mine if status != 503 and not 200 <= status < 300),
                "p50_ms": round(statistics.median(ok), 1) if ok else None,
                "p95_ms": round(percentile(ok, 0.95), 1) if ok else None,
            }
        report["phases"][phase] = out
    idle, heavy = report["phases"]["idle"], report["phases"]["heavy"]
    report["ratio_p95_heavy_over_idle"] = {
        label: round(heavy[label]["p95_ms"] / idle[label]["p95_ms"], 2)
        for label in ("webhook", "client list")
        if idle.get(label, {}).get("p95_ms") and heavy.get(label, {}).get("p95_ms")
    }
    report["target_met"] = all(ratio <= 1.5 for ratio in report["ratio_p95_heavy_over_idle"].values())
    return report


if __name__ == "__main__":
    sys.exit(main())
