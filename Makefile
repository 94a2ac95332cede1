# brandstats: `make run` and `make test` are all a new user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= reports/latest
# uv installs exactly what uv.lock pins (from PyPI); keep UV_VERSION equal to uv's version in
# uv.lock (tests/test_packaging.py checks it).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never

.DEFAULT_GOAL := help
.PHONY: help install lock run test test-fast lint lab bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar on "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock | $(UV)
	@echo "installing the locked dependencies (uv.lock) into $(VENV)/: a minute or two the first time"
	@# --compile-bytecode: every runner, template and kernel imports the scientific stack;
	@# without .pyc files (PYTHONDONTWRITEBYTECODE=1 is common) each import compiles it anew
	$(UV) sync --locked --extra dev --compile-bytecode
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@# nbstripout strips outputs on commit; --keep-id keeps the cell ids committed (its --install drops it)
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/nbstripout --install && \
	  git config filter.nbstripout.clean "$$(git config filter.nbstripout.clean) --keep-id"; fi
	@touch $(STAMP)

install: $(STAMP)  ## create .venv (if missing) and install brandstats with its dev tools from uv.lock

lock: $(UV)  ## update uv.lock after changing the dependencies in pyproject.toml
	$(UV) lock

run: install  ## run every target's notebook on the shipped data and write the scorecard to reports/
	$(BIN)/brandstats validate data/targets.csv data/observations.csv
	$(BIN)/brandstats run --output $(OUT)

test: install  ## run the whole test suite, notebooks included
	$(BIN)/python -m pytest

test-fast: install  ## the unit tests only (no notebooks or batches)
	$(BIN)/python -m pytest -m 'not slow'

lint: install  ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks data notebooks
	$(BIN)/ruff format --check src tests benchmarks data notebooks

lab: install  ## open JupyterLab at the project's top (data/, notebooks/, reports/) with brandstats
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root)

bench: install  ## run the benchmarks (prints ratios against in-run baselines)
	$(BIN)/python benchmarks/bench_assess.py
	$(BIN)/python benchmarks/bench_batch.py

clean:  ## remove the virtual environment and generated reports
	rm -rf $(VENV) reports
