# qpan: two commands do all set-up: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.qpan-installed

.PHONY: setup run test lock bench bench-quick airflow docs report clean db-start db-stop

# A venv at .venv with the pinned dependencies of requirements/lock.txt and qpan itself.
setup: $(STAMP)
$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

run: setup
	$(BIN)/qpan run

test: setup
	$(BIN)/python -m pytest

lock:
	$(BIN)/uv pip compile requirements/requirements.in -o requirements/lock.txt --python-version 3.11

# Airflow's own UI + scheduler on the embedded setup, http://127.0.0.1:8080 (Ctrl-C stops it).
airflow: setup
	$(BIN)/qpan airflow

db-start: setup
	$(BIN)/qpan db start

db-stop: setup
	$(BIN)/qpan db stop

# Benchmarks (bench/run.py) -> BENCHMARKS.md and bench/results/: full tiers 10k/100k/1M and `make run` x3,
# or a ~2-4 minute pass on the 10k tier. They use their own database (qpan_bench), dropped at the end.
bench: setup
	$(BIN)/python -m bench.run --tiers 10000,100000,1000000 --e2e

bench-quick: setup
	$(BIN)/python -m bench.run --quick

clean:
	-$(BIN)/qpan db stop
	rm -rf .qpan
