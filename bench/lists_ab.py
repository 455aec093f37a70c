"""Client and order list throughput, BEFORE vs AFTER a change, in one run (issue 12).

    .venv/bin/python bench/lists_ab.py --before-tree /tmp/before [--clients 20000] [--seconds 30] [--port 8124]

Two gunicorn servers (2 sync workers, DEBUG off) on the same seeded databases — one serving the
BEFORE tree (a checkout of the code to compare with), one serving this tree — are loaded in short
alternating bursts by 4 concurrent clients, so the shared machine's load drifts hit both alike:
GET /api/v1/clients/?page_size=50 (the clients bench's database, an operator's JWT: personal data
decrypted) and GET /api/v1/orders/?page_size=50 (the orders bench's database). Prints req/s, p95
and the after/before ratio per list. With --client-extras also the name search (10 concurrent users)
and the deep page, the same way.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def start(tree: Path, port: int, env: dict) -> subprocess.Popen:
    import http.client

    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "travelcrm.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--timeout", "60", "--chdir", str(tree)],
        env={**env, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/live")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"gunicorn of {tree} did not start on :{port}")


def compare(trees: dict, env: dict, ports: dict, path: str, headers: dict, seconds: float,
            extra: dict | None = None) -> dict:
    """`path` with 4 clients, then each of `extra` ({label: (paths, concurrent users)}), every one
    alternating between the two servers in 6 rounds."""
    import clients_list

    servers = [start(tree, ports[name], env) for name, tree in trees.items()]
    try:
        for name in trees:
            status, body = clients_list.hit(ports[name], path, headers)
            assert status == 200, (name, status, body[:300])
        result = clients_list.interleaved({name: (ports[name], path) for name in trees}, headers, seconds, rounds=6)
        extra_results = {label: interleaved_paths(trees, ports, paths, headers, seconds, users)
                         for label, (paths, users) in (extra or {}).items()}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    report = {name: {"rps": round(r["rps"], 1), "p95_ms": round(r["p95_ms"], 1), "errors": r["errors"]}
              for name, r in result.items()}
    report["rps_ratio_after_before"] = round(result["after"]["rps"] / result["before"]["rps"], 3)
    report.update(extra_results)
    return report


def interleaved_paths(trees: dict, ports: dict, paths: list[str], headers: dict, seconds: float, users: int,
                      rounds: int = 6) -> dict:
    """`users` concurrent users cycling through `paths`, alternating between the servers; p50 / p95
    over all rounds (clients_list.load_paths per burst)."""
    import statistics

    import clients_list

    latencies: dict = {name: [] for name in trees}
    counts: dict = {name: {"requests": 0, "errors": 0, "seconds": 0.0} for name in trees}
    for _ in range(rounds):
        for name in trees:
            burst = clients_list.load_paths(ports[name], paths, headers, seconds / rounds, users, keep_latencies=True)
            latencies[name] += burst["latencies"]
            counts[name]["requests"] += burst["requests"]
            counts[name]["errors"] += burst["errors"]
            counts[name]["seconds"] += burst["elapsed"]
    report = {}
    for name in trees:
        ordered = sorted(latencies[name])
        p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)] if ordered else float("nan")
        report[name] = {"rps": round(counts[name]["requests"] / counts[name]["seconds"], 1),
                        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
                        "p95_ms": round(p95 * 1000, 1), "errors": counts[name]["errors"], "users": users}
    return report


def client_extras(clients: int) -> dict:
    """The client list's other doors at scale: name search by 10 users, the deep page one at a time."""
    import urllib.parse

    terms = ["кузнец", "SERGEI", "семёнов ив", "zzzz", "петров", "ivan"]
    search = [f"/api/v1/clients/?page_size=50&search={urllib.parse.quote(term)}" for term in terms]
    deep = [f"/api/v1/clients/?page_size=50&page={min(10_000, max(clients // 50, 1))}"]
    return {"search_10_users": (search, 10), "deep_page_1_user": (deep, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-tree", required=True)
    parser.add_argument("--clients", type=int, default=None,
                        help="clients to seed (default 20 000 at --scale 1, else clients_list.py's 100 000 x scale)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument("--only", choices=["clients", "orders"], help="one list only")
    parser.add_argument("--client-extras", action="store_true",
                        help="also the name search (10 users cycling six terms) and the deep page (page 10 000 "
                             "or the last), each alternating between the two servers")
    from benchdb import add_scale_argument, scaled_suffix

    add_scale_argument(parser, sizes="the databases of clients_list.py and orders_list.py at that --scale "
                                     "(1: 20 000+ clients / 50 000 orders, 10: 1 000 000 / 500 000)")
    args = parser.parse_args()
    args.clients = args.clients or (20_000 if args.scale == 1 else 100_000 * args.scale)
    trees = {"before": Path(args.before_tree).resolve(), "after": ROOT}
    ports = {"before": args.port, "after": args.port + 1}
    report = {"load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}

    import clients_list
    import orders_list

    # Clients: the clients bench's database and seeding (its keys kept stable between runs).
    # The orders bench's settings first: its database name derives from DATABASE_URL, which the
    # clients part replaces with the clients bench's below (it named "<clients db>_orders_bench…").
    orders_env = orders_list.bench_env(scaled_suffix("_orders_bench", args.scale))
    clients_list.stable_keys()
    env = clients_list.bench_env(scaled_suffix("_clients_bench", args.scale))
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY",
                                                  "BLIND_INDEX_KEY", "ADMIN_PASSWORD", "DEBUG",
                                                  "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS")})
    from benchdb import create_database

    create_database(env["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import Role, User

    if args.only != "orders":
        call_command("migrate", verbosity=0)
        clients_list.seed(args.clients)
        user, _ = User.objects.get_or_create(email="bench-operator@bench.travelcrm", defaults={"role": Role.OPERATOR})
        headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
        report["clients_list"] = compare(trees, env, ports, "/api/v1/clients/?page_size=50", headers, args.seconds,
                                         extra=client_extras(args.clients) if args.client_extras else None)
        print(json.dumps(report["clients_list"]), file=sys.stderr, flush=True)
    if args.only == "clients":
        print(json.dumps(report, indent=2))
        return

    # Orders: the orders bench's database (seeded by SQL on the first run).
    orders_list.seed(orders_env, False, orders_list.ORDERS * args.scale)
    token = orders_list.access_token(orders_env)
    report["orders_list"] = compare(trees, orders_env, ports, "/api/v1/orders/?page_size=50",
                                    {"Authorization": f"Bearer {token}"}, args.seconds)
    report["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
