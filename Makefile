# Ridecast — `make run` starts the local stack, `make test` runs every check. Both set themselves up.
SHELL := /bin/bash
# Python 3.13, as the Lambda runtime (SPEC §1): PYTHON=..., else python3.13 on PATH, else pyenv's newest 3.13.
PYTHON ?= $(shell scripts/find_python.sh 3.13)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test lint typecheck validate build unit integration e2e bench clean chromium

setup: $(STAMP)

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it (e.g. 'pyenv install 3.13' or 'apt-get install python3.13') or run make PYTHON=/path/to/python3.13" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m local_stack

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint

# The layer's Makefile runs python3.13 with pip: the venv's comes first on PATH.
build: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sam build --parallel
	$(BIN)/python scripts/check_build_arch.py .aws-sam/build

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP) chromium
	$(BIN)/pytest tests/e2e

# Debian's Chromium for the browser tests (tests/e2e/browser), installed only when /usr/bin/chromium is missing.
chromium:
	scripts/install_chromium.sh

test: lint typecheck validate build chromium
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
