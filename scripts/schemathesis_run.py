#!/usr/bin/env python
"""Schemathesis over every API operation with all its checks, against a server started here.

    make schemathesis                                  # what CI and engineers run
    SCHEMATHESIS_MAX_EXAMPLES=25 make schemathesis     # a longer, deeper run
    make schemathesis SCHEMATHESIS_ARGS="--include-path-regex /orders/"   # extra schemathesis options

Runs under `scripts/devservices.py exec` (PostgreSQL and S3 are there). Steps: a fresh database
`<name>_schemathesis` next to DATABASE_URL's (dropped and created each run, so the developer's data is
never touched), migrate, the demo data, gunicorn on a free 127.0.0.1 port, then schemathesis from its
own virtualenv (.venv-schemathesis: its pins conflict with the app's, so it is not in requirements).
It signs in as the demo supervisor (every permission) through scripts/schemathesis_hooks.py, which
signs in again when a token stops working (the run calls logout-all and password change too).
Exit code: schemathesis' own (0 = no findings). The server's log goes to var/schemathesis-server.log.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
SCHEMATHESIS = ROOT / ".venv-schemathesis" / "bin" / "schemathesis"
SUPERVISOR = ("supervisor@demo.travelcrm", "demo-password-2026")  # created by load_demo_data


def log(message: str) -> None:
    print(f"[schemathesis_run] {message}", file=sys.stderr, flush=True)


def fresh_database(url: str) -> str:
    """Drop and create <name>_schemathesis on DATABASE_URL's server; return its URL."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_schemathesis"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 300) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - our own server on 127.0.0.1
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, check=True,  # noqa: S603
                   stdout=subprocess.DEVNULL)  # fmt: skip


def main(extra: list[str]) -> int:
    if not SCHEMATHESIS.exists():
        log(f"{SCHEMATHESIS} is missing: run `make schemathesis` (it creates the virtualenv)")
        return 2
    env = dict(os.environ)
    env["DATABASE_URL"] = fresh_database(env["DATABASE_URL"])
    env.setdefault("DEBUG", "true")
    # Two schemathesis workers against 2 x 4 server threads send heavy requests (reports, exports,
    # PDFs) side by side, and a background export started by one (202) runs in the job table while
    # the next arrives: with the production default (one heavy slot per two CPUs, 1 here) most of
    # them would answer 503 server_busy — correct under load, documented, but not what this run
    # checks. The limit itself is tested in apps/core/tests and measured by bench/heavy_isolation.py.
    env.setdefault("HEAVY_REQUEST_SLOTS", "16")
    log(f"database {urlsplit(env['DATABASE_URL']).path.lstrip('/')}: migrate + demo data")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo_data")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    VAR.mkdir(exist_ok=True)
    with open(VAR / "schemathesis-server.log", "wb") as server_log:
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [str(Path(sys.executable).parent / "gunicorn"), "travelcrm.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--timeout", "120"],
            env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            # The schema is generated per request (seconds on a busy machine): fetched once here and
            # handed over as a file, so schemathesis' own 10-second load timeout never trips.
            schema_file = VAR / "schemathesis-schema.json"
            schema_file.write_bytes(wait_for(f"{base}/api/schema/?format=json"))
            log(f"server on {base}; schemathesis with all checks")
            command = [
                str(SCHEMATHESIS), "run", str(schema_file), "--url", base,
                "--checks", "all",
                "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"),
                "--seed", os.environ.get("SCHEMATHESIS_SEED", "1"),
                "--workers", os.environ.get("SCHEMATHESIS_WORKERS", "2"),
                "--request-timeout", "60",
                # Response time is measured (bench/, BENCHMARKS.md), not asserted here: a template
                # upload renders a PDF preview, 19 s on a machine shared by six test runs.
                "--max-response-time", "60",
                "--suppress-health-check", "too_slow,filter_too_much",
                *extra,
            ]  # fmt: skip
            hooks_env = {**env, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(ROOT / "scripts"),
                         "TRAVELCRM_API_BASE": base, "TRAVELCRM_API_LOGIN": ":".join(SUPERVISOR)}  # fmt: skip
            return subprocess.run(command, env=hooks_env, cwd=ROOT).returncode  # noqa: S603
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
