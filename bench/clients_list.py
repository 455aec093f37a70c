"""Benchmark: the client list and the phone lookup at 100 000 clients, under gunicorn.

    python scripts/devservices.py exec -- .venv/bin/python bench/clients_list.py [--clients 100000]

1. Seeds its own database (BENCH_DATABASE_URL, default: the DATABASE_URL server, database
   "<name>_clients_bench") with N clients, each with a phone, an e-mail and an internal passport,
   encrypted and blind-indexed exactly as the app does, by COPY (a few seconds per 10 000 rows).
   Re-runs reuse the seeded rows (--reseed starts over).
2. Serves the app with gunicorn (2 sync workers, DEBUG off) on 127.0.0.1:8110 and, the same way on
   :8111, a floor app: the same 50 clients, their contacts and passports read by raw SQL and dumped
   with orjson (no auth, no decryption, no masking).
3. Measures GET /api/v1/clients/?page_size=50 (JWT of an operator, so personal data is decrypted
   and shown) against the floor: requests/s and p95 with 4 concurrent keep-alive-less clients for
   --seconds each, in 5 bursts alternating between the two so the shared machine's load drifts hit
   both alike (and once more one client at a time); then GET /api/v1/clients/?phone=... for random
   existing phones one at a time (p95), ?search= by name, and the selector
   clients_by_contacts(phones=[...]) in-process (p95).
"""

import argparse
import http.client
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))  # gunicorn also imports this file as bench.clients_list (floor_app)
from benchdb import bench_database_url, create_database  # noqa: E402

APP_PORT, FLOOR_PORT = 8110, 8111
sys.path.insert(0, str(ROOT))


