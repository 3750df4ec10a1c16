# The two commands: `make demo` and `make test`. Each sets up what it needs (a .venv with the package and its dev
# tools, node_modules from the lock file) and skips set-up already done: the stamps below depend on the files that
# define the set-up, so editing pyproject.toml or package-lock.json redoes exactly that step.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test lint setup clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(BIN)/rwa demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	bash ci/slither.sh
	$(BIN)/pytest -q -n auto

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf build .rwa
