# Two commands matter: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install lint migrate demo bench clean

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
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate

demo: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo

bench: install
	./scripts/bench.sh

clean:
	rm -rf var $(VENV)
