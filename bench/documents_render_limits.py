"""Benchmark of the document rendering limits (issue 12, point 7): same-run before/after + refusals.

    git show <before-commit>:apps/documents/rendering.py > /tmp/rendering_before.py
    .venv/bin/python bench/documents_render_limits.py --before /tmp/rendering_before.py [--runs 30] [--port 8120]

1. Invoice (1 page) and contract (3 pages) of an order with 10 services: the rendering pipeline
   (Jinja + WeasyPrint → PDF bytes) of the BEFORE module (Jinja in a child, layout in the worker)
   and of the current one (both in one time-limited child), each in its own warmed process (their
   caches must not mix), driven A/B/B/A in one run so the machine's load hits both alike:
   p50 / p95 and the after/before ratio.
2. Over HTTP (gunicorn, 2 sync workers): a supervisor uploads a 4 000-page template (page breaks) and
   a 4 000-row table template while another client keeps generating invoices: the uploads' status
   and time, and how many invoices were served meanwhile (all must be 201).
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "travelcrm.settings")

FOUR_THOUSAND_PAGES = (
    '{% for i in range(4000) %}<div style="page-break-after: always">Страница {{ i }}</div>{% endfor %}'
)
FOUR_THOUSAND_ROWS = (
    "<table>{% for i in range(4000) %}<tr>{% for j in range(8) %}<td>{{ i }} ячейка {{ j }}</td>"
    "{% endfor %}</tr>{% endfor %}</table>"
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def load_before(path: str):
    spec = importlib.util.spec_from_file_location("rendering_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["rendering_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def worker(variant: str, before_path: str, order_id: int) -> None:
    """One rendering process per variant (their caches must not mix): reads a document type per
    line, renders it, answers the seconds it took."""
    import django

    django.setup()
    from apps.documents import rendering
    from apps.documents.context import build_context
    from apps.documents.models import DocumentTemplate
    from apps.finance.selectors import agency_requisites
    from apps.orders.models import Order

    module = load_before(before_path) if variant == "before" else rendering
    module.warm_up()
    order = Order.objects.get(pk=order_id)
    pipelines = {}
    for doc_type in ("invoice", "contract"):
        version = DocumentTemplate.objects.get(type=doc_type).versions.get(is_active=True)
        context = build_context(order, doc_type, requisites=agency_requisites(), number=f"{order.number}-Б1")
        template = module.compile_template(version.body)
        if variant == "before":
            def run(template=template, context=context, css=version.css):
                return module.html_to_pdf(module.render_html(template, context), css)
        else:
            def run(template=template, context=context, css=version.css):
                return module.render_document(template, context, css)
        run()  # first run: the template CSS cache
        pipelines[doc_type] = run
    print("ready", flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        pdf = pipelines[line.strip()]()
        assert pdf.startswith(b"%PDF")
        print(f"{time.perf_counter() - started:.6f}", flush=True)


def _answer(process) -> str:
    """The worker's next answer line (its JSON log lines share stdout and are skipped)."""
    while True:
        line = process.stdout.readline()
        if not line:
            raise SystemExit("a rendering worker died")
        if not line.startswith("{"):
            return line.strip()


