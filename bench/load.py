"""Load test (issue 15): a busy agency's mix against gunicorn + one job worker, with locust headless.

    .venv/bin/python bench/load.py [--users 50] [--minutes 5] [--spawn-rate 5] [--wait 1,3] [--reseed]

1. Seeds its own database "<DATABASE_URL's name>_load_bench" (BENCH_LOAD_DATABASE_URL wins):
   100 000 clients with a phone, an e-mail and a passport, encrypted and blind-indexed like the app
   (bench/clients_list.py's COPY seeding), 50 000 orders with 2 travellers and 5 services each
   (bench/orders_list.py's INSERT ... SELECT), 5 000 leads (ORM bulk_create, encrypted). Re-runs
   reuse the rows (the encryption keys are kept in var/bench_load_keys.env, never committed).
2. Serves the app like production: gunicorn 2 workers × 4 threads (gthread), --keep-alive 130 like
   the Dockerfile (--keep-alive 0: gunicorn's 2 s, which reset ~0.2 % of requests), DEBUG off, throw-away
   secrets, on 127.0.0.1:8200, plus one `manage.py worker`. The web-form limit is raised
   (WEBFORM_RATE_LIMIT, every request comes from 127.0.0.1); HEAVY_REQUEST_SLOTS keeps the
   project's default, so a 503 server_busy is a finding, not noise. Documents stream through the API.
3. Generates 20 invoices (first run), then runs locust headless (bench/load_locustfile.py: 70 % reads, 20 %
   writes, 10 % reports and document downloads) for --users users and --minutes minutes, sampling
   the RSS of the gunicorn processes and of the worker every 5 s, and at mid-run records 30 s of one
   gunicorn worker with `py-spy record` (raw stacks, summarised into the top frames of our code).
4. Prints and writes var/load/result.json: throughput, p50/p95/p99 per endpoint, every non-2xx
   (status and body), RSS peaks, the py-spy summary.
"""

import argparse
import collections
import csv
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from benchdb import add_scale_argument, bench_database_url, create_database, scaled_suffix  # noqa: E402
from gunicorn_server import stop  # noqa: E402

PORT = 8200
OUT = ROOT / "var" / "load"
KEYS_FILE = ROOT / "var" / "bench_load_keys.env"
CLIENTS, ORDERS, LEADS, SERVICES_PER_ORDER = 100_000, 50_000, 5_000, 5
OPERATOR, ACCOUNTANT = "load-operator@bench.travelcrm", "load-accountant@bench.travelcrm"


def log(message: str) -> None:
    print(f"[load] {time.strftime('%H:%M:%S', time.gmtime())} {message}", file=sys.stderr, flush=True)


def stable_keys() -> None:
    """Seeded rows are encrypted: re-runs must reuse the keys (var/, never committed)."""
    KEYS_FILE.parent.mkdir(exist_ok=True)
    if not KEYS_FILE.exists():
        from cryptography.fernet import Fernet

        KEYS_FILE.write_text(
            f"BENCH_SECRET_KEY={secrets.token_urlsafe(60)}\n"
            f"BENCH_FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}\n"
            f"BENCH_BLIND_INDEX_KEY={secrets.token_hex(32)}\n"
        )
    for line in KEYS_FILE.read_text().splitlines():
        name, _, value = line.partition("=")
        os.environ.setdefault(name, value)


def load_env(scale: int = 1) -> dict:
    from clients_list import bench_env

    suffix = scaled_suffix("_load_bench", scale)
    env = bench_env(suffix)
    env["DATABASE_URL"] = os.environ.get("BENCH_LOAD_DATABASE_URL") or bench_database_url(suffix)
    env.update({
        "AXES_ENABLED": "false",
        "WEBFORM_RATE_LIMIT": "1000000/hour",  # every simulated visitor comes from 127.0.0.1
        "DOCUMENTS_DOWNLOAD_STREAM": "true",
        "S3_BUCKET": os.environ.get("S3_BUCKET", "travelcrm") + "-load",
    })  # fmt: skip
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                            capture_output=True)
    return result.stdout.decode()


