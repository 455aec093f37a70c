"""A Python client generated from the schema (openapi-python-client) builds without warnings and
imports: integrators can generate theirs from /api/schema/ (issue 13, point 6)."""

import compileall
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

# PDF, XLSX and CSV files come as bytes (the generator knows octet-stream, not their own types).
CONFIG = (
    "content_type_overrides:\n"
    '  "application/pdf": "application/octet-stream"\n'
    '  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "application/octet-stream"\n'
    '  "text/csv": "application/octet-stream"\n'
)


def test_openapi_python_client_builds_without_warnings(tmp_path):
    schema = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema), stdout=StringIO())
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(schema), "--config", str(config),
         "--output-path", str(tmp_path / "client"), "--meta", "none"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},  # its ruff pass
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "WARNING" not in output and "Unable to" not in output, output[-4000:]
    package = tmp_path / "client"
    assert (package / "client.py").exists() and (package / "api").is_dir()
    assert compileall.compile_dir(str(package), quiet=1)
