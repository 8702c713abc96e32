# memoloop: `make up` sets up and runs the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup up test bench clean

# torch must be pinned in the same pip command: a CPU build lies on disk (see ../shared/FACTS.md).
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

up: setup
	$(BIN)/memoloop up

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .cache