def orders_sql() -> list[str]:
    """50 000 orders over the seeded clients, 2 travellers and 5 services each (bench/orders_list.py)."""
    return [
        f"""INSERT INTO orders_order (number, status, currency, total_amount, commission, paid_amount, refunded_amount,
            balance_due, deadline, notes, warnings, trip_start, trip_end, created_at, updated_at, client_id,
                operator_id, cost_amount, margin, supplier_balance_due, supplier_paid_amount)
          SELECT '2026-' || lpad(i::text, 6, '0'),
                 (ARRAY['draft','confirmed','paid','completed','cancelled'])[1 + (i % 5)::int], 'RUB',
                 150000, 9000, 50000, 0, 100000, now() + (i % 60) * interval '1 day', '', '[]'::jsonb,
                 now() + (i % 90) * interval '1 day', now() + (i % 90 + 7) * interval '1 day',
                 now() - i * interval '1 minute', now(), 1 + (i * 7919) % {CLIENTS},
                 (SELECT id FROM accounts_user WHERE email = '{OPERATOR}'), 0, 9000, 0, 0
            FROM generate_series(1::bigint, {ORDERS}) AS i""",
        f"""INSERT INTO orders_order_travellers (order_id, client_id)
          SELECT o.id, o.client_id FROM orders_order o
          UNION ALL
          SELECT o.id, 1 + (o.client_id % {CLIENTS}) FROM orders_order o""",
        f"""INSERT INTO orders_service (type, status, start_dt, end_dt, timezone, origin, destination, city, address,
            price, currency, rate, commission, commission_percent, price_in_order_currency,
                commission_in_order_currency,
            details, created_at, updated_at, order_id, supplier_id, cost_currency, cost_rate, offer_option,
                cost_in_order_currency, rate_is_estimate)
          SELECT (ARRAY['flight','transfer','hotel','transfer','flight'])[k],
                 'booked', o.trip_start + (k - 1) * interval '1 day',
                 o.trip_start + (k - 1) * interval '1 day' + interval '3 hours', 'Europe/Moscow',
                 CASE WHEN k IN (1, 2, 4, 5) THEN 'SVO' ELSE '' END, CASE WHEN k IN (1, 2, 4, 5) THEN 'AYT' ELSE '' END,
                 CASE WHEN k = 3 THEN 'Анталья' ELSE '' END, '', 30000, 'RUB', 1, 1800, NULL, 30000, 1800,
                 CASE WHEN k = 3 THEN '{{"hotel_name": "Rixos"}}'
                      ELSE '{{"carrier": "SU", "flight_number": "2136"}}' END::jsonb,
                 now(), now(), o.id, NULL, 'RUB', 1, '', 0, false
            FROM orders_order o CROSS JOIN generate_series(1, {SERVICES_PER_ORDER}) AS k""",
        """INSERT INTO orders_service_travellers (service_id, client_id)
          SELECT s.id, o.client_id FROM orders_service s JOIN orders_order o ON o.id = s.order_id""",
    ]


