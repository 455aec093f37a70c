# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint install migrations-check bench-http screenshots schemathesis clean

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) scripts/devservices.py run

# Lint, then the whole suite (it includes the makemigrations --check test) against real PostgreSQL and S3.
# PYTEST_WORKERS=2 runs it on two xdist workers (each its own test database, suffixed _gw0, _gw1);
# PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
test: install lint
	$(PY) scripts/devservices.py test -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DEBUG=true $(VENV)/bin/mypy  # services, selectors, checks, queries (pyproject.toml [tool.mypy])

# The manager's guide's screenshots (docs/user/img/): the demo data, then Debian's Chromium at 1366 px.
screenshots: install
	$(PY) scripts/devservices.py exec -- sh -c '$(PY) manage.py migrate -v0 && $(PY) manage.py load_demo_data >/dev/null && $(PY) manage.py screenshots'

# Schemathesis over every API operation with all its conformance checks (see scripts/schemathesis_run.py):
# a fresh <db>_schemathesis database with the demo data, gunicorn on a free 127.0.0.1 port, the demo
# supervisor's JWT. Its own virtualenv: schemathesis' pins conflict with the app's requirements.
# positive_data_acceptance is off: it expects every schema-valid request to succeed, but the API's
# domain rules cannot be written in JSON Schema (an existing client / order / supplier id, a real
# phone or passport number, the current password, a CSV's contents, an opaque cursor) — they are a
# documented 400. Every other check is on; the run must end with 0 findings.
SCHEMATHESIS_VENV := .venv-schemathesis
SCHEMATHESIS_ARGS ?=
$(SCHEMATHESIS_VENV)/bin/schemathesis:
	$(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet schemathesis==4.32.5

schemathesis: install $(SCHEMATHESIS_VENV)/bin/schemathesis
	$(PY) scripts/devservices.py exec -- $(PY) scripts/schemathesis_run.py --exclude-checks positive_data_acceptance $(SCHEMATHESIS_ARGS)

bench-http: install
	$(PY) scripts/devservices.py exec -- $(PY) bench/http_baseline.py

clean:
	rm -rf $(VENV) $(SCHEMATHESIS_VENV) .pytest_cache .ruff_cache
