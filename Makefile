# Ridecast — `make run` starts the local stack, `make test` runs every check. Both set themselves up.
SHELL := /bin/bash
# Python 3.13, as the Lambda runtime (SPEC §1): PYTHON=..., else python3.13 on PATH, else pyenv's newest 3.13.
PYTHON ?= $(shell scripts/find_python.sh 3.13)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

# pytest runs on this many xdist workers (`make test PYTEST_WORKERS=0` runs it in one process).
PYTEST_WORKERS ?= 2

.PHONY: setup run test checks pytest lint typecheck validate build unit integration e2e bench clean chromium

setup: $(STAMP)

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it (e.g. 'pyenv install 3.13' or 'apt-get install python3.13') or run make PYTHON=/path/to/python3.13" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
# uv (pinned in requirements-dev.txt) installs the same pinned files as pip would, downloading in parallel.
	$(BIN)/pip install --quiet "$$(grep -E '^uv==' requirements-dev.txt)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.txt
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

# Two make jobs side by side: `checks` (ruff, mypy, sam validate, then sam build, in that order) and `pytest`
# (xdist workers; each runs its e2e files against a local stack of its own on a free port). sam build is
# CPU-bound while most of pytest waits on matching windows, so on 2 cores they overlap well. -O prints each
# step's output whole when it ends, never interleaved; make fails if either job fails (the other finishes first).
test: $(STAMP) chromium
	@$(MAKE) --no-print-directory -j2 -Otarget checks pytest

checks: $(STAMP)
	@$(MAKE) --no-print-directory IN_ORDER=1 lint typecheck validate build

# A make given IN_ORDER=1 runs its targets one after another, whatever -j its parent has.
ifdef IN_ORDER
.NOTPARALLEL:
endif

# loadfile, as tests/conftest.py schedules it: a file stays on one worker (an e2e file shares that
# worker's stack), and the integration package on a single worker (one in-process LocalRuntime).
# -rR lists the tests that needed their second try (tests/conftest.py says which may have one).
pytest: $(STAMP) chromium
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 -rR

bench: $(STAMP)
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
