"""Benchmark of document generation (render + store in S3), issue 8.

    scripts/devservices.py exec -- .venv/bin/python bench/documents_render.py [--runs 50]

1. WeasyPrint import + font set-up, measured once (paid once per process: rendering.warm_up()).
2. A 1-page invoice and a 3-page contract for an order with 10 services: p50/p95 of
   document_generate() (Jinja in the sandboxed child, WeasyPrint, upload to S3, DB rows, timeline
   event) over N runs in one warm process; wall time and the process's CPU time.
3. Peak RSS of this process (and of the forked Jinja children).
4. 20 generations from 4 concurrent HTTP clients against gunicorn (2 sync workers, ephemeral port):
   every answer must be 201 and the versions 1..20 of the order must all exist exactly once.
"""

import argparse
import io
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "travelcrm.settings")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def reference_workload() -> dict:
    """A fixed pure-Python CPU task (median of 5, seconds): the machine's speed at this moment, so
    runs made while the two cores were shared with other work can be compared with quiet ones."""
    walls, cpus = [], []
    for _ in range(5):
        started, cpu = time.perf_counter(), time.process_time()
        total = 0
        for number in range(1_000_000):
            total += number * number % 7
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": round(statistics.median(walls), 3), "cpu_s": round(statistics.median(cpus), 3)}


def measure(order, doc_type: str, runs: int) -> dict:
    from pypdf import PdfReader

    from apps.documents.services import document_generate

    walls, cpus = [], []
    pages = 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        document = document_generate(order=order, doc_type=doc_type)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    with document.file.open("rb") as handle:
        pages = len(PdfReader(io.BytesIO(handle.read())).pages)
    return {
        "type": doc_type, "runs": runs, "pages": pages, "size_kib": round(document.size / 1024, 1),
        "p50_s": round(statistics.median(walls), 3), "p95_s": round(percentile(walls, 0.95), 3),
        "max_s": round(max(walls), 3), "cpu_p50_s": round(statistics.median(cpus), 3),
        "cpu_p95_s": round(percentile(cpus, 0.95), 3),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (local)
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"server at {url} did not answer")


def concurrent_http(order, user, clients: int = 4, total: int = 20) -> dict:
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.documents.models import Document

    token = str(AccessToken.for_user(user))
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "travelcrm.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/live")
        url = f"http://127.0.0.1:{port}/api/v1/orders/{order.pk}/documents/"
        results: list[tuple[int, float]] = []
        lock = threading.Lock()

        def client(count: int) -> None:
            for _ in range(count):
                request = urllib.request.Request(  # noqa: S310 (local)
                    url, data=json.dumps({"type": "invoice"}).encode(), method="POST",
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                with lock:
                    results.append((status, time.perf_counter() - started))

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(total // clients,)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    versions = sorted(Document.objects.filter(order=order, type="invoice").values_list("version", flat=True))
    statuses = [status for status, _ in results]
    return {
        "clients": clients, "requests": total, "errors": sum(1 for s in statuses if s != 201),
        "statuses": sorted(set(statuses)), "versions_ok": versions == list(range(1, total + 1)),
        "elapsed_s": round(elapsed, 2), "p50_s": round(statistics.median(t for _, t in results), 3),
        "max_s": round(max(t for _, t in results), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--big", type=int, default=30,
                        help="also time a contract of an order with this many services (issue 18: ≤ 2 s); 0: skip")
    parser.add_argument("--no-http", action="store_true",
                        help="skip the 4-client HTTP part (A/B runs of the render path only)")
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "a document is one order's data, read by its id; the tables' size is not what this measures"
        " (--big sets the order's size)"))
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from apps.documents import rendering

    call_command("migrate", verbosity=0)  # a fresh database (a new machine) must work too

    cost = rendering.warm_up()
    second = time.perf_counter()
    rendering.warm_up()  # already paid: returns at once
    second = time.perf_counter() - second

    from apps.accounts.models import Role, User
    from apps.core.storage import ensure_bucket
    from apps.documents.demo import build_demo_order, ensure_requisites
    from apps.documents.services import load_default_templates

    try:
        ensure_bucket()
    except Exception:  # noqa: S110 (created concurrently)
        pass
    load_default_templates()
    ensure_requisites()
    stamp = str(int(time.time()) % 100000)
    order = build_demo_order(services=10, unique=stamp[-2:])
    user, _ = User.objects.get_or_create(email="bench-documents@bench.travelcrm",
                                         defaults={"role": Role.OPERATOR, "full_name": "Бенчмарк"})
    from apps.accounts.roles import sync_role_groups

    sync_role_groups()
    user.save()  # the role's group is attached on save (accounts signals)

    reference_before = reference_workload()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    invoice = measure(order, "invoice", args.runs)
    contract = measure(order, "contract", args.runs)
    big = None
    if args.big:
        big_order = build_demo_order(services=args.big, unique=str(int(stamp[-2:]) + 2).zfill(2)[-2:])
        big = measure(big_order, "contract", max(5, args.runs // 4))
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    reference_after = reference_workload()

    concurrency = None
    if not args.no_http:
        http_order = build_demo_order(services=10, unique=str(int(stamp[-2:]) + 1).zfill(2)[-2:])
        concurrency = concurrent_http(http_order, user)

    report = {
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "baseline_reference_s": {"before": reference_before, "after": reference_after},
        "weasyprint_import_s": round(cost.import_seconds, 3),
        "font_setup_s": round(cost.fonts_seconds, 3),
        "warm_up_again_s": round(second, 6),
        "invoice": invoice,
        "contract": contract,
        "contract_big": big,
        "rss_before_runs_mib": round(rss_before, 1),
        "rss_peak_mib": round(rss_peak, 1),
        "child_rss_peak_mib": round(child_peak, 1),
        "concurrency": concurrency,
        "targets": {"invoice_p95_s": 0.6, "contract_p95_s": 1.2, "contract_30_services_p95_s": 2.0, "rss_mib": 300},
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
