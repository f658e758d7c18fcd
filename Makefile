# Two commands for a newcomer: `make demo` (install, build a sample archive, serve it)
# and `make test` (install with test tools, run the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@# axe-core checks the pages' accessibility in the browser tests (skipped without npm).
	@if command -v npm >/dev/null; then npm install --prefix .axe --no-audit --no-fund --no-save --silent axe-core@4; fi

demo: install
	$(BIN)/parole demo

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) parole-data .pytest_cache .ruff_cache *.egg-info
