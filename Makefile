# qpan: two commands do all set-up: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.qpan-installed

.PHONY: help setup run test lint lock bench bench-quick airflow docs report clean wipe db-start db-stop

## help         this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## setup        the virtualenv .venv/ with the pinned dependencies (run and test do it too)

# A venv at .venv with the pinned dependencies of requirements/lock.txt and qpan itself.
setup: $(STAMP)
$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

## run          set everything up, run the main job end to end, print what it built
run: setup
	$(BIN)/qpan run

## test         set everything up, lint, run the test suite in parallel workers (stops the Postgres it started)
## test-fast    the tests that need no dbt, no Airflow and no service (unit + db; ~2-3 minutes)
## test-all     `make test` and what it leaves out: the full astronomer-cosmos end-to-end run
# pytest-xdist workers (tests/conftest.py gives each one its own state folder, Postgres and ports),
# whole files per worker, the longest first; every generated secret is then looked for in all the
# run wrote (--leak-scan). `make test ARGS="tests/x -k y"` runs one plain pytest.
# WORKERS: the suite mostly waits on Postgres, dbt and Airflow, so more workers than the 2 cores.
WORKERS ?= 3
define run_pytest
	@temps=$$(mktemp -d /tmp/qpan-tests-XXXXXX); \
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder --durations=30 --leak-scan \
	  --basetemp=$$temps $(1); status=$$?; rm -rf $$temps; exit $$status
endef
.PHONY: test-fast test-all
test: setup
ifdef ARGS
	$(BIN)/python -m pytest $(ARGS)
else
	$(call run_pytest,-m "not cosmos")
endif

test-fast: setup
	$(call run_pytest,-m "not dbt and not airflow and not service")

test-all: setup
	$(call run_pytest,)

## lint         ruff on the Python code, the import layers (.importlinter), sqlfluff on the dbt models (also part of `make test`)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests

## docs         the dbt docs static site (prints where it is)
docs: setup
	$(BIN)/qpan docs

## report       the static HTML report of the published marts (.qpan/report/index.html)
report: setup
	$(BIN)/qpan report

## gazetteer    rebuild the gazetteer seeds from the pinned vietnam-provinces wheel (`qpan gazetteer diff` first)
.PHONY: gazetteer
gazetteer: setup
	$(BIN)/qpan gazetteer build

## lock         regenerate requirements/lock.txt from requirements/requirements.in
lock:
	$(BIN)/uv pip compile requirements/requirements.in -o requirements/lock.txt --python-version 3.11

## bi           Apache Superset on the read-only analyst role, in the background (prints URL and login; `qpan bi stop`)
.PHONY: bi
bi: setup
	$(BIN)/qpan bi start

## airflow      Airflow's own UI + scheduler on the embedded setup, http://127.0.0.1:8080 (Ctrl-C stops it)
airflow: setup
	$(BIN)/qpan airflow

## cluster      Airflow on Postgres + Celery (Redis, 2 workers) in the background; prints the UI URL and login
##              (`.venv/bin/qpan cluster status|stop`; redis-server is installed with apt-get when missing, as root)
.PHONY: cluster
cluster: setup
	$(BIN)/qpan cluster start

## db-start     start the embedded Postgres; db-stop stops it
db-start: setup
	$(BIN)/qpan db start

db-stop: setup
	$(BIN)/qpan db stop

# Benchmarks (bench/run.py) -> BENCHMARKS.md and bench/results/: full tiers 10k/100k/1M and `make run` x3,
# or a ~2-4 minute pass on the 10k tier. They use their own database (qpan_bench), dropped at the end.
# Both fail (exit 1) when a model's full-build time passes its bound per 1,000 mentions, or, at the
# 10k tier, the full build passes 3x the incremental one (bench.run.check_transform_bounds).
## bench        the benchmarks (bench-quick: a 2-4 minute pass; fails past the per-model bounds)
bench: setup
	$(BIN)/python -m bench.run --tiers 10000,100000,1000000 --e2e

bench-quick: setup
	$(BIN)/python -m bench.run --quick

## clean        remove build artefacts only (dbt target/logs, caches); keeps the data in .qpan/
clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .ruff_cache .import_linter_cache .grimp_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "kept .qpan/ (crawled pages, warehouse, secrets, Airflow DB); \`make wipe CONFIRM=1\` deletes it"

## wipe         DELETE all local data: .qpan/ (warehouse, crawled pages, secrets, Airflow DB, default backups); asks, or CONFIRM=1
wipe:
	@if [ "$(CONFIRM)" != "1" ]; then \
	  if [ -t 0 ]; then \
	    read -r -p "Delete .qpan/ (every crawled page, the warehouse, the secrets, the Airflow DB, the backups of .qpan/backups)? Type 'wipe': " answer; \
	    [ "$$answer" = wipe ] || { echo "make wipe: kept .qpan/"; exit 1; }; \
	  else \
	    echo "make wipe: refusing to delete .qpan/ without confirmation; run \`make wipe CONFIRM=1\`" >&2; exit 1; \
	  fi; \
	fi
	-@test -x $(BIN)/qpan && $(BIN)/qpan db stop
	rm -rf .qpan
