"""Every benchmark script takes --scale (issue 19 point 6): its --help lists it, with the data sizes
it stands for or, where stored data does not change what is measured, why only 1 is accepted."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
# Modules the scripts import or hand to other programs, not benchmarks themselves.
HELPERS = {"benchdb", "gunicorn_server", "orders_bench_settings", "orders_bench_urls", "load_locustfile"}


def bench_scripts() -> list[Path]:
    return sorted(path for path in BENCH.glob("*.py") if path.stem not in HELPERS)


def test_every_bench_script_takes_scale():
    scripts = bench_scripts()
    assert len(scripts) >= 19
    # All at once: each --help is a Python start-up (some import Django), seconds apiece.
    running = {path.stem: subprocess.Popen([sys.executable, str(path), "--help"], cwd=BENCH.parent,  # noqa: S603
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for path in scripts}
    missing = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=120)
        help_text = " ".join(out.split())
        if process.returncode != 0 or "--scale" not in help_text:
            missing[name] = (process.returncode, err[-500:])
        elif "--scale {1}" in help_text and "only 1:" not in help_text:
            missing[name] = "--scale is fixed at 1 without saying why"
    assert not missing, missing