def seed(env: dict, reseed: bool) -> None:
    """Bounded: 100 000 clients, 50 000 orders, 250 000 services, 5 000 leads; reused on re-runs."""
    import psycopg

    url = env["DATABASE_URL"]
    create_database(url, drop=reseed)
    log(f"migrating {url.rsplit('/', 1)[-1]}")
    manage(env, "migrate", "--noinput")
    os.environ.update(env)
    import django

    django.setup()
    from apps.accounts.models import Role, User
    from apps.core.storage import ensure_bucket
    from apps.documents.demo import ensure_requisites

    try:
        ensure_bucket()
    except Exception as error:  # SeaweedFS may leave an existing bucket out of ListBuckets
        if "BucketAlreadyOwnedByYou" not in repr(error):
            raise
    ensure_requisites()  # invoices need the agency's requisites

    for email, role in [(OPERATOR, Role.OPERATOR), (ACCOUNTANT, Role.ACCOUNTANT)]:
        if not User.objects.filter(email=email).exists():
            User.objects.create_user(email=email, password=secrets.token_urlsafe(16), role=role,
                                     full_name="Нагрузочный " + role.label)
    from clients_list import seed as seed_clients

    started = time.perf_counter()
    added = seeded = seed_clients(CLIENTS)
    log(f"clients: {added} added ({time.perf_counter() - started:.0f} s)")
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM orders_order").fetchone()[0] < ORDERS:
            conn.execute("TRUNCATE orders_service_travellers, orders_service, orders_order_travellers, "
                         "orders_orderevent, orders_order RESTART IDENTITY CASCADE")
            started = time.perf_counter()
            for statement in orders_sql():
                conn.execute(statement)
            seeded = True
            log(f"orders: {ORDERS} with {ORDERS * SERVICES_PER_ORDER} services ({time.perf_counter() - started:.0f} s)")
    from apps.leads.models import Lead

    missing = LEADS - Lead.objects.count()
    if missing > 0:
        leads = [Lead(source="web", contact_name=f"Посетитель {i}", contact_phone=f"+7926{i:07d}",
                      payload={"text": "Хотим в Турцию в июле"}) for i in range(missing)]
        Lead.objects.bulk_create(leads, batch_size=1000)
        seeded = True
        log(f"leads: {missing} added")
    if seeded:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def token(env: dict, email: str) -> str:
    code = ("from rest_framework_simplejwt.tokens import AccessToken;from apps.accounts.models import User;"
            f"print(AccessToken.for_user(User.objects.get(email='{email}')))")
    return manage(env, "shell", "-v0", "-c", code).strip().splitlines()[-1]


def api(method: str, path: str, bearer: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fixture(env: dict) -> dict:
    """Ids the locust users pick from, the JWTs, and 20 invoices to download (made through the API)."""
    import psycopg

    rng = random.Random(15)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT order_id, array_agg(client_id ORDER BY client_id) FROM orders_order_travellers "
            "WHERE order_id IN (SELECT id FROM orders_order WHERE status IN ('draft', 'confirmed') "
            "ORDER BY random() LIMIT 2000) GROUP BY order_id"
        ).fetchall()
        documents = [row[0] for row in conn.execute(
            "SELECT id FROM documents_document WHERE type = 'invoice' ORDER BY id LIMIT 20")]
        payable = [row[0] for row in conn.execute(
            "SELECT id FROM orders_order WHERE status IN ('confirmed', 'paid') ORDER BY random() LIMIT 2000")]
    from clients_list import LAST_NAMES, bench_phone

    data = {
        "operator_token": token(env, OPERATOR),
        "accountant_token": token(env, ACCOUNTANT),
        "orders": [{"id": order_id, "travellers": travellers} for order_id, travellers in rows],
        "payable_orders": payable,
        "last_names": LAST_NAMES,
        "phones": [bench_phone(rng.randrange(1, CLIENTS)) for _ in range(500)],
        "documents": documents,
    }
    refusals = collections.Counter()
    for order in data["orders"][:60]:
        if len(data["documents"]) >= 20:
            break
        status, body = api("POST", f"/api/v1/orders/{order['id']}/documents/", data["operator_token"],
                           {"type": "invoice", "confirm": True})
        if status == 201:
            data["documents"].append(body["id"])
        else:
            refusals[f"{status} {body.get('code')}"] += 1
    log(f"invoices to download: {len(data['documents'])} (refused while generating: {dict(refusals)})")
    return data


