"""scripts/devservices.py: Ctrl-C (SIGINT) stops everything it started, grandchildren included."""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "devservices.py"


def load_devservices():
    spec = importlib.util.spec_from_file_location("devservices", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_descendants_include_grandchildren():
    devservices = load_devservices()
    shell = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    try:
        deadline = time.monotonic() + 10
        while len(found := devservices.descendants(shell.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(found) == 2
    finally:
        devservices.signal_tree([shell.pid, *devservices.descendants(shell.pid)], signal.SIGKILL)
        shell.wait()


def test_sigint_stops_the_command_and_its_children(tmp_path):
    """`exec` mode stands for run/test: SIGINT to devservices alone (as `kill -INT` does) stops
    the command and what the command started in the background."""
    pidfile = tmp_path / "background.pid"
    env = {**os.environ, "DEBUG": "true"}
    command = [sys.executable, str(SCRIPT), "exec", "--", "sh", "-c", f"sleep 120 & echo $! > {pidfile}; sleep 120"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.2)
        background = int(pidfile.read_text())
        assert alive(background)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=40) == 130
        deadline = time.monotonic() + 5
        while alive(background) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(background), "a process started by the command outlived Ctrl-C"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _wait_for(condition, seconds: float, process: subprocess.Popen):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        assert process.poll() is None, f"devservices exited early with {process.returncode}"
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _devservices_database_url() -> str:
    """A database of its own for `run` (it migrates and loads demo data): kept between test runs,
    like var/, so only the first run pays for the migrations."""
    import psycopg

    base = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/travelcrm"))
    name = (os.environ.get("TEST_DATABASE_NAME") or "test_travelcrm") + "_devservices"
    admin = urllib.parse.urlunsplit(base._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(base._replace(path="/" + name))


def test_sigterm_to_run_stops_runserver_and_worker():
    """`devservices.py run`, then SIGTERM to it alone (as docker stop / a supervisor does): runserver
    (both its processes), the job worker and everything below them are gone within seconds."""
    devservices = load_devservices()
    port = _free_port()
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": _devservices_database_url(), "PORT": str(port)}
    process = subprocess.Popen([sys.executable, str(SCRIPT), "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def serving():
            tree = devservices.descendants(process.pid)
            worker = [pid for pid in tree if "manage.py worker" in _cmdline(pid)]
            server = [pid for pid in tree if "runserver" in _cmdline(pid)]
            return tree if worker and len(server) >= 2 and devservices.port_open("127.0.0.1", port) else None

        tree = _wait_for(serving, 600, process)  # the first run migrates a new database
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 3
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [_cmdline(pid) for pid in tree if alive(pid)] == []
        assert not devservices.port_open("127.0.0.1", port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_to_exec_stops_the_embedded_postgresql(tmp_path):
    """Without DATABASE_URL devservices starts an embedded PostgreSQL (here in a temporary var/);
    SIGTERM stops the command and that server too."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(DEBUG="true", DEVSERVICES_VAR=str(tmp_path / "var"))
    marker = tmp_path / "started"
    process = subprocess.Popen([sys.executable, str(SCRIPT), "exec", "--", "sh", "-c", f"touch {marker}; sleep 120"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(marker.exists, 180, process)
        postmaster = int((tmp_path / "var" / "pgdata" / "postmaster.pid").read_text().split()[0])
        assert alive(postmaster)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 5
        while alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(postmaster), "the embedded PostgreSQL outlived SIGTERM"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
