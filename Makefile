# Two commands matter: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The suite on 2 processes (pytest-xdist; `make test TEST_WORKERS=0` runs it in one). Each test module goes
# to one worker whole (--dist loadscope), so a module-wide fixture (the seeded demo) is built once.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

.PHONY: run test test-fast install lint migrate demo bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "RCM needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1). Run: make run PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	@DEBUG=$${DEBUG:-true} ./scripts/run.sh

test: install
	$(PYTEST)

# Keeps the test databases between runs (var/test_rcm.sqlite3*, or test_<name>_gw0... on PostgreSQL):
# new migrations are applied, the others not run again. `make test` (or --create-db) builds them anew.
test-fast: install
	$(PYTEST) --reuse-db

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate

demo: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo

bench: install
	./scripts/bench.sh

clean:
	rm -rf var $(VENV)
