"""Benchmark: the manager's pages at 100 000 clients / 50 000 orders / 250 000 services (issue 16).

    python scripts/devservices.py exec -- .venv/bin/python bench/workplace_pages.py [--requests 30]

1. Seeds its own database "<name>_workplace_bench" with bench/orders_list.py's seeding (50 000
   orders, 250 000 services, 20 000 clients) plus 80 000 more clients (100 000) and 20 000 leads with
   two messages each (copied by INSERT ... SELECT from one lead made through the service, so the
   encrypted columns are real ciphertexts of this run's key; the leads are re-made every run).
2. In one process with DEBUG off, logged in as a manager (the session cookie, as a browser), it
   fetches each page --requests times after 3 warm-up requests and prints p50 / p95 and the SQL
   statement count of the last request:
     today     GET /admin/                               («Сегодня»)
     client    GET /admin/clients/client/<id>/change/    (the card with its history)
     leads_q   GET /admin/leads/lead/?q=<name>           (the lead list with a name search)
     order     GET /admin/orders/order/<id>/change/      (the order page with 5 services)
     floor     GET /admin/password_change/               (the same-run baseline: an admin page with no data)
   Server time in process (no network), interleaved rounds so the shared machine's load hits all alike.
3. With --old-tree PATH (a git worktree of the code to compare with, e.g. `git worktree add /tmp/old
   <commit>`), the same measurement runs alternately in that tree and in this one on the same database
   (--rounds processes each, old/new order swapped every round) and prints both side by side with the
   CPU time per request (time.process_time in the serving process: less noisy than wall time on a
   shared machine) and the page size. The old tree must accept this tree's schema (added indexes only).
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import add_scale_argument, scaled_suffix  # noqa: E402
from orders_list import BENCH_EMAIL, ORDERS, bench_env, log, manage, seed  # noqa: E402 — bench/ is the script's folder

TOTAL_CLIENTS, LEADS = 100_000, 20_000

MEASURE = r"""
import json, statistics, sys, time
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from apps.accounts.models import User
from apps.orders.models import Order
rounds = int(sys.argv[1])
profile = len(sys.argv) > 3 and sys.argv[3] == "profile"
user = User.objects.get(email=sys.argv[2])
web = Client(HTTP_HOST="localhost")
web.force_login(user)
order = Order.objects.order_by("id").first()
pages = {
    "today": "/admin/",
    "client": f"/admin/clients/client/{order.client_id}/change/",
    "leads_q": "/admin/leads/lead/?q=бенчева",
    "order": f"/admin/orders/order/{order.pk}/change/",
    "floor": "/admin/password_change/",
}
times = {name: [] for name in pages}
cpu = {name: [] for name in pages}
sizes = {}
queries = {}
for name, url in pages.items():
    for _ in range(3):
        status = web.get(url).status_code
        assert status == 200, (url, status)
if profile:  # the statements of each page, slowest first (to stderr)
    from django.conf import settings
    settings.DEBUG = True
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            web.get(url)
            total = (time.perf_counter() - started) * 1000
        sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
        print(f"== {name}: {total:.0f} ms, SQL {sql_ms:.0f} ms in {len(captured.captured_queries)}", file=sys.stderr)
        for q in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:4]:
            print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:600]}", file=sys.stderr)
    settings.DEBUG = False
