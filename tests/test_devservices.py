"""scripts/devservices.py: Ctrl-C (SIGINT) stops everything it started, grandchildren included."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
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