def start_web(env: dict, keep_alive: int) -> subprocess.Popen:
    """gunicorn like production (2 gthread workers × 4 threads); its log goes to var/load/gunicorn.log
    (a pipe nobody reads would fill up and stall the workers once errors are logged)."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "travelcrm.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
         "--worker-class", "gthread", "--threads", "4", "--timeout", "60",
         *(["--keep-alive", str(keep_alive)] if keep_alive else [])],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(OUT / "gunicorn.log", "w"),  # noqa: SIM115
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/live", timeout=2)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"gunicorn did not start: see {OUT / 'gunicorn.log'}")


def rss_mb(pid: int) -> tuple[float, dict[int, float]]:
    """The RSS of a process and of each of its children, in MB."""
    import psutil

    try:
        process = psutil.Process(pid)
        children = {child.pid: child.memory_info().rss / 2**20 for child in process.children(recursive=True)}
        return process.memory_info().rss / 2**20, children
    except psutil.Error:
        return 0.0, {}


def sample_rss(gunicorn_pid: int, worker_pid: int, stop_event: threading.Event, peaks: dict) -> None:
    while not stop_event.wait(5):
        master, workers = rss_mb(gunicorn_pid)
        worker, worker_children = rss_mb(worker_pid)
        peaks["gunicorn_master"] = max(peaks.get("gunicorn_master", 0), master)
        peaks["gunicorn_worker_max"] = max(peaks.get("gunicorn_worker_max", 0), max(workers.values(), default=0))
        peaks["web_total"] = max(peaks.get("web_total", 0), master + sum(workers.values()))
        peaks["job_worker"] = max(peaks.get("job_worker", 0), worker + sum(worker_children.values()))


def profile(gunicorn_pid: int, seconds: int) -> dict:
    """py-spy record of the busiest gunicorn worker (raw stacks), summarised; plus one py-spy dump."""
    import psutil

    workers = psutil.Process(gunicorn_pid).children()
    for worker in workers:
        worker.cpu_percent(None)
    time.sleep(2)
    busiest = max(workers, key=lambda worker: worker.cpu_percent(None))
    py_spy = Path(sys.executable).parent / "py-spy"
    raw = OUT / "py-spy.txt"
    record = subprocess.run([str(py_spy), "record", "-p", str(busiest.pid), "-d", str(seconds), "-r", "50",
                             "--format", "raw", "-o", str(raw), "--nonblocking"], capture_output=True, text=True)
    dump = subprocess.run([str(py_spy), "dump", "-p", str(busiest.pid)], capture_output=True, text=True)
    (OUT / "py-spy-dump.txt").write_text(dump.stdout + dump.stderr)
    if record.returncode != 0 or not raw.exists():
        return {"error": (record.stderr or record.stdout)[-1000:]}
    return summarise_stacks(raw)


def summarise_stacks(raw: Path) -> dict:
    """Share of samples per frame (inclusive) for our code and per leaf (self) for everything."""
    inclusive, deepest, leaf, total = collections.Counter(), collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        count, frames = int(count), stack.split(";")
        total += count
        leaf[frames[-1]] += count
        # py-spy names frames "function (package/module.py:line)": ours are under apps/ and travelcrm/.
        ours = [frame.rsplit(":", 1)[0] + ")" for frame in frames if "(apps/" in frame or "(travelcrm/" in frame]
        for function in set(ours):
            if "middleware" not in function.lower():  # every request passes the middleware: no signal
                inclusive[function] += count
        if ours:
            deepest[ours[-1]] += count  # the last of our frames: what our code was waiting on or computing
    share = lambda counter: [(frame, round(100 * n / total, 1)) for frame, n in counter.most_common(15)]  # noqa: E731
    return {"samples": total, "our_code_inclusive_pct": share(inclusive), "our_code_deepest_pct": share(deepest),
            "self_pct": share(leaf)}


def run_locust(users: int, minutes: float, spawn_rate: float, wait: str, fixture_path: Path) -> subprocess.Popen:
    (OUT / "errors.jsonl").write_text("")
    env = dict(os.environ, LOAD_FIXTURE=str(fixture_path), LOAD_WAIT=wait, LOAD_ERRORS=str(OUT / "errors.jsonl"))
    locust = Path(sys.executable).parent / "locust"
    return subprocess.Popen(
        [str(locust), "-f", str(ROOT / "bench" / "load_locustfile.py"), "--headless", "--host",
         f"http://127.0.0.1:{PORT}", "-u", str(users), "-r", str(spawn_rate), "-t", f"{int(minutes * 60)}s",
         "--csv", str(OUT / "locust"), "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=open(OUT / "locust.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip


def read_stats() -> dict:
    rows = list(csv.DictReader(open(OUT / "locust_stats.csv", encoding="utf-8")))  # noqa: SIM115
    endpoints = {}
    for row in rows:
        endpoints[row["Name"]] = {
            "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 2), "p50_ms": row["50%"], "p95_ms": row["95%"],
            "p99_ms": row["99%"], "max_ms": round(float(row["Max Response Time"])),
        }  # fmt: skip
    failures = collections.Counter()
    for line in (OUT / "errors.jsonl").read_text(encoding="utf-8").splitlines():
        error = json.loads(line)
        failures[f"{error['name']} → {error['status']} {error['body'][:160]}"] += 1
    return {"endpoints": endpoints, "failures": dict(failures.most_common(20))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--wait", default="1,3", help="think time between a user's requests, min,max seconds")
    parser.add_argument("--profile-seconds", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--keep-alive", type=int, default=130,
                        help="gunicorn --keep-alive seconds, as deployed (Dockerfile); 0 = gunicorn's default 2 s")
    add_scale_argument(parser, sizes="1 = 100 000 clients, 50 000 orders, 5 000 leads; 10 = ten times each")
    args = parser.parse_args()
    global CLIENTS, ORDERS, LEADS  # the seeding SQL and the locust fixture read them
    CLIENTS, ORDERS, LEADS = CLIENTS * args.scale, ORDERS * args.scale, LEADS * args.scale
    OUT.mkdir(parents=True, exist_ok=True)
    stable_keys()
    env = load_env(args.scale)
    seed(env, args.reseed)
    web = start_web(env, args.keep_alive)
    worker = subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ROOT, env=env,
                              stdout=open(OUT / "worker.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
                              start_new_session=True)
    peaks, stop_sampling = {}, threading.Event()
    try:
        fixture_path = OUT / "fixture.json"
        fixture_path.write_text(json.dumps(fixture(env)))
        log(f"locust: {args.users} users for {args.minutes} min (think time {args.wait} s)")
        sampler = threading.Thread(target=sample_rss, args=(web.pid, worker.pid, stop_sampling, peaks), daemon=True)
        sampler.start()
        started = time.monotonic()
        locust = run_locust(args.users, args.minutes, args.spawn_rate, args.wait, fixture_path)
        time.sleep(max(5.0, args.minutes * 60 / 2 - args.profile_seconds / 2))
        spy = profile(web.pid, args.profile_seconds) if locust.poll() is None else {"error": "locust ended early"}
        locust.wait()
        elapsed = time.monotonic() - started
    finally:
        stop_sampling.set()
        stop(web)
        stop(worker)
    stats = read_stats()
    aggregated = stats["endpoints"].get("Aggregated", {})
    result = {
        "users": args.users, "minutes": args.minutes, "keep_alive": args.keep_alive, "wait_s": args.wait,
        "elapsed_s": round(elapsed),
        "throughput_rps": aggregated.get("rps"), "requests": aggregated.get("requests"),
        "error_rate_pct": round(100 * aggregated.get("failures", 0) / max(1, aggregated.get("requests", 1)), 3),
        "rss_peak_mb": {name: round(value) for name, value in peaks.items()}, "py_spy": spy, **stats,
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
    }  # fmt: skip
    (OUT / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
