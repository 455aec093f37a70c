"""Benchmark: the order list at 50 000 orders / 250 000 services, and adding a service, under gunicorn.

    python scripts/devservices.py exec -- .venv/bin/python bench/orders_list.py [--seconds 15]

1. Seeds its own database (BENCH_DATABASE_URL, default: the DATABASE_URL server, database
   "<name>_orders_bench", "<name>_orders_bench_x10" with --scale 10): 20 000 clients, 50 000 × scale
   orders (each with 2 travellers), 5 services each
   (5 per order, each with its travellers) by INSERT ... SELECT generate_series in a few seconds;
   re-runs reuse the rows (--reseed starts over). Then ANALYZE.
2. Serves the app with gunicorn (2 sync workers, DEBUG off, settings bench.orders_bench_settings
   which adds the two comparison endpoints of bench/orders_bench_urls.py) on 127.0.0.1:8130.
3. With wrk (4 connections, --seconds per endpoint split into --rounds alternating rounds, so a
   change of the shared machine's load hits all three alike), side by side in one run:
     app    GET /api/v1/orders/?page_size=50            (JWT of an operator)
     naive  GET /bench/naive/orders/?page_size=50       (ModelSerializer, no select/prefetch; JWT)
     fair   GET /bench/fair/orders/?page_size=50        (the same with select_related / prefetch_related)
     floor  GET /bench/floor/orders/?page_size=50       (raw SQL + orjson, no auth)
   requests/s, p50, p95 — and the ratios app/naive and app/floor.
4. Adding a service (checks + recalculation) to an order with 30 services: --adds sequential
   POST /api/v1/orders/{id}/services/ (each followed by an unmeasured DELETE), p50/p95.
5. CPU time per request of the four list endpoints and of adding a service (with its SQL statement
   count) in one process (bench/orders_cpu.py): on a shared machine this moves far less with the
   neighbours' load than requests/s do.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from benchdb import bench_database_url, create_database  # noqa: E402 — bench/ is the script's own folder

PORT = 8130
CLIENTS, ORDERS, SERVICES_PER_ORDER = 20_000, 50_000, 5
BENCH_EMAIL = "bench-orders@bench.travelcrm"
BENCH_PASSWORD = "Bench-orders-2026!"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def bench_env(suffix: str = "_orders_bench") -> dict:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "false",
            "DATABASE_URL": bench_database_url(suffix),
            "SECRET_KEY": secrets.token_urlsafe(60),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "BLIND_INDEX_KEY": secrets.token_hex(32),
            "ADMIN_PASSWORD": secrets.token_urlsafe(20),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "JWT_ACCESS_MINUTES": "120",
            "LOG_LEVEL": "WARNING",
            "AXES_ENABLED": "false",
            "DJANGO_SETTINGS_MODULE": "bench.orders_bench_settings",
        }
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def seed_sql(orders: int) -> list[str]:
    """The seeding statements for `orders` orders (64-bit series: products overflow int4 past ~271 000)."""
    return [
        # clients
        f"""INSERT INTO clients_client (last_name, first_name, middle_name, last_name_latin, first_name_latin,
            citizenship, notes, search_name, created_at, updated_at, is_deleted)
          SELECT 'Фамилия' || i, 'Имя' || (i % 97), 'Отчество', '', '', 'RU', '',
                 lower('фамилия' || i || ' имя' || (i % 97) || ' отчество'), now(), now(), false
            FROM generate_series(1::bigint, {CLIENTS}) AS i""",
        # orders
        f"""INSERT INTO orders_order (number, status, currency, total_amount, commission, paid_amount, refunded_amount,
            balance_due, deadline, notes, warnings, trip_start, trip_end, created_at, updated_at, client_id,
                operator_id, cost_amount, margin, supplier_balance_due, supplier_paid_amount)
          SELECT '2026-' || lpad(i::text, 6, '0'),
                 (ARRAY['draft','confirmed','paid','completed','cancelled'])[1 + (i % 5)::int], 'RUB',
                 150000, 9000, 50000, 0, 100000, now() + (i % 60) * interval '1 day', '',
                 CASE WHEN i % 7 = 0 THEN '[{{"code": "geography_gap", "message": "Разрыв маршрута",
                     "service_ids": []}}]'
                      ELSE '[]' END::jsonb,
                 now() + (i % 90) * interval '1 day', now() + (i % 90 + 7) * interval '1 day',
                 now() - i * interval '1 minute', now(), (SELECT min(id) FROM clients_client) + (i % {CLIENTS}),
                 (SELECT id FROM accounts_user WHERE email = '{BENCH_EMAIL}'), 0, 9000, 0, 0
            FROM generate_series(1::bigint, {orders}) AS i""",
        """INSERT INTO orders_order_travellers (order_id, client_id)
          SELECT o.id, o.client_id FROM orders_order o
          UNION ALL
          SELECT o.id, (SELECT min(id) FROM clients_client) + ((o.client_id + 1) % 20000) FROM orders_order o""",
        # services: 5 per order
        f"""INSERT INTO orders_service (type, status, start_dt, end_dt, timezone, origin, destination, city, address,
            price, currency, rate, commission, commission_percent, price_in_order_currency,
                commission_in_order_currency,
            details, created_at, updated_at, order_id, supplier_id, cost_currency, cost_rate, offer_option,
                cost_in_order_currency, rate_is_estimate)
          SELECT (ARRAY['flight','transfer','hotel','transfer','flight'])[k],
                 'booked', o.trip_start + (k - 1) * interval '1 day',
                 o.trip_start + (k - 1) * interval '1 day' + interval '3 hours',
                 'Europe/Moscow',
                 CASE WHEN k IN (1, 2, 4, 5) THEN 'SVO' ELSE '' END, CASE WHEN k IN (1, 2, 4, 5) THEN 'AYT' ELSE '' END,
                 CASE WHEN k = 3 THEN 'Анталья' ELSE '' END, '', 30000, 'RUB', 1, 1800, NULL, 30000, 1800,
                 CASE WHEN k = 3 THEN '{{"hotel_name": "Rixos"}}'
                      ELSE '{{"carrier": "SU", "flight_number": "2136"}}' END::jsonb,
                 now(), now(), o.id, NULL, 'RUB', 1, '', 0, false
            FROM orders_order o CROSS JOIN generate_series(1, {SERVICES_PER_ORDER}) AS k""",
        """INSERT INTO orders_service_travellers (service_id, client_id)
          SELECT s.id, o.client_id FROM orders_service s JOIN orders_order o ON o.id = s.order_id""",
        "VACUUM ANALYZE",
    ]


def seed(env: dict, reseed: bool, orders: int = ORDERS) -> None:
    import psycopg

    url = env["DATABASE_URL"]
    create_database(url)
    log("migrating the bench database")
    manage(env, "migrate", "--noinput")
    with psycopg.connect(url, autocommit=True) as conn:
        user = conn.execute("SELECT id FROM accounts_user WHERE email = %s", [BENCH_EMAIL]).fetchone()
        loaded = conn.execute("SELECT count(*) FROM orders_order").fetchone()[0]
        if reseed or loaded < orders:
            log(f"seeding {CLIENTS} clients, {orders} orders, {orders * SERVICES_PER_ORDER} services")
            conn.execute(
                "TRUNCATE orders_service_travellers, orders_service, orders_order_travellers, orders_orderevent, "
                "orders_order, clients_client RESTART IDENTITY CASCADE"
            )
            if user is None:
                subprocess.run(
                    [sys.executable, "manage.py", "shell", "-c",
                     "from apps.accounts.models import User, Role;"
                     f"User.objects.create_user(email='{BENCH_EMAIL}', password='{BENCH_PASSWORD}', role=Role.OPERATOR,"
                     "full_name='Бенч Операторов')"],
                    cwd=ROOT, env=env, check=True,
                )  # fmt: skip
            started = time.perf_counter()
            for statement in seed_sql(orders):
                conn.execute(statement)
            log(f"seeded in {time.perf_counter() - started:.1f} s")
        else:
            log(f"reusing {loaded} orders")
        # Clients' notes are encrypted (issue 14) and this run's key is new: a stored '' or an old
        # run's token cannot be decrypted, and the naive/fair baselines load the whole client row.
        from cryptography.fernet import Fernet

        notes = Fernet(env["FIELD_ENCRYPTION_KEY"]).encrypt(b"").decode("ascii")
        conn.execute("UPDATE clients_client SET notes = %s", [notes])


def access_token(env: dict) -> str:
    """A JWT access token of the bench operator, minted with the servers' SECRET_KEY."""
    code = (
        "from rest_framework_simplejwt.tokens import AccessToken;from apps.accounts.models import User;"
        f"print(AccessToken.for_user(User.objects.get(email='{BENCH_EMAIL}')))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return result.stdout.decode().strip().splitlines()[-1]


def start_gunicorn(env: dict) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "travelcrm.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
         "--access-logfile", "-", "--error-logfile", "-", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/live", timeout=2)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def request(method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return response.status, (json.loads(raw) if raw else {})
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, '
    .. '"p50_us": %d, "p95_us": %d}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(95)))
end
"""


def run_wrk(path: str, token: str | None, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", script.name]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command.append(f"http://127.0.0.1:{PORT}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
    stats = json.loads(line[len("WRKJSON ") :])
    return {
        "rps": round(stats["requests"] / (stats["duration_us"] / 1e6), 1),
        "p50_ms": round(stats["p50_us"] / 1000, 1),
        "p95_ms": round(stats["p95_us"] / 1000, 1),
        "errors": stats["errors"] + stats["non2xx"],
    }


ENDPOINTS = (
    ("app", "/api/v1/orders/?page_size=50", True),
    ("naive", "/bench/naive/orders/?page_size=50", True),
    ("fair", "/bench/fair/orders/?page_size=50", True),
    ("floor", "/bench/floor/orders/?page_size=50", False),
)


def bench_lists(token: str, seconds: int, connections: int, rounds: int) -> dict:
    """The three endpoints in alternating rounds, so a change of the machine's load hits all three.

    requests/s = all requests / all seconds of that endpoint; p50/p95 = median of the rounds' values.
    """
    for _, path, auth in ENDPOINTS:  # warm-up: imports, connections, caches
        run_wrk(path, token if auth else None, 2, connections)
    per_round = max(1, seconds // rounds)
    samples: dict = {name: [] for name, _, _ in ENDPOINTS}
    for index in range(rounds):
        for name, path, auth in ENDPOINTS:
            window = per_round * 2 if name == "naive" else per_round  # the slow one gets more samples
            samples[name].append(run_wrk(path, token if auth else None, window, connections) | {"seconds": window})
            log(f"round {index + 1} {name:6} {samples[name][-1]}")
    results = {}
    for name, runs in samples.items():
        total_seconds = sum(run["seconds"] for run in runs)
        results[name] = {
            "rps": round(sum(run["rps"] * run["seconds"] for run in runs) / total_seconds, 1),
            "p50_ms": statistics.median(run["p50_ms"] for run in runs),
            "p95_ms": statistics.median(run["p95_ms"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
        }
    return results


def cpu_per_request(env: dict, repeat: int, order_id: int) -> dict:
    """Median CPU ms per request of each endpoint, and per service added to `order_id`, in one
    process (bench/orders_cpu.py)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "orders_cpu.py"), BENCH_EMAIL, str(repeat), str(order_id)],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT), "ALLOWED_HOSTS": "testserver,127.0.0.1"},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def order_with_30_services(token: str) -> int:
    status, order = request("GET", "/api/v1/orders/?page_size=1&status=draft", token)
    order_id = order["results"][0]["id"]
    status, detail = request("GET", f"/api/v1/orders/{order_id}/", token)
    existing = len(detail["services"])
    travellers = [t["id"] for t in detail["travellers"]]
    for index in range(existing, 30):
        body = _local_service(1000 + index, travellers)
        status, created = request("POST", f"/api/v1/orders/{order_id}/services/", token, body)
        assert status == 201, created
    return order_id


