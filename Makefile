# The two commands in the README come first: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Tests run in this many processes (pytest-xdist), each with its own Temporal dev server, ERP
# simulator and databases: one test mostly keeps one core busy, so two use both cores of a
# small machine. A file's tests stay in one process, so its module fixtures start once.
# TEST_PROCESSES=0 runs them in this process.
TEST_PROCESSES ?= 2

.PHONY: run test lint format bench clean

run: $(STAMP) ## Start the whole product: Temporal, ERP simulator, worker, API + portal
	$(BIN)/restock dev

test: $(STAMP) lint ## Lint, type-check and run every test
	$(BIN)/pytest --numprocesses=$(TEST_PROCESSES) --dist=loadfile $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run every benchmark; each prints JSON
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Restock needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean: ## Remove the virtual environment and local state (database, Temporal history, logs)
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
