"""HTTP baseline: GET /api/v1/auth/me/ (JWT) and /health/live under gunicorn, measured with wrk.

    make bench-http                      # via scripts/devservices.py exec (database + S3 set up)
    .venv/bin/python bench/http_baseline.py --duration 10 --connections 4

Production-like: DEBUG=false (random throw-away secrets), gunicorn with 2 sync workers on
127.0.0.1:8101, persistent database connections (DB_CONN_MAX_AGE), the JSON request log on (to
/dev/null). wrk is installed with apt-get when missing (as root); otherwise a bounded Python load
generator is used. Prints one line per endpoint and a JSON summary; results in bench/results/.
Target (issue 3): /me >= 600 requests/s with p95 <= 20 ms on a 2-core machine.
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from gunicorn_server import start_gunicorn, stop  # noqa: E402 — bench/ is the script's own folder

RESULTS = ROOT / "bench" / "results"
BENCH_EMAIL = "bench-http@bench.travelcrm"

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def bench_environment(port: int, conn_max_age: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        BLIND_INDEX_KEY=secrets.token_urlsafe(40),
        ADMIN_PASSWORD=secrets.token_urlsafe(16),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DB_CONN_MAX_AGE=str(conn_max_age),
        DJANGO_SETTINGS_MODULE="travelcrm.settings",
    )
    return env


def prepare_user_and_token(env: dict[str, str]) -> str:
    """Migrate, make a supervisor (the role with most permissions) and mint an access token."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = f"""
import django; django.setup()
from apps.accounts.models import User, Role
from rest_framework_simplejwt.tokens import AccessToken
from datetime import timedelta
user, _ = User.objects.get_or_create(email={BENCH_EMAIL!r}, defaults={{"role": Role.SUPERVISOR,
                                     "full_name": "Нагрузочный Тест"}})
token = AccessToken.for_user(user)
token.set_exp(lifetime=timedelta(hours=1))
print(token)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def process_tree_cpu_seconds(root_pid: int) -> float:
    """user+system CPU of gunicorn's master and workers (from /proc), to report CPU per request:
    a figure that does not depend on how busy the shared machine is."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("installing wrk with apt-get")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk")


def check_endpoint(url: str, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 200, response.status


def run_wrk(wrk: str, url: str, headers: dict[str, str], duration: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", script.name]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "errors": raw["errors"],
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "mean_ms": round(raw["mean_us"] / 1000, 2),
    }


def run_python(url: str, headers: dict[str, str], duration: int, connections: int) -> dict:
    """Fallback load generator: `connections` threads with keep-alive, bounded by `duration`."""
    import http.client

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    host_port = url.split("/")[2]
    path = "/" + url.split("/", 3)[3]
    stop_at = time.monotonic() + duration

    def worker():
        nonlocal errors
        conn = http.client.HTTPConnection(host_port, timeout=5)
        local, local_errors = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    local_errors += 1
            except OSError:
                local_errors += 1
                conn = http.client.HTTPConnection(host_port, timeout=5)
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
            errors += local_errors

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {"requests": len(latencies), "errors": errors, "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2)}


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(int(meminfo[1]) / 1024 / 1024, 1),
        "loadavg_before": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--gunicorn-threads", type=int, default=1, help=">1: gthread workers with this many threads")
    parser.add_argument("--conn-max-age", type=int, default=600)
    parser.add_argument("--python-client", action="store_true", help="use the Python load generator")
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "/api/v1/auth/me/ reads one user by primary key and /health/live no table: their cost does "
        "not grow with the data"))
    args = parser.parse_args()

    env = bench_environment(args.port, args.conn_max_age)
    token = prepare_user_and_token(env)
    wrk = None if args.python_client else ensure_wrk()
    info = machine()
    log(f"gunicorn {args.workers} workers on 127.0.0.1:{args.port}; client: {'wrk' if wrk else 'python'}; "
        f"load average before: {info['loadavg_before']}")
    server = start_gunicorn(env, args.port, args.workers, args.gunicorn_threads)
    endpoints = {
        "/health/live": {},
        "/api/v1/auth/me/": {"Authorization": f"Bearer {token}"},
    }
    results = {}
    try:
        for path, headers in endpoints.items():
            url = f"http://127.0.0.1:{args.port}{path}"
            check_endpoint(url, headers)
            if wrk:
                run_wrk(wrk, url, headers, args.warmup, args.connections, args.threads)
            else:
                run_python(url, headers, args.warmup, args.connections)
            cpu_before = process_tree_cpu_seconds(server.pid)
            if wrk:
                results[path] = run_wrk(wrk, url, headers, args.duration, args.connections, args.threads)
            else:
                results[path] = run_python(url, headers, args.duration, args.connections)
            r = results[path]
            r["app_cpu_ms_per_request"] = round(
                (process_tree_cpu_seconds(server.pid) - cpu_before) * 1000 / max(1, r["requests"]), 2
            )
            print(f"{path:<20} {r['rps']:>8} req/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
                  f"p99 {r['p99_ms']} ms  errors {r['errors']}  ({r['requests']} requests, "
                  f"{r['app_cpu_ms_per_request']} ms app CPU each)", flush=True)
    finally:
        stop(server)
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**info, "loadavg_after": os.getloadavg()},
        "settings": {"workers": args.workers, "gunicorn_threads": args.gunicorn_threads,
                     "connections": args.connections, "duration_s": args.duration,
                     "client": "wrk" if wrk else "python", "db_conn_max_age": args.conn_max_age},
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"http_baseline-{datetime.now(UTC):%Y%m%dT%H%M%S}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    me = results["/api/v1/auth/me/"]
    ok = me["rps"] >= 600 and me["p95_ms"] <= 20 and me["errors"] == 0
    print(f"target /me >= 600 req/s and p95 <= 20 ms: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
