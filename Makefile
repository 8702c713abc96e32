# memoloop: `make up` sets up and runs the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup up test browser postgres clean

# torch must be pinned in the same pip command: a CPU build lies on disk (see ../shared/FACTS.md).
# llama.cpp (the 'fast' extra) is built from source, about 4 min on 2 cores: without OpenMP, whose
# runtime it would share with torch's (both load libgomp.so.1), and once torch had run in a second
# thread (recall does) every token took 2-3x as long (measured); and without the multimodal library.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 -e '.[dev]'
	CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_OPENMP=OFF" $(BIN)/pip install --quiet torch==2.13.0 -e '.[dev,fast]' || \
	  echo "memoloop: llama.cpp could not be built (needs cmake and a C++ compiler): answers will use transformers, slower"
	touch $@

setup: $(BIN)/.installed

up: setup
	$(BIN)/memoloop up

# The browser test drives Debian's chromium; as root (CI) it is installed here, elsewhere it is skipped.
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium could not be installed: the browser test will be skipped"

# Server mode's tests start a throwaway PostgreSQL cluster (initdb + pg_ctl, Debian's postgresql); as
# root (CI) it is installed here, elsewhere those tests are skipped with the reason.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
	  echo "postgresql could not be installed: the server-mode tests will be skipped"

# Then the tests of the memory layer run again in server mode, on a PostgreSQL cluster and a Chroma
# server (`chroma run`), both started by tests/conftest.py on this machine only: the same journal,
# recall, backup, transfer and schedule on either pair of engines.
SERVER_TESTS := tests/test_journal.py tests/test_recall.py tests/test_durability.py tests/test_transfer.py \
	tests/test_backup.py tests/test_cli_memory.py tests/test_schedule.py tests/test_households.py tests/test_training_machine.py

test: setup browser postgres
	$(BIN)/python -m pytest
	MEMOLOOP_TEST_INDEX=server $(BIN)/python -m pytest $(SERVER_TESTS)

clean:
	rm -rf $(VENV) .pytest_cache .cache
