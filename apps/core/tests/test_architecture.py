"""The dependency rules of docs/development.md hold: import-linter's contracts (pyproject.toml) are kept."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


# Hand-written SQL lives in one queries.py per app (docs/development.md, "Raw SQL").
RAW_SQL = re.compile(r"\.cursor\(|\bRawSQL\(|\.raw\(|\.extra\(|\.execute\(")
RAW_SQL_ALLOWED = {
    "travelcrm/health.py",  # the readiness probe's `SELECT 1`: the project's, not an app's
}


def test_hand_written_sql_only_in_queries_modules():
    found = []
    for path in sorted([*ROOT.glob("apps/**/*.py"), *ROOT.glob("travelcrm/**/*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        parts = set(path.parts)
        if path.name == "queries.py" or parts & {"tests", "migrations", "testing"} or relative in RAW_SQL_ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if RAW_SQL.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "hand-written SQL outside queries.py:\n" + "\n".join(found)
