"""Start and stop the app under gunicorn for the HTTP benchmarks (shared by the bench scripts)."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int = 1) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:port (sync workers, or gthread when threads > 1), ready when /health/live answers."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    worker_class = ["--worker-class", "sync"]
    if threads > 1:
        worker_class = ["--worker-class", "gthread", "--threads", str(threads)]
    process = subprocess.Popen(
        [str(gunicorn), "travelcrm.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         *worker_class, "--timeout", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
