"""LOG_FILE: JSON lines in a size-rotated file shared by several processes; rotation happens and
no line is lost or doubled at the boundary (issue 15, point 6)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITER = """
import django, logging, os, sys
django.setup()
log = logging.getLogger("travelcrm.rotation")
for n in range(int(sys.argv[1])):
    log.warning("line", extra={"writer": os.getpid(), "n": n, "padding": "x" * 150})
"""


def test_rotation_keeps_every_line_of_several_writers(tmp_path):
    log_file = tmp_path / "travelcrm.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
        "DEBUG": "true",
        "LOG_FILE": str(log_file),
        "LOG_FILE_MAX_BYTES": "20000",
        "LOG_FILE_BACKUPS": "1000",
    }
    lines_each, writers = 800, 3
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(lines_each)], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(writers)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()[-2000:]

    files = sorted(tmp_path.glob("travelcrm.log*"))
    files = [f for f in files if not f.name.endswith(".lock")]
    assert len(files) > 10, "the file was rotated many times"
    assert all(f.stat().st_size <= 20000 for f in files)
    seen: dict[tuple[int, int], int] = {}
    for path in files:
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = json.loads(raw)  # every line whole: no line cut at a boundary
            if line.get("logger") == "travelcrm.rotation":
                key = (line["writer"], line["n"])
                seen[key] = seen.get(key, 0) + 1
    assert len(seen) == lines_each * writers, "a line was lost"
    assert set(seen.values()) == {1}, "a line was written twice"


def test_without_max_bytes_the_handler_follows_logrotate(tmp_path):
    """LOG_FILE_MAX_BYTES=0: logrotate moves the file away; the next line goes to a new file."""
    log_file = tmp_path / "travelcrm.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "travelcrm.settings", "DEBUG": "true",
           "LOG_FILE": str(log_file), "LOG_FILE_MAX_BYTES": "0"}
    script = """
import django, logging, os, sys
django.setup()
log = logging.getLogger("travelcrm.rotation")
log.warning("before")
os.rename(sys.argv[1], sys.argv[1] + ".1")   # what logrotate does (no copytruncate)
log.warning("after")
"""
    result = subprocess.run([sys.executable, "-c", script, str(log_file)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"before"' in (tmp_path / "travelcrm.log.1").read_text()
    assert '"after"' in log_file.read_text() and '"before"' not in log_file.read_text()