def _local_service(day: int, travellers: list[int]) -> dict:
    start = datetime(2027, 1, 1, 10, tzinfo=UTC).timestamp() + day * 86400
    iso = datetime.fromtimestamp(start, UTC).isoformat()
    end = datetime.fromtimestamp(start + 3 * 3600, UTC).isoformat()
    return {
        "type": "local", "start_dt": iso, "end_dt": end, "city": "Анталья", "price": "2500.00",
        "commission_percent": "10", "travellers": travellers, "details": {"title": "Экскурсия", "kind": "excursion"},
    }  # fmt: skip


def bench_add_service(token: str, adds: int) -> dict:
    order_id = order_with_30_services(token)
    _, detail = request("GET", f"/api/v1/orders/{order_id}/", token)
    travellers = [t["id"] for t in detail["travellers"]]
    timings = []
    for index in range(adds):
        body = _local_service(5000 + index, travellers)
        started = time.perf_counter()
        status, created = request("POST", f"/api/v1/orders/{order_id}/services/", token, body)
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 201, created
        request("DELETE", f"/api/v1/orders/{order_id}/services/{created['id']}/", token)
    timings.sort()
    return {
        "order_id": order_id,
        "services_in_order": len(detail["services"]),
        "adds": adds,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--scale", type=int, default=1, help="1 = 50 000 orders, 10 = 500 000 (own database)")
    parser.add_argument("--port", type=int, default=PORT, help="gunicorn's port (another bench may hold the default)")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed (or reuse) the database and stop: seed at low priority once, measure later")
    args = parser.parse_args()
    globals()["PORT"] = args.port  # read by the helpers that start and load the server

    env = bench_env("_orders_bench" if args.scale == 1 else f"_orders_bench_x{args.scale}")
    seed(env, args.reseed, ORDERS * args.scale)
    if args.seed_only:
        return
    server = start_gunicorn(env)
    try:
        token = access_token(env)
        for path in ("/api/v1/orders/?page_size=50", "/bench/naive/orders/?page_size=50",
                     "/bench/fair/orders/?page_size=50"):
            status, body = request("GET", path, token)
            assert status == 200 and len(body["results"]) == 50, (path, status, body)
        results = bench_lists(token, args.seconds, args.connections, args.rounds)
        results["app_vs_naive"] = round(results["app"]["rps"] / max(results["naive"]["rps"], 0.01), 2)
        results["app_vs_fair"] = round(results["app"]["rps"] / max(results["fair"]["rps"], 0.01), 2)
        results["app_vs_floor"] = round(results["app"]["rps"] / max(results["floor"]["rps"], 0.01), 2)
        results["add_service"] = bench_add_service(token, args.adds)
        results["cpu_per_request"] = cpu_per_request(env, 60, results["add_service"]["order_id"])
        results["cpu_fair_vs_app"] = round(
            results["cpu_per_request"]["fair"]["cpu_ms"] / results["cpu_per_request"]["app"]["cpu_ms"], 2
        )
        results["cpu_app_vs_floor"] = round(
            results["cpu_per_request"]["floor"]["cpu_ms"] / results["cpu_per_request"]["app"]["cpu_ms"], 2
        )
        results["load_average"] = os.getloadavg()
        results["machine"] = f"{os.cpu_count()} cores, {sys.platform}"
        results["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        print(json.dumps(results, ensure_ascii=False, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
