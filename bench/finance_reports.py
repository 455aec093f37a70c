"""Benchmark: finance reports and the 1C export at 100 000 orders and 300 000 payments.

    python scripts/devservices.py exec -- .venv/bin/python bench/finance_reports.py [--orders 100000]

1. Seeds its own database (BENCH_DATABASE_URL, default: the DATABASE_URL server, database
   "<name>_finance_bench") server-side with INSERT ... SELECT FROM generate_series: 20 000 clients,
   --orders orders created over the last 365 days (90 % RUB), one service per order, three
   payments per order dated over the last 300 days (90 % ruble bank transfers, some refunds), and
   the orders' paid / refunded / balance due set from the payments in one UPDATE. Re-runs reuse
   the rows (--reseed starts over).
2. Measures in-process through the whole Django stack (middleware, DRF, JSON; DEBUG off) as an
   accountant: GET /api/v1/reports/debts/ (first page of all debtors) and
   GET /api/v1/reports/clients/?date_from=<a year ago>&date_to=<today> (first page) — p50/p95 of
   --runs requests each, and their query counts; GET /api/v1/exports/1c/payments/ for the last
   full month — wall time of each of 3 runs, file size, document count, query count.
   Baseline of the same run: GET /health/live through the same stack.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from benchdb import bench_database_url, create_database, vacuum_analyze  # noqa: E402 — bench/ is the script's folder

sys.path.insert(0, str(ROOT))

CLIENTS = 20_000
OPERATORS = 10


KEYS_FILE = ROOT / "var" / "bench_finance_keys.env"


def stable_keys() -> dict[str, str]:
    from cryptography.fernet import Fernet

    KEYS_FILE.parent.mkdir(exist_ok=True)
    if not KEYS_FILE.exists():
        KEYS_FILE.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(60)}\n"
            f"FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}\n"
            f"BLIND_INDEX_KEY={secrets.token_hex(32)}\n"
        )
    return dict(line.split("=", 1) for line in KEYS_FILE.read_text().splitlines() if "=" in line)


def configure_environment(suffix: str = "_finance_bench") -> None:
    """Production-like settings (DEBUG off) with throw-away secrets; nothing here is encrypted."""

    os.environ.update({
        "DEBUG": "false",
        "DATABASE_URL": bench_database_url(suffix),
        # Seeded payer fields are encrypted: re-runs must reuse the keys (kept in var/, never committed).
        **stable_keys(),
        "ADMIN_PASSWORD": secrets.token_urlsafe(24) + "Aa1!",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
        # The 1C file is built in the request, whatever its size: above EXPORT_BACKGROUND_ROWS (50 000)
        # the app hands the same streamed build to a job (202 + job id), which this bench does not time.
        "EXPORT_BACKGROUND_ROWS": "1000000000",
    })


# --- Seeding ---------------------------------------------------------------------------------------


def insert_select(model, count: int, exprs: dict[str, str], params: dict | None = None) -> None:
    """INSERT INTO <model table> (...) SELECT <exprs over g> FROM generate_series(1, count) g, g a bigint
    (products like g * 104729 overflow int4 from g = 20 506).

    Columns not in `exprs` get NULL (nullable) or the field's default, so a new column of another
    app does not break the seeding.
    """
    from django.db import connection

    columns, values, args = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in exprs:
            values.append(exprs[field.name].replace("%", "%%"))  # params follow
        elif field.null:
            values.append("NULL")
        elif field.get_default() is not None:  # a declared default, or "" for text fields
            values.append("%s")
            args.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            raise SystemExit(f"bench: no value for required column {model.__name__}.{field.name}")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1::bigint, {int(count)}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, args)


def seed(orders: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from apps.clients.models import Client
    from apps.core.crypto import encrypt_str
    from apps.finance.demo import DEMO_REQUISITES as REQUISITES
    from apps.finance.models import Payment
    from apps.finance.queries import report_summary_rebuild
    from apps.finance.services import requisites_save
    from apps.orders.models import Order, Service

    User = get_user_model()
    started = time.perf_counter()
    with transaction.atomic():
        # The report summaries' triggers (apps.finance.queries) would fire for each of a million rows:
        # off for the seed's statements, and the summaries rebuilt in one pass at the end.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        operator_ids = [
            User.objects.create_user(email=f"bench-operator{i}@bench.travelcrm", password=None, role="operator",
                                     full_name=f"Менеджер {i}").pk
            for i in range(OPERATORS)
        ]
        requisites_save(data=REQUISITES)
        first_op = min(operator_ids)
        insert_select(Client, CLIENTS, {
            "last_name": "'Клиентов' || g", "first_name": "'Иван'", "middle_name": "'Петрович'",
            "search_name": "'клиентов' || g || ' иван петрович'",
            "created_at": "now() - interval '400 days'", "updated_at": "now()",
        })
        client_min = Client.all_objects.order_by("id").values_list("id", flat=True).first()
        insert_select(Order, orders, {
            "number": "'B' || lpad(g::text, 9, '0')",
            "status": "(ARRAY['draft','confirmed','confirmed','paid','completed','cancelled'])[1 + (g % 6)::int]",
            "currency": "CASE WHEN g % 10 = 0 THEN 'EUR' ELSE 'RUB' END",
            "total_amount": "(20000 + (g::bigint * 7919) % 400000)::numeric(14,2)",
            "commission": "((20000 + (g::bigint * 7919) % 400000) / 10)::numeric(14,2)",
            "client": f"{client_min} + (g * 37) % {CLIENTS}",
            "operator": f"{first_op} + g % {OPERATORS}",
            "deadline": "now() - interval '400 days' + (g % 430) * interval '1 day'",
            "created_at": f"now() - ((g::float / {orders}) * 365) * interval '1 day'",
            "updated_at": "now()",
            "warnings": "'[]'::jsonb",
        })
        order_min = Order.objects.order_by("id").values_list("id", flat=True).first()
        insert_select(Service, orders, {
            "order": f"{order_min} + g - 1", "type": "'local'", "status": "'booked'",
            "start_dt": "now() + interval '30 days'", "end_dt": "now() + interval '31 days'", "city": "'Москва'",
            "price": "(20000 + (g::bigint * 7919) % 400000)::numeric(14,2)",
            "currency": "CASE WHEN g % 10 = 0 THEN 'EUR' ELSE 'RUB' END", "rate": "1",
            "commission": "((20000 + (g::bigint * 7919) % 400000) / 10)::numeric(14,2)",
            "price_in_order_currency": "(20000 + (g::bigint * 7919) % 400000)::numeric(14,2)",
            "commission_in_order_currency": "((20000 + (g::bigint * 7919) % 400000) / 10)::numeric(14,2)",
            "details": "'{\"title\": \"Экскурсия\"}'::jsonb",
            "created_at": "now()", "updated_at": "now()",
        })
        # Three payments per order: 30 % + 30 % (+ a 5 % refund every seventh order); 90 % bank transfers.
        n = orders * 3
        order_of = f"({order_min} + (g - 1) / 3)"
        total_of = "(20000 + ((((g - 1) / 3) + 1) * 7919::bigint) % 400000)"
        insert_select(Payment, n, {
            "order": order_of,
            "type": "CASE WHEN g % 3 = 0 AND g % 7 = 0 THEN 'refund' ELSE 'payment' END",
            "method": "CASE WHEN g % 10 = 0 THEN 'cash' ELSE 'bank_transfer' END",
            "amount": f"round({total_of} * CASE WHEN g % 3 = 0 THEN 0.05 ELSE 0.30 END, 2)",
            "currency": "CASE WHEN ((g - 1) / 3 + 1) % 10 = 0 THEN 'EUR' ELSE 'RUB' END",
            "rate": "1", "rate_is_manual": "false",
            "amount_in_order_currency": f"round({total_of} * CASE WHEN g % 3 = 0 THEN 0.05 ELSE 0.30 END, 2)",
            "date": "current_date - ((g * 7) % 300)::int",
            "payer_kind": "'client'",
            "payer_client": f"{client_min} + ((((g - 1) / 3) + 1) * 37) % {CLIENTS}",
            # Encrypted columns (issue 17): one Fernet token per value, valid for every row.
            "payer_inn": f"'{encrypt_str('7707083893')}'", "payer_account": f"'{encrypt_str('40702810800000054321')}'",
            "bank_doc_number": "(1 + g % 999999)::text", "bank_doc_date": "current_date - ((g * 7) % 300)::int",
            "payer_bank_name": "'ПАО Сбербанк'", "payer_bik": "'044525225'",
            "payer_corr_account": "'30101810400000000225'",
            "created_at": "now()", "updated_at": "now()",
        })
        with connection.cursor() as cursor:
            cursor.execute("""
                UPDATE orders_order o SET paid_amount = s.paid, refunded_amount = s.refunded,
                       balance_due = o.total_amount - s.paid + s.refunded
                FROM (SELECT order_id,
                             COALESCE(SUM(amount_in_order_currency) FILTER (WHERE type = 'payment'), 0) AS paid,
                             COALESCE(SUM(amount_in_order_currency) FILTER (WHERE type = 'refund'), 0) AS refunded
                      FROM finance_payment GROUP BY order_id) s
                WHERE s.order_id = o.id
            """)
            cursor.execute("SET LOCAL session_replication_role = origin")
        report_summary_rebuild()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"seeded {CLIENTS} clients, {orders} orders, {orders} services, {orders * 3} payments "
          f"in {time.perf_counter() - started:.1f} s", flush=True)


# --- Measuring -------------------------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements of a block (request_started clears connection.queries, so not that)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def counted_get(client, url: str):
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        response = client.get(url)
    return response, counter.count


def measure(client, url: str, runs: int) -> dict:
    client.get(url)  # warm-up: URL resolvers, the user's permissions cache
    response, queries = counted_get(client, url)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[max(int(round(0.95 * len(times))) - 1, 0)],
        "cpu": statistics.median(cpu),
        "queries": queries,
        "count": response.json().get("count") if response.get("Content-Type", "").startswith("application/json")
        else None,
    }


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure_1c(client, url: str) -> dict:
    """The file is streamed: read chunk by chunk as a download would, counting bytes and documents
    without holding the file; the process's peak RSS above its RSS before each export is reported
    (Linux: writing 5 to /proc/self/clear_refs resets the peak)."""
    marker = "СекцияДокумент=".encode("cp1251")
    times, cpu, peaks, size, documents, queries = [], [], [], 0, 0, 0
    for _ in range(3):
        Path("/proc/self/clear_refs").write_text("5")
        rss_before = _status_kib("VmRSS")
        started, cpu_started = time.perf_counter(), time.process_time()
        response, queries = counted_get(client, url)
        assert response.status_code == 200, getattr(response, "content", b"")[:500]
        size = documents = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            documents += chunk.count(marker)  # a marker never straddles chunks: each document is written whole
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        peaks.append((_status_kib("VmHWM") - rss_before) / 1024)
    return {"seconds": times, "cpu": cpu, "bytes": size, "documents": documents, "queries": queries,
            "peak_mib": peaks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="1 = 100 000 orders, 10 = 1 000 000 (own database)")
    parser.add_argument("--orders", type=int, default=None, help="overrides --scale")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed (or reuse) the database and stop: seed at low priority once, measure later")
    parser.add_argument("--only-1c", action="store_true", help="measure the 1C export only (no reports)")
    args = parser.parse_args()
    args.orders = args.orders or 100_000 * args.scale

    configure_environment(suffix="_finance_bench" if args.scale == 1 else f"_finance_bench_x{args.scale}")
    create_database(os.environ["DATABASE_URL"], drop=args.reseed)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.orders.models import Order

    call_command("migrate", verbosity=0)
    if Order.objects.count() < args.orders:
        if Order.objects.exists():
            raise SystemExit("bench: the database holds a different data set; run with --reseed")
        seed(args.orders)
        vacuum_analyze(os.environ["DATABASE_URL"])  # the visibility map too (index-only scans), not only ANALYZE
    if args.seed_only:
        return 0
    accountant, _ = User.objects.get_or_create(email="bench-accountant@bench.travelcrm",
                                               defaults={"role": "accountant", "full_name": "Бухгалтер"})
    client = APIClient()
    client.force_authenticate(user=accountant)

    today = timezone.localdate()
    month_end = today.replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)
    year_ago = today - timedelta(days=365)
    from apps.finance.models import Payment

    print(f"data: {Order.objects.count()} orders, {Payment.objects.count()} payments; "
          f"{Payment.objects.filter(date__gte=month_start, date__lte=month_end).count()} payments in "
          f"{month_start:%m.%Y}", flush=True)

    load_before = os.getloadavg()
    baseline = measure(client, "/health/live", args.runs)
    if not args.only_1c:
        debts = measure(client, "/api/v1/reports/debts/", args.runs)
        clients = measure(client, f"/api/v1/reports/clients/?date_from={year_ago}&date_to={today}", args.runs)
    export = measure_1c(client, f"/api/v1/exports/1c/payments/?from={month_start}&to={month_end}")

    print(f"load average before: {load_before}, after: {os.getloadavg()} (2-core machine shared with others)")
    if args.only_1c:
        print_1c(export, month_start)
        return 0
    print(f"baseline GET /health/live: p50 {baseline['p50']:.1f} ms, p95 {baseline['p95']:.1f} ms")
    print(f"debts report, first page of {debts['count']} debtors: p50 {debts['p50']:.0f} ms, "
          f"p95 {debts['p95']:.0f} ms, app CPU {debts['cpu']:.0f} ms, {debts['queries']} queries "
          "(target p95 ≤ 500 ms)")
    print(f"clients report, one year, first page of {clients['count']} rows: p50 {clients['p50']:.0f} ms, "
          f"p95 {clients['p95']:.0f} ms, app CPU {clients['cpu']:.0f} ms, {clients['queries']} queries "
          "(target p95 ≤ 500 ms)")
    print_1c(export, month_start)
    return 0


def print_1c(export: dict, month_start) -> None:
    seconds = ", ".join(f"{s:.2f}" for s in export["seconds"])
    cpu = ", ".join(f"{s:.2f}" for s in export["cpu"])
    print(f"1C export {month_start:%m.%Y}: {export['documents']} documents, {export['bytes'] / 1e6:.1f} MB, "
          f"wall {seconds} s, app CPU {cpu} s, {export['queries']} queries, peak RSS above the start "
          f"{', '.join(f'{m:.0f}' for m in export['peak_mib'])} MiB (target at 250 000 payments: ≤ 10 s, ≤ 200 MiB)")


if __name__ == "__main__":
    sys.exit(main())
