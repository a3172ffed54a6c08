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

db-start: setup
	$(BIN)/qpan db start

db-stop: setup
	$(BIN)/qpan db stop

clean:
	-$(BIN)/qpan db stop
	rm -rf .qpan
