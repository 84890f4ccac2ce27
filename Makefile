# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
# Serving needs only the runtime dependencies; tests, lint and bench need [dev] as well.
RUN_STAMP := $(VENV)/.installed-runtime

.PHONY: run demo test bench lint fmt clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/tracker serve --host $(HOST) --port $(PORT)

demo: $(RUN_STAMP)
	$(BIN)/tracker demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check tracker admin tests bench
	$(BIN)/ruff format --check tracker admin tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format tracker admin tests bench
	$(BIN)/ruff check --fix tracker admin tests bench

clean:
	rm -rf $(VENV) data .pytest_cache
