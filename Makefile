# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
# Serving needs only the runtime dependencies; tests, lint and bench need [dev] as well.
RUN_STAMP := $(VENV)/.installed-runtime

.PHONY: run demo test bench sim lint fmt clean mutants

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# LOCKED=1 (CI, reproducible): exactly the versions and hashes of requirements-dev.lock.
# Without it (a fresh machine): the newest versions pyproject.toml allows.
# Refresh the locks: see "Dependencies" in README.md.
LOCKED ?=

$(STAMP): $(BIN)/python pyproject.toml requirements-dev.lock
	$(BIN)/python -m pip install --quiet --upgrade pip
ifeq ($(LOCKED),1)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
else
	$(BIN)/python -m pip install --quiet -e '.[dev]'
endif
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

# Mutation testing of the pure rules ([tool.mutmut] in pyproject.toml) with their fast tests;
# not part of `make test`. Fails when any mutant is not killed (README: Development).
$(VENV)/.mutants: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutants]'
	@touch $@

mutants: $(VENV)/.mutants
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 >/dev/null 2>&1 || true
	@$(BIN)/mutmut results --all true > .mutants-all.txt 2>/dev/null
	@grep -v ': killed$$' .mutants-all.txt | grep ': ' || true
	@echo "mutants: $$(grep -c ': ' .mutants-all.txt) generated, $$(grep -c ': killed$$' .mutants-all.txt) killed, $$(grep -vc ': killed$$' .mutants-all.txt) not killed"
	@! grep -vq ': killed$$' .mutants-all.txt

# The simulated world: attribution accuracy and precision against a known truth.
sim: $(STAMP)
	$(BIN)/python bench/attribution_sim.py $(SIM_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tracker admin tests bench
	$(BIN)/ruff format --check tracker admin tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format tracker admin tests bench
	$(BIN)/ruff check --fix tracker admin tests bench

clean:
	rm -rf $(VENV) data .pytest_cache mutants .mutants-all.txt
