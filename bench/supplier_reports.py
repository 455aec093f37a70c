"""Benchmark (issue 17): the finance reports with the supplier side, the reconciliation statement and
an XLSX export, at 100 000 orders, 500 000 services and 600 000 client + supplier payments.

    python scripts/devservices.py exec -- .venv/bin/python bench/supplier_reports.py [--orders 100000]

1. Seeds its own database ("<name>_supplier_bench") with bench/finance_reports.py's seed (orders, one
   service each, three client payments each), then server-side: 110 suppliers, four more services
   per order (net cost, due date, start over the year), the orders' cost and margin, what each
   settled order owes each supplier (orders_supplierbalance) and three supplier payments per order.
2. Measures in-process through the whole stack as an accountant: the first page with totals of every
   report in the API and in the admin («Финансы → Отчёты») — p50/p95 of --runs requests; a year's
   reconciliation statement of one supplier (JSON and PDF, wall time, movements); the orders report
   as XLSX for --xlsx-rows rows (wall time, peak RSS above the start). Baseline: GET /health/live.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import finance_reports as base  # noqa: E402 — the seed and the measuring helpers of the finance bench
from benchdb import add_scale_argument, create_database, scaled_suffix, vacuum_analyze  # noqa: E402

SUPPLIERS = 110  # ≈ 5 000 statement movements a year per supplier at 100 000 orders


def seed_supplier_side(orders: int) -> None:
    from django.db import connection, transaction

    from apps.finance.models import SupplierPayment
    from apps.finance.queries import report_summary_rebuild
    from apps.orders.models import Order, Service, Supplier

    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:  # triggers off, summaries rebuilt at the end (as in base.seed)
            cursor.execute("SET LOCAL session_replication_role = replica")
        Supplier.objects.bulk_create([Supplier(name=f"Поставщик {i}", kind="tour_operator") for i in range(SUPPLIERS)])
        sup_min = Supplier.objects.order_by("id").values_list("id", flat=True).first()
        order_min = Order.objects.order_by("id").values_list("id", flat=True).first()
        price = "(5000 + (g::bigint * 104729) % 100000)::numeric(14,2)"
        base.insert_select(Service, orders * 4, {
            "order": f"{order_min} + (g - 1) / 4", "type": "'hotel'", "status": "'booked'",
            "start_dt": f"now() - interval '330 days' + ((g - 1) / 4) * interval '1 day' * 360 / {orders}",
            "end_dt": f"now() - interval '320 days' + ((g - 1) / 4) * interval '1 day' * 360 / {orders}",
            "city": "'Анталья'", "supplier": f"{sup_min} + g % {SUPPLIERS}",
            "price": price, "currency": "'RUB'", "rate": "1", "commission": "0",
            "price_in_order_currency": price, "cost": f"round({price} * 0.85, 2)", "cost_currency": "'RUB'",
            "cost_rate": "1", "cost_in_order_currency": f"round({price} * 0.85, 2)",
            "cost_due_date": f"current_date - 340 + (((g - 1) / 4) * 360 / {orders})::int",
            "details": "'{\"hotel_name\": \"Rixos\"}'::jsonb", "created_at": "now()", "updated_at": "now()",
        })
        n = orders * 3
        amount = "round((5000 + (((g - 1) / 3) * 4 + 1 + (g - 1) % 3)::bigint * 104729 % 100000) * 0.4, 2)"
        base.insert_select(SupplierPayment, n, {
            "order": f"{order_min} + (g - 1) / 3",
            "supplier": f"{sup_min} + (((g - 1) / 3) * 4 + 1 + (g - 1) % 3) % {SUPPLIERS}",
            "type": "CASE WHEN g % 29 = 0 THEN 'refund' ELSE 'payment' END", "method": "'bank_transfer'",
            "amount": amount, "currency": "'RUB'", "rate": "1", "rate_is_manual": "false",
            "amount_in_order_currency": amount, "date": "current_date - ((g * 11) % 360)::int",
            "bank_doc_number": "(1 + g % 999999)::text", "bank_doc_date": "current_date - ((g * 11) % 360)::int",
            "created_at": "now()", "updated_at": "now()",
        })
        with connection.cursor() as cursor:
            cursor.execute("""
                UPDATE orders_order o SET cost_amount = s.cost, margin = o.total_amount - s.cost
                  FROM (SELECT order_id, sum(cost_in_order_currency) AS cost FROM orders_service
                         WHERE status <> 'cancelled' GROUP BY order_id) s
                 WHERE s.order_id = o.id""")
            cursor.execute("""
                INSERT INTO orders_supplierbalance (order_id, supplier_id, cost, paid, balance, due_date, currency)
                SELECT s.order_id, s.supplier_id, sum(s.cost_in_order_currency), 0, sum(s.cost_in_order_currency),
                       min(s.cost_due_date), min(o.currency)
                  FROM orders_service s JOIN orders_order o ON o.id = s.order_id
                 WHERE s.status <> 'cancelled' AND o.status IN ('confirmed', 'paid', 'completed')
                 GROUP BY s.order_id, s.supplier_id""")
            cursor.execute("""
                INSERT INTO orders_supplierbalance (order_id, supplier_id, cost, paid, balance, due_date, currency)
                SELECT DISTINCT p.order_id, p.supplier_id, 0, 0, 0, NULL::date, o.currency
                  FROM finance_supplierpayment p JOIN orders_order o ON o.id = p.order_id
                ON CONFLICT (order_id, supplier_id) DO NOTHING""")
            cursor.execute("""
                UPDATE orders_supplierbalance b SET paid = p.paid, balance = b.cost - p.paid
                  FROM (SELECT order_id, supplier_id,
                               sum(CASE WHEN type = 'payment' THEN amount_in_order_currency
                                        ELSE -amount_in_order_currency END) AS paid
                          FROM finance_supplierpayment GROUP BY order_id, supplier_id) p
                 WHERE p.order_id = b.order_id AND p.supplier_id IS NOT DISTINCT FROM b.supplier_id""")
            cursor.execute("""
                UPDATE orders_order o SET supplier_paid_amount = p.paid,
                       supplier_balance_due = CASE WHEN o.status IN ('confirmed', 'paid', 'completed')
                                                   THEN o.cost_amount ELSE 0 END - p.paid
                  FROM (SELECT order_id, sum(paid) AS paid FROM orders_supplierbalance GROUP BY order_id) p
                 WHERE p.order_id = o.id""")
            cursor.execute("SET LOCAL session_replication_role = origin")
        report_summary_rebuild()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"seeded {SUPPLIERS} suppliers, {orders * 4} more services, {orders * 3} supplier payments "
          f"in {time.perf_counter() - started:.1f} s", flush=True)


def timed(client, url: str, runs: int) -> dict:
    client.get(url)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, getattr(response, "content", b"")[:300])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[max(int(round(0.95 * len(times))) - 1, 0)]}


def _peak_rss(work) -> tuple[float, float, float, object]:
    """(wall s, CPU s of this process, peak RSS above the start in MiB, result) of work(): the peak is
    VmHWM after resetting it (/proc/self/clear_refs 5), i.e. the process's resident memory at its highest."""
    Path("/proc/self/clear_refs").write_text("5")
    rss_before = base._status_kib("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, (base._status_kib("VmHWM") - rss_before) / 1024, result


def measure_xlsx(args, api, web, today) -> None:
    """The orders report as XLSX over --xlsx-rows rows of the seed, through the real paths: the API with a
    token, the admin's «XLSX» button (its export view counts the rows and redirects to that file), and — above
    EXPORT_BACKGROUND_ROWS — the background job's builder (apps.finance.api.background.report_export,
    the file read to the end as the upload reads it)."""
    from django.urls import reverse

    from apps.finance.api.background import report_export
    from apps.orders.models import Order

    def period(rows: int) -> dict:
        days = max(int(365 * rows / args.orders), 1)
        return {"date_from": str(today - timedelta(days=days - 1)), "date_to": str(today)}

    def count(query: dict) -> int:
        return Order.objects.filter(created_at__date__gte=query["date_from"]).count()

    def download(client, url):
        response = client.get(url, follow=True)  # the admin's export view redirects to the API's file
        assert response.status_code == 200, (response.status_code, getattr(response, "content", b"")[:300])
        return sum(len(chunk) for chunk in response.streaming_content)

    query = period(args.xlsx_rows)
    filters = f"date_from={query['date_from']}&date_to={query['date_to']}"
    admin_url = reverse("admin:finance_report_export", args=["orders", "xlsx"])
    for who, url, client in (("API", f"/api/v1/reports/orders/xlsx/?{filters}", api),
                             ("the admin's «XLSX» button", f"{admin_url}?{filters}", web)):
        seconds, cpu, peak, size = _peak_rss(lambda client=client, url=url: download(client, url))
        print(f"orders report XLSX via {who}: {count(query)} rows, {size / 1e6:.1f} MB in {seconds:.1f} s "
              f"(CPU here {cpu:.1f} s), peak RSS above the start {peak:.0f} MiB "
              f"(target 50 000 rows ≤ 10 s, ≤ 300 MiB)", flush=True)
    query = period(int(args.xlsx_rows * 1.3))
    params = {"report": "orders", "format": "xlsx", "query": query}
    seconds, cpu, peak, size = _peak_rss(lambda: sum(
        len(chunk) for chunk in report_export(params=params, progress=lambda done, total: None).chunks))
    print(f"orders report XLSX as a background job (builder): {count(query)} rows, {size / 1e6:.1f} MB in "
          f"{seconds:.1f} s (CPU here {cpu:.1f} s), peak RSS above the start {peak:.0f} MiB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=None, help="overrides --scale (default 100 000 x scale)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--xlsx-rows", type=int, default=50_000)
    parser.add_argument("--statement-rows", type=int, default=5_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--parts", default="pages,statement,xlsx",
                        help="what to measure, comma-separated: pages (the reports), statement, xlsx; "
                             "'seed' only seeds")
    add_scale_argument(parser, sizes="1 = 100 000 orders, 500 000 services, 600 000 payments; 10 = ten times each")
    args = parser.parse_args()
    args.orders = args.orders or 100_000 * args.scale
    parts = set(args.parts.split(","))
    base.configure_environment(suffix=scaled_suffix("_supplier_bench", args.scale))
    create_database(os.environ["DATABASE_URL"], drop=args.reseed)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client as BrowserClient
    from django.utils import timezone
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.finance.models import Payment, SupplierPayment
    from apps.orders.models import Order, Service, Supplier

    call_command("migrate", verbosity=0)
    if Order.objects.count() < args.orders:
        if Order.objects.exists():
            raise SystemExit("bench: the database holds a different data set; run with --reseed")
        base.seed(args.orders)
    if not Supplier.objects.filter(name__startswith="Поставщик ").exists():  # the seed's second half
        seed_supplier_side(args.orders)
        vacuum_analyze(os.environ["DATABASE_URL"])
    accountant, _ = User.objects.get_or_create(email="bench-accountant@bench.travelcrm",
                                               defaults={"role": "accountant", "full_name": "Бухгалтер",
                                                         "is_staff": True})
    from apps.accounts.roles import sync_role_groups

    sync_role_groups()
    api = APIClient()
    api.force_authenticate(user=accountant)
    web = BrowserClient()
    web.force_login(accountant)
    print(f"data: {Order.objects.count()} orders, {Service.objects.count()} services, "
          f"{Payment.objects.count()} + {SupplierPayment.objects.count()} client + supplier payments", flush=True)

    today = timezone.localdate()
    year_ago = today - timedelta(days=365)
    load_before = os.getloadavg()
    baseline = timed(api, "/health/live", args.runs)
    print(f"baseline GET /health/live: p50 {baseline['p50']:.1f} ms, p95 {baseline['p95']:.1f} ms", flush=True)
    for name in ("debts", "supplier-debts", "clients", "orders", "commissions", "sales", "funnel", "fx"):
        if "pages" not in parts:
            break
        query = f"date_from={year_ago}&date_to={today}" if name in ("clients", "sales", "commissions") else ""
        api_t = timed(api, f"/api/v1/reports/{name}/?{query}", args.runs)
        admin_t = timed(web, f"/admin/finance/financereport/{name}/?{query}", args.runs)
        print(f"{name:15s} API p50 {api_t['p50']:6.0f} ms p95 {api_t['p95']:6.0f} ms | admin p50 "
              f"{admin_t['p50']:6.0f} ms p95 {admin_t['p95']:6.0f} ms (target p95 ≤ 500 ms)", flush=True)

    if "statement" in parts:
        supplier = Supplier.objects.order_by("id").first()
        url = f"/api/v1/finance/supplier-statements/{supplier.pk}/?from={year_ago}&to={today}"
        for fmt in ("json", "pdf"):
            started = time.perf_counter()
            response = api.get(url + f"&format={fmt}")
            seconds = time.perf_counter() - started
            assert response.status_code == 200, response.content[:300]
            extra = (f"{len(response.json()['movements'])} movements" if fmt == "json"
                     else f"{len(response.content) / 1e3:.0f} kB")
            print(f"statement of a year, {fmt}: {seconds:.2f} s, {extra} (target ≤ 3 s)", flush=True)

        # The target speaks of 5 000 movements; the seeded supplier has ≈ 3 500 a year: the same statement
        # stretched to --statement-rows movements (its own rows repeated), rendered by the same code.
        from dataclasses import replace

        from apps.finance.statements import statement_pdf, supplier_statement

        statement = supplier_statement(supplier_id=supplier.pk, date_from=year_ago, date_to=today)
        rows = statement.movements
        if rows:
            repeated = rows * (args.statement_rows // len(rows) + 1)
            stretched = replace(statement, movements=repeated[:args.statement_rows])
            from django.conf import settings

            for processes in (1, 0):  # one process, then the default (one per CPU, at most 4)
                settings.STATEMENT_PDF_PROCESSES = processes
                started, cpu, children = time.perf_counter(), time.process_time(), os.times()
                pdf = statement_pdf(stretched)
                seconds = time.perf_counter() - started
                cpu = time.process_time() - cpu
                child_cpu = os.times().children_user + os.times().children_system - children.children_user \
                    - children.children_system
                print(f"statement PDF with {len(stretched.movements)} movements, STATEMENT_PDF_PROCESSES="
                      f"{processes}: {seconds:.2f} s, CPU {cpu:.2f} s here + {child_cpu:.2f} s in forked children, "
                      f"{len(pdf) / 1e3:.0f} kB (target ≤ 3 s)", flush=True)

    if "xlsx" in parts:
        measure_xlsx(args, api, web, today)
    print(f"load average before: {load_before}, after: {os.getloadavg()} (2-core machine shared with others)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