def bench_env(suffix: str = "_clients_bench") -> dict:
    """Production-like settings (DEBUG off) with throw-away secrets, shared by seeding and servers."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update({
        "DEBUG": "false",
        "DATABASE_URL": bench_database_url(suffix),
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": os.environ.get("BENCH_FIELD_ENCRYPTION_KEY") or Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": os.environ.get("BENCH_BLIND_INDEX_KEY") or secrets.token_hex(32),
        "ADMIN_PASSWORD": secrets.token_urlsafe(20),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "JWT_ACCESS_MINUTES": "120",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
    })
    return env


KEYS_FILE = ROOT / "var" / "bench_clients_keys.env"


def stable_keys() -> None:
    """The seeded rows are encrypted: re-runs must reuse the keys (kept in var/, never committed)."""
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


LAST_NAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
              "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов"]
LATIN = {"Иванов": "IVANOV", "Смирнов": "SMIRNOV", "Кузнецов": "KUZNETSOV", "Попов": "POPOV",
         "Васильев": "VASILEV", "Петров": "PETROV", "Соколов": "SOKOLOV", "Михайлов": "MIKHAILOV",
         "Новиков": "NOVIKOV", "Фёдоров": "FEDOROV", "Морозов": "MOROZOV", "Волков": "VOLKOV",
         "Алексеев": "ALEKSEEV", "Лебедев": "LEBEDEV", "Семёнов": "SEMENOV", "Егоров": "EGOROV",
         "Павлов": "PAVLOV", "Козлов": "KOZLOV"}
FIRST_NAMES = [("Александр", "ALEKSANDR"), ("Дмитрий", "DMITRII"), ("Максим", "MAKSIM"), ("Сергей", "SERGEI"),
               ("Андрей", "ANDREI"), ("Алексей", "ALEKSEI"), ("Иван", "IVAN"), ("Михаил", "MIKHAIL")]


def bench_phone(i: int) -> str:
    return f"+7916{i:07d}"


def seed(target: int) -> int:
    """Add clients until there are `target`; returns how many were added. COPY, encryption in Python."""
    from django.db import connection

    from apps.clients.models import build_search_name
    from apps.clients.normalization import contact_index, passport_index
    from apps.core.crypto import encrypt_str

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM clients_client")
        existing, max_id = cursor.fetchone()
    missing = target - existing
    if missing <= 0:
        return 0
    rng = random.Random(42)
    now = datetime.now(UTC)
    notes = encrypt_str("")  # notes are encrypted too (an empty plaintext is still a token)
    import psycopg

    raw = psycopg.connect(os.environ["DATABASE_URL"])
    started = time.perf_counter()
    with raw, raw.cursor() as cursor:
        for start in range(0, missing, 10_000):
            batch = range(max_id + 1 + start, max_id + 1 + min(start + 10_000, missing))
            clients, contacts, passports = [], [], []
            for i in batch:
                last = rng.choice(LAST_NAMES)
                first, first_latin = rng.choice(FIRST_NAMES)
                birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 25000))
                clients.append((i, last, first, "", LATIN[last], first_latin, encrypt_str(birth.isoformat()), "RU",
                                notes, build_search_name(last, first, LATIN[last], first_latin), now, now, False))
                phone, email = bench_phone(i), f"client{i}@example.ru"
                contacts.append((i, "phone", encrypt_str(phone), contact_index("phone", phone), True, False, now))
                contacts.append((i, "email", encrypt_str(email), contact_index("email", email), True, False, now))
                series, number = f"{4500 + i // 1_000_000:04d}", f"{i % 1_000_000:06d}"
                passports.append((i, "internal", encrypt_str(series), encrypt_str(number),
                                  passport_index(series + number), date(2015, 1, 1), None,
                                  encrypt_str("ГУ МВД России по г. Москве"), True, False, now))
            _copy(cursor, "clients_client", ["id", "last_name", "first_name", "middle_name", "last_name_latin",
                                             "first_name_latin", "birth_date", "citizenship", "notes", "search_name",
                                             "created_at", "updated_at", "is_deleted"], clients)
            _copy(cursor, "clients_clientcontact", ["client_id", "kind", "value", "blind_index", "is_primary",
                                                    "is_archived", "created_at"], contacts)
            _copy(cursor, "clients_clientpassport", ["client_id", "kind", "series", "number", "number_index",
                                                     "issue_date", "expiry_date", "issued_by", "is_active",
                                                     "is_archived", "created_at"], passports)
            raw.commit()
            print(f"  seeded {start + len(batch)}/{missing} ({time.perf_counter() - started:.1f} s)", flush=True)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('clients_client', 'id'), (SELECT max(id) FROM clients_client))"
        )
        raw.commit()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE clients_client, clients_clientcontact, clients_clientpassport")
    return missing


def _copy(cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- The floor: raw SQL + orjson, served by gunicorn the same way -------------------------------------

_floor_conn = None
_floor_crypter = None


def floor_app(environ, start_response):
    """WSGI app: the first 50 live clients (newest first) with contacts and passports, 3 queries."""
    import orjson
    import psycopg
    from cryptography.fernet import Fernet, MultiFernet

    global _floor_conn, _floor_crypter
    if _floor_conn is None or _floor_conn.closed:
        _floor_conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        keys = [key.strip() for key in os.environ["FIELD_ENCRYPTION_KEY"].split(",") if key.strip()]
        _floor_crypter = MultiFernet([Fernet(key) for key in keys])
    conn = _floor_conn

    def plain(token):  # fair: the floor decrypts the same values the API shows
        return _floor_crypter.decrypt(token.encode("ascii")).decode("utf-8") if token else token

    # Counted like the API counts: exactly up to 10 000 rows, else the planner's estimate.
    total = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM clients_client WHERE NOT is_deleted LIMIT 10001) AS bounded"
    ).fetchone()[0]
    if total > 10_000:
        total = conn.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM clients_client WHERE NOT is_deleted"
        ).fetchone()[0][0]["Plan"]["Plan Rows"]
    columns = ["id", "last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin", "birth_date",
               "citizenship", "notes", "operator_id", "created_at", "updated_at"]
    rows = conn.execute(
        f"SELECT {', '.join(columns)} FROM clients_client WHERE NOT is_deleted ORDER BY id DESC LIMIT 50"  # noqa: S608
    ).fetchall()
    clients = [dict(zip(columns, row, strict=True)) for row in rows]
    for client in clients:
        client["birth_date"] = plain(client["birth_date"])
    ids = [client["id"] for client in clients]
    by_id = {client["id"]: client | {"contacts": [], "passports": []} for client in clients}
    for client_id, kind, value, primary in conn.execute(
        "SELECT client_id, kind, value, is_primary FROM clients_clientcontact "
        "WHERE client_id = ANY(%s) AND NOT is_archived ORDER BY kind, id", [ids]
    ):
        by_id[client_id]["contacts"].append({"kind": kind, "value": plain(value), "is_primary": primary})
    for client_id, kind, series, number, issue_date, issued_by in conn.execute(
        "SELECT client_id, kind, series, number, issue_date, issued_by FROM clients_clientpassport "
        "WHERE client_id = ANY(%s) AND NOT is_archived ORDER BY id", [ids]
    ):
        by_id[client_id]["passports"].append(
            {"kind": kind, "series": plain(series), "number": plain(number), "issue_date": issue_date,
             "issued_by": plain(issued_by)}
        )
    body = orjson.dumps({"count": total, "results": [by_id[i] for i in ids]})
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# --- Servers and load ------------------------------------------------------------------------------------


def start_gunicorn(app: str, port: int, env: dict, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), app, "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--timeout", "60", "--chdir", str(ROOT)],
        env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/live")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"gunicorn {app} did not start on :{port} (see {log_path})")


def hit(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def interleaved(targets: dict, headers: dict, seconds: float, concurrency: int = 4, rounds: int = 5) -> dict:
    """Alternate short bursts against each target so drifts in the shared machine's load hit both
    alike; figures are summed over the rounds."""
    totals = {name: {"latencies": [], "errors": 0, "elapsed": 0.0} for name in targets}
    for _ in range(rounds):
        for name, (port, path) in targets.items():
            result = load(port, path, headers, seconds / rounds, concurrency, keep_latencies=True)
            totals[name]["latencies"] += result["latencies"]
            totals[name]["errors"] += result["errors"]
            totals[name]["elapsed"] += result["elapsed"]
    return {
        name: {"requests": len(t["latencies"]), "errors": t["errors"], "rps": len(t["latencies"]) / t["elapsed"],
               **summary(t["latencies"])}
        for name, t in totals.items()
    }


def load(port: int, path: str, headers: dict, seconds: float, concurrency: int = 4,
         keep_latencies: bool = False) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        nonlocal errors
        local, bad = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = hit(port, path, headers)
            local.append(time.perf_counter() - started)
            bad += status != 200
        with lock:
            latencies.extend(local)
            errors += bad

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    result = {"requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed, **summary(latencies)}
    if keep_latencies:
        result.update(latencies=latencies, elapsed=elapsed)
    return result


def load_paths(port: int, paths: list[str], headers: dict, seconds: float, concurrency: int,
               keep_latencies: bool = False) -> dict:
    """Like load(), each user cycling through `paths` (different searches at once)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(offset: int):
        nonlocal errors
        local, bad, n = [], 0, offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = hit(port, paths[n % len(paths)], headers)
            local.append(time.perf_counter() - started)
            bad += status != 200
            n += 1
        with lock:
            latencies.extend(local)
            errors += bad

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    result = {"requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed, **summary(latencies)}
    if keep_latencies:
        result.update(latencies=latencies, elapsed=elapsed)
    return result


def summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)] if ordered else float("nan")
    return {"p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"), "p95_ms": p95 * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="1 = 100 000 clients, 10 = 1 000 000 (own database)")
    parser.add_argument("--clients", type=int, default=None, help="overrides --scale")
    parser.add_argument("--port", type=int, default=APP_PORT, help="the API's port; the floor's is the next one")
    parser.add_argument("--search-users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed (or top up) the database and stop: seed at low priority once, measure later")
    args = parser.parse_args()
    clients_wanted = args.clients or 100_000 * args.scale
    app_port, floor_port = args.port, args.port + 1

    stable_keys()
    env = bench_env(suffix="_clients_bench" if args.scale == 1 else f"_clients_bench_x{args.scale}")
    os.environ.update(env)
    create_database(env["DATABASE_URL"], drop=args.reseed)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    added = seed(clients_wanted)
    print(f"seed: {added} clients added in {time.perf_counter() - started:.1f} s", flush=True)
    if args.seed_only:
        return

    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import Role, User
    from apps.clients.models import Client
    from apps.clients.selectors import clients_by_contacts

    user, _ = User.objects.get_or_create(email="bench-operator@bench.travelcrm", defaults={"role": Role.OPERATOR})
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    total = Client.objects.count()
    max_id = Client.objects.order_by("-id").values_list("id", flat=True).first()

    logs = ROOT / "var"
    servers = [start_gunicorn("travelcrm.wsgi:application", app_port, env, logs / "bench_clients_app.log"),
               start_gunicorn("bench.clients_list:floor_app", floor_port, env, logs / "bench_clients_floor.log")]
    try:
        status, body = hit(app_port, "/api/v1/clients/?page_size=50", headers)
        assert status == 200, body[:500]
        import orjson

        page = orjson.loads(body)
        assert len(page["results"]) == 50 and page["results"][0]["phones"][0].startswith("+7916"), page["results"][0]
        floor_status, _ = hit(floor_port, "/", {})
        assert floor_status == 200
        for port, path in ((app_port, "/api/v1/clients/?page_size=50"), (floor_port, "/")):
            load(port, path, headers, 2.0)  # warm-up
        targets = {"app": (app_port, "/api/v1/clients/?page_size=50"), "floor": (floor_port, "/")}
        both = interleaved(targets, headers, args.seconds)
        app, floor = both["app"], both["floor"]
        both_one = interleaved(targets, headers, args.seconds / 2, concurrency=1)
        app_one, floor_one = both_one["app"], both_one["floor"]

        empty_latencies = []
        for _ in range(100):
            started = time.perf_counter()
            hit(app_port, "/health/live", {})
            empty_latencies.append(time.perf_counter() - started)

        rng = random.Random(7)
        lookup_latencies, wrong = [], 0
        for _ in range(args.lookups):
            client_id = rng.randint(1, max_id)
            started = time.perf_counter()
            status, body = hit(app_port, f"/api/v1/clients/?phone={urllib.parse.quote(bench_phone(client_id))}",
                               headers)
            lookup_latencies.append(time.perf_counter() - started)
            wrong += status != 200 or orjson.loads(body)["count"] > 1
        search_latencies = []
        for term in ("кузнец", "SERGEI", "семёнов ив", "zzzz") * 15:
            started = time.perf_counter()
            status, _ = hit(app_port, f"/api/v1/clients/?page_size=50&search={urllib.parse.quote(term)}", headers)
            search_latencies.append(time.perf_counter() - started)
            wrong += status != 200
        deep_page = min(10_000, max(total // 50, 1))
        deep_latencies = []
        for _ in range(20):
            started = time.perf_counter()
            status, _ = hit(app_port, f"/api/v1/clients/?page_size=50&page={deep_page}", headers)
            deep_latencies.append(time.perf_counter() - started)
            wrong += status != 200
        cursor_latencies, cursor_path = [], "/api/v1/clients/?page_size=50&cursor="
        for _ in range(20):  # an integrator walking everything: each page costs the same
            started = time.perf_counter()
            status, body = hit(app_port, cursor_path, headers)
            cursor_latencies.append(time.perf_counter() - started)
            wrong += status != 200
            cursor_path = orjson.loads(body)["next"].split("127.0.0.1", 1)[-1].split(str(app_port), 1)[-1]
        search_terms = ["кузнец", "SERGEI", "семёнов ив", "zzzz", "петров", "ivan"]
        concurrent_search = load_paths(app_port, [f"/api/v1/clients/?page_size=50&search={urllib.parse.quote(term)}"
                                                  for term in search_terms], headers, args.seconds, args.search_users)
        selector_latencies = []
        for _ in range(args.lookups):
            phone = bench_phone(rng.randint(1, max_id))
            started = time.perf_counter()
            clients_by_contacts(phones=[phone])
            selector_latencies.append(time.perf_counter() - started)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)

    ratio = app["rps"] / floor["rps"] * 100
    print(f"\nclients in the database: {total}")
    print(f"GET /api/v1/clients/?page_size=50 (gunicorn 2 workers, 4 clients, {args.seconds:.0f} s in 5 bursts "
          "alternating with the floor's): "
          f"{app['rps']:.1f} req/s, p50 {app['p50_ms']:.1f} ms, p95 {app['p95_ms']:.1f} ms, errors {app['errors']}")
    print(f"floor (raw SQL + orjson, same rows, same gunicorn): {floor['rps']:.1f} req/s, "
          f"p50 {floor['p50_ms']:.1f} ms, p95 {floor['p95_ms']:.1f} ms, errors {floor['errors']}")
    print(f"API throughput = {ratio:.0f} % of the floor (target >= 40 %), API p95 target <= 100 ms")
    print(f"one client at a time (no queueing): API p50 {app_one['p50_ms']:.1f} ms, p95 {app_one['p95_ms']:.1f} ms; "
          f"floor p50 {floor_one['p50_ms']:.1f} ms, p95 {floor_one['p95_ms']:.1f} ms")
    empty = summary(empty_latencies)
    print(f"reference: GET /health/live on the same server (no DB, sequential): p50 {empty['p50_ms']:.1f} ms, "
          f"p95 {empty['p95_ms']:.1f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    lookup = summary(lookup_latencies)
    selector = summary(selector_latencies)
    search = summary(search_latencies)
    print(f"lookup by phone over HTTP (GET ?phone=, {args.lookups} sequential): p50 {lookup['p50_ms']:.1f} ms, "
          f"p95 {lookup['p95_ms']:.1f} ms, unexpected answers {wrong}")
    print(f"search by name over HTTP (?search=, partial Cyrillic/Latin, 60 sequential): p50 {search['p50_ms']:.1f} ms, "
          f"p95 {search['p95_ms']:.1f} ms")
    deep, walk = summary(deep_latencies), summary(cursor_latencies)
    print(f"deep page (page={deep_page}, 50 a page, 20 sequential): p50 {deep['p50_ms']:.1f} ms, "
          f"p95 {deep['p95_ms']:.1f} ms (target at 1M: <= 200 ms)")
    print(f"cursor walk (?cursor=, 20 pages in a row): p50 {walk['p50_ms']:.1f} ms, p95 {walk['p95_ms']:.1f} ms")
    print(f"search by name, {args.search_users} concurrent users for {args.seconds:.0f} s: "
          f"{concurrent_search['rps']:.1f} req/s, p50 {concurrent_search['p50_ms']:.1f} ms, "
          f"p95 {concurrent_search['p95_ms']:.1f} ms, errors {concurrent_search['errors']} (target at 1M: <= 150 ms)")
    print(f"lookup by phone in-process (clients_by_contacts): p50 {selector['p50_ms']:.2f} ms, "
          f"p95 {selector['p95_ms']:.2f} ms (target <= 20 ms)")


if __name__ == "__main__":
    main()
