# Two commands set up and use a fresh clone: `make demo` and `make test`. Both build the virtual
# environment on first use from the pinned constraints, so nothing has to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck bench lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/clusterbridge demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/sync_throughput.py

# Re-pin every dependency to what resolves today (run after changing pyproject.toml).
lock:
	rm -rf /tmp/cb-lock && $(PYTHON) -m venv /tmp/cb-lock
	/tmp/cb-lock/bin/pip install --quiet '.[dev]'
	/tmp/cb-lock/bin/pip freeze --exclude clusterbridge > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache clusterbridge.db