def same_run(order, before_path: str, runs: int) -> dict:
    """Invoice and contract, BEFORE vs AFTER, each in its own warmed process, interleaved A/B/B/A."""
    processes = {}
    for variant in ("before", "after"):
        processes[variant] = subprocess.Popen(
            [sys.executable, __file__, "--worker", variant, "--before", before_path, "--order", str(order.pk)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            cwd=ROOT,
        )
    try:
        for process in processes.values():
            assert _answer(process) == "ready"
        report = {}
        for doc_type in ("invoice", "contract"):
            timings: dict[str, list[float]] = {"before": [], "after": []}
            for index in range(runs):
                for variant in (("before", "after") if index % 2 == 0 else ("after", "before")):
                    processes[variant].stdin.write(doc_type + "\n")
                    processes[variant].stdin.flush()
                    timings[variant].append(float(_answer(processes[variant])))
            result = {"runs": runs}
            for variant, values in timings.items():
                result[variant] = {"p50_s": round(statistics.median(values), 3),
                                   "p95_s": round(percentile(values, 0.95), 3)}
            result["p95_ratio_after_before"] = round(result["after"]["p95_s"] / result["before"]["p95_s"], 3)
            result["p50_ratio_after_before"] = round(result["after"]["p50_s"] / result["before"]["p50_s"], 3)
            report[doc_type] = result
        return report
    finally:
        for process in processes.values():
            process.stdin.close()
            process.wait(timeout=60)


def wait_for(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (local)
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"server at {url} did not answer")


def call(url: str, token: str, body: dict, timeout: float = 120) -> tuple[int, float, dict]:
    request = urllib.request.Request(  # noqa: S310 (local)
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, payload = response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        status, payload = error.code, json.loads(error.read() or b"{}")
    return status, time.perf_counter() - started, payload


def refusals_over_http(order, supervisor, operator, port: int) -> dict:
    from rest_framework_simplejwt.tokens import AccessToken

    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "travelcrm.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_for(f"http://127.0.0.1:{port}/health/live")
        boss, clerk = str(AccessToken.for_user(supervisor)), str(AccessToken.for_user(operator))
        call(f"{base}/orders/{order.pk}/documents/", clerk, {"type": "invoice"})  # warm both paths
        served: list[tuple[int, float]] = []
        stop = threading.Event()

        def keep_generating():
            while not stop.is_set():
                status, seconds, _ = call(f"{base}/orders/{order.pk}/documents/", clerk, {"type": "invoice"})
                served.append((status, seconds))

        background = threading.Thread(target=keep_generating)
        background.start()
        uploads = {}
        for name, body in (("4000_pages", FOUR_THOUSAND_PAGES), ("4000_table_rows", FOUR_THOUSAND_ROWS)):
            status, seconds, payload = call(f"{base}/document-templates/", boss, {"type": "invoice", "body": body})
            uploads[name] = {"status": status, "seconds": round(seconds, 2), "code": payload.get("code"),
                             "detail": payload.get("detail", "")[:140]}
        stop.set()
        background.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    times = [seconds for _, seconds in served]
    return {
        "uploads": uploads,
        "invoices_served_meanwhile": len(served),
        "invoice_statuses": sorted({status for status, _ in served}),
        "invoice_p50_s": round(statistics.median(times), 3) if times else None,
        "invoice_max_s": round(max(times), 3) if times else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the rendering.py to compare with (a file path)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=8120)
    parser.add_argument("--skip-http", action="store_true", help="only the same-run speed comparison")
    parser.add_argument("--worker", choices=["before", "after"], help=argparse.SUPPRESS)
    parser.add_argument("--order", type=int, help=argparse.SUPPRESS)
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "it compares two rendering pipelines on the same one order; no table grows"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from benchdb import bench_database_url, create_database

    if args.worker:  # started by same_run(): DATABASE_URL is already the bench's
        worker(args.worker, args.before, args.order)
        return
    os.environ["DATABASE_URL"] = bench_database_url("_bench_render_limits")  # children inherit it

    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from apps.accounts.models import Role, User
    from apps.accounts.roles import sync_role_groups
    from apps.core.storage import ensure_bucket
    from apps.documents import rendering
    from apps.documents.demo import build_demo_order, ensure_requisites
    from apps.documents.services import load_default_templates

    call_command("migrate", verbosity=0)
    try:
        ensure_bucket()
    except Exception:  # noqa: S110 (created concurrently)
        pass
    load_default_templates()
    ensure_requisites()
    sync_role_groups()
    stamp = str(int(time.time()) % 100)
    order = build_demo_order(services=10, unique=stamp.zfill(2))
    users = {}
    for role in (Role.OPERATOR, Role.SUPERVISOR):
        users[role], _ = User.objects.get_or_create(email=f"bench-limits-{role}@bench.travelcrm",
                                                    defaults={"role": role, "full_name": "Бенчмарк"})
        users[role].save()
    load_start = os.getloadavg()
    report = {
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "load_avg_at_start": [round(x, 2) for x in load_start],
        "render_timeout_s": rendering.RENDER_TIMEOUT_SECONDS,
        **same_run(order, args.before, args.runs),
    }
    if args.skip_http:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    http_order = build_demo_order(services=10, unique=str((int(stamp) + 1) % 100).zfill(2))
    report["http"] = refusals_over_http(http_order, users[Role.SUPERVISOR], users[Role.OPERATOR], args.port)
    report["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