for _ in range(rounds):
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = web.get(url)
            times[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries[name] = len(captured.captured_queries)
        sizes[name] = len(response.content)
out = {name: {"wall": times[name], "cpu": cpu[name], "queries": queries[name], "bytes": sizes[name]}
       for name in pages}
print(json.dumps(out))
"""

SEED_LEADS = """
from apps.leads.services import lead_create_manual
from apps.leads.models import Lead, LeadMessage
lead = lead_create_manual(data={"contact_name": "Анна Бенчева", "contact_phone": "+79160000000",
                                "text": "Хотим в Турцию в июне, двое взрослых"})
LeadMessage.objects.create(lead=lead, channel="manual", direction="in", text="Ещё вопрос про визу",
                           received_at=lead.created_at)
print(lead.pk)
"""


def more_rows(env: dict, scale: int = 1) -> None:
    import psycopg

    total_clients, leads = TOTAL_CLIENTS * scale, LEADS * scale

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        clients = conn.execute("SELECT count(*) FROM clients_client").fetchone()[0]
        if clients < total_clients:
            log(f"adding {total_clients - clients} clients")
            conn.execute(
                f"""INSERT INTO clients_client (last_name, first_name, middle_name, last_name_latin, first_name_latin,
                    citizenship, notes, search_name, created_at, updated_at, is_deleted)
                  SELECT 'Клиентов' || i, 'Имя' || (i % 89), '', '', '', 'RU', '',
                         lower('клиентов' || i || ' имя' || (i % 89)), now(), now(), false
                    FROM generate_series({clients + 1}::bigint, {total_clients}) AS i"""  # noqa: S608 - numbers
            )
        # Client notes are encrypted (an empty note is a token too) and this run's key is new: one
        # token of "" under it for every client, or loading a client fails to decrypt.
        from cryptography.fernet import Fernet

        empty = Fernet(env["FIELD_ENCRYPTION_KEY"].split(",")[0].encode()).encrypt(b"").decode()
        log("re-encrypting the clients' empty notes with this run's key")
        conn.execute("UPDATE clients_client SET notes = %s", [empty])
        # Leads are re-made every run: their ciphertexts belong to this run's throw-away key.
        conn.execute("TRUNCATE leads_leadmessage, leads_leadattachment, leads_lead RESTART IDENTITY CASCADE")
        result = subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", SEED_LEADS], cwd=ROOT, env=env,
                                check=False, capture_output=True)
        if result.returncode:
            raise SystemExit(result.stderr.decode()[-3000:])
        template = int(result.stdout.decode().strip().splitlines()[-1])
        columns = [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'leads_lead' "
            "AND column_name NOT IN ('id', 'number', 'external_id')").fetchall()]
        listed = ", ".join(f'"{name}"' for name in columns)
        log(f"copying {leads} leads with two messages each")
        conn.execute(f"""INSERT INTO leads_lead ({listed}) SELECT {listed}
                           FROM leads_lead, generate_series(2::bigint, {leads}) WHERE id = %s""", [template])  # noqa: S608 - names from the catalogue
        message_columns = [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'leads_leadmessage' "
            "AND column_name NOT IN ('id', 'lead_id', 'external_id')").fetchall()]
        listed = ", ".join(f'm."{name}"' for name in message_columns)
        plain = ", ".join(f'"{name}"' for name in message_columns)
        conn.execute(f"""INSERT INTO leads_leadmessage (lead_id, {plain})
                         SELECT l.id, {listed} FROM leads_lead l CROSS JOIN leads_leadmessage m
                         WHERE m.lead_id = %s AND l.id <> %s""", [template, template])  # noqa: S608
        conn.execute("VACUUM ANALYZE")


def forget_leads(env: dict) -> None:
    """Leads of an earlier run are ciphertexts of its throw-away key: gone before a migration reads them."""
    import psycopg

    try:
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("TRUNCATE leads_leadmessage, leads_leadattachment, leads_lead RESTART IDENTITY CASCADE")
    except psycopg.Error:
        pass  # a new database: nothing to forget


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print each page's slowest SQL statements first")
    parser.add_argument("--old-tree", help="a worktree of the code to compare with (A/B, interleaved processes)")
    parser.add_argument("--rounds", type=int, default=4, help="with --old-tree: processes per side")
    add_scale_argument(parser, sizes="1 = 100 000 clients, 50 000 orders, 20 000 leads; 10 = ten times each")
    args = parser.parse_args()
    env = bench_env(scaled_suffix("_workplace_bench", args.scale))
    env["DJANGO_SETTINGS_MODULE"] = "travelcrm.settings"
    forget_leads(env)
    seed(env, args.reseed, ORDERS * args.scale)
    more_rows(env, args.scale)
    manage(env, "shell", "-v0", "-c", "")
    started = time.perf_counter()
    if args.old_tree:
        compare(env, Path(args.old_tree), args.rounds, args.requests)
        log(f"measured in {time.perf_counter() - started:.1f} s")
        return
    figures = measure(env, ROOT, args.requests, args.profile)
    log(f"measured in {time.perf_counter() - started:.1f} s")
    floor = p95(figures["floor"]["wall"])
    for name, row in figures.items():
        print(f"{name:8} p50 {statistics.median(row['wall']):7.1f} ms  p95 {p95(row['wall']):7.1f} ms  "
              f"cpu p50 {statistics.median(row['cpu']):6.1f} ms  queries {row['queries']:3}"
              f"  p95/floor {p95(row['wall']) / floor:5.1f}")


def p95(values: list) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]


def measure(env: dict, tree: Path, requests: int, profile: bool = False) -> dict:
    extra = ["profile"] if profile else []
    result = subprocess.run([sys.executable, "-c", MEASURE, str(requests), BENCH_EMAIL, *extra], cwd=tree,
                            env=env, check=False, capture_output=True)
    if profile:
        print(result.stderr.decode()[-20000:], file=sys.stderr)
    if result.returncode:
        raise SystemExit(result.stderr.decode()[-3000:])
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def compare(env: dict, old_tree: Path, rounds: int, requests: int) -> None:
    import os

    sides = {"old": old_tree, "new": ROOT}
    figures: dict[str, dict] = {"old": {}, "new": {}}
    loads = [os.getloadavg()]
    for index in range(rounds):
        for side in ("old", "new") if index % 2 == 0 else ("new", "old"):
            for name, row in measure(env, sides[side], requests).items():
                kept = figures[side].setdefault(name, {"wall": [], "cpu": [], "queries": 0, "bytes": 0})
                kept["wall"] += row["wall"]
                kept["cpu"] += row["cpu"]
                kept["queries"], kept["bytes"] = row["queries"], row["bytes"]
        loads.append(os.getloadavg())
        log(f"round {index + 1}/{rounds}, load average {loads[-1][0]:.1f}")
    print(f"old: {old_tree}  new: {ROOT}  {rounds} × {requests} requests per page and side; "
          f"load average (1 min) {min(load[0] for load in loads):.1f}–{max(load[0] for load in loads):.1f}")
    print(f"{'page':8} {'wall p50 / p95 ms, old → new':>32} {'CPU p50 ms, old → new':>24} "
          f"{'statements':>11} {'KB':>12}")
    for name in figures["old"]:
        old, new = figures["old"][name], figures["new"][name]
        print(f"{name:8} {statistics.median(old['wall']):7.0f} / {p95(old['wall']):<6.0f} → "
              f"{statistics.median(new['wall']):5.0f} / {p95(new['wall']):<6.0f} "
              f"{statistics.median(old['cpu']):9.0f} → {statistics.median(new['cpu']):<6.0f} "
              f"{old['queries']:5} → {new['queries']:<3} {old['bytes'] // 1024:5} → {new['bytes'] // 1024:<5}")


if __name__ == "__main__":
    main()
