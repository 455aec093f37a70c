"""A/B: GET /api/v1/auth/me/ before and after a change, interleaved in one run (issue 12, point 3).

    .venv/bin/python bench/auth_me_ab.py --before 5db76a9^ --after 5db76a9 --rounds 6 --duration 8

Checks out `--before` (a git ref) into a temporary worktree, starts gunicorn on it and on
`--after` (another ref, or this tree when not given) on ports --port and --port+1 (2 sync workers
each, DEBUG=false, the same database), mints one JWT the way a sign-in does (with the sign-in
time, and the user's tokens_valid_after set, so the new check runs its comparison) and loads each
server in turn with wrk, A B B A …, so both see the same machine load. Prints per-round figures,
the after/before ratio of the medians, and the application CPU per request (from /proc: less
sensitive to the shared machine's load than req/s).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from gunicorn_server import stop  # noqa: E402
from http_baseline import (  # noqa: E402
    bench_environment,
    check_endpoint,
    ensure_wrk,
    process_tree_cpu_seconds,
    run_python,
    run_wrk,
)

EMAIL = "bench-me-ab@bench.travelcrm"


def start(tree: Path, env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "travelcrm.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "sync", "--timeout", "60"],
        cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ({tree}) exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"gunicorn ({tree}) did not answer within 60 s")


def mint_token(env: dict[str, str]) -> str:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = f"""
import django; django.setup()
from datetime import timedelta
from django.utils import timezone
from apps.accounts.models import Role, User
from apps.accounts.services import token_family_start
user, _ = User.objects.get_or_create(email={EMAIL!r}, defaults={{"role": Role.SUPERVISOR, "full_name": "Нагрузка"}})
User.objects.filter(pk=user.pk).update(tokens_valid_after=timezone.now() - timedelta(minutes=1))
access = token_family_start(user=user).access_token
access.set_exp(lifetime=timedelta(hours=1))
print(access)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="git ref of the baseline")
    parser.add_argument("--after", default=None, help="git ref of the change (default: this tree)")
    parser.add_argument("--port", type=int, default=8110)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "an A/B of /api/v1/auth/me/, one user read by primary key: its cost does not grow with the "
        "data"))
    args = parser.parse_args()

    env = bench_environment(args.port, 600)
    token = mint_token(env)
    headers = {"Authorization": f"Bearer {token}"}
    wrk = ensure_wrk()
    baseline = Path(tempfile.mkdtemp(prefix="auth-me-before-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(baseline), args.before], cwd=ROOT, check=True)
    changed = ROOT
    if args.after:
        changed = Path(tempfile.mkdtemp(prefix="auth-me-after-"))
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(changed), args.after], cwd=ROOT, check=True)
    servers = {}
    rounds: dict[str, list[dict]] = {"before": [], "after": []}
    load_before = os.getloadavg()
    try:
        servers["before"] = (start(baseline, env, args.port, args.workers), args.port)
        servers["after"] = (start(changed, env, args.port + 1, args.workers), args.port + 1)
        for _process, port in servers.values():
            url = f"http://127.0.0.1:{port}/api/v1/auth/me/"
            check_endpoint(url, headers)
            run_wrk(wrk, url, headers, 2, args.connections, 1) if wrk else run_python(url, headers, 2, args.connections)
        for number in range(args.rounds):
            order = ("before", "after") if number % 2 == 0 else ("after", "before")
            for name in order:
                process, port = servers[name]
                url = f"http://127.0.0.1:{port}/api/v1/auth/me/"
                cpu = process_tree_cpu_seconds(process.pid)
                result = (run_wrk(wrk, url, headers, args.duration, args.connections, 1) if wrk
                          else run_python(url, headers, args.duration, args.connections))
                result["cpu_ms_per_request"] = round(
                    (process_tree_cpu_seconds(process.pid) - cpu) * 1000 / max(1, result["requests"]), 3)
                rounds[name].append(result)
                print(f"round {number + 1} {name:<6} {result['rps']:>8} req/s  p95 {result['p95_ms']} ms  "
                      f"{result['cpu_ms_per_request']} ms CPU/request  errors {result['errors']}", flush=True)
    finally:
        for process, _port in servers.values():
            stop(process)
        for tree in {baseline, changed} - {ROOT}:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)

    def median(name, key):
        return statistics.median(r[key] for r in rounds[name])

    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "before": args.before,
        "after": args.after or "working tree",
        "loadavg": {"before": load_before, "after": os.getloadavg()},
        "client": "wrk" if wrk else "python",
        "median_rps": {name: median(name, "rps") for name in rounds},
        "median_p95_ms": {name: median(name, "p95_ms") for name in rounds},
        "median_cpu_ms_per_request": {name: median(name, "cpu_ms_per_request") for name in rounds},
        "rounds": rounds,
    }
    summary["rps_ratio_after_before"] = round(summary["median_rps"]["after"] / summary["median_rps"]["before"], 3)
    summary["cpu_ratio_after_before"] = round(
        summary["median_cpu_ms_per_request"]["after"] / summary["median_cpu_ms_per_request"]["before"], 3)
    print(json.dumps({key: value for key, value in summary.items() if key != "rounds"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
