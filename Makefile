# Two commands set up and use a fresh clone: `make demo` and `make test`. Both build the virtual
# environment on first use from the pinned constraints, so nothing has to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck bench reliability lock clean

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

# Every performance figure against its goal, ending in one table (also written to benchmarks/results/latest.md).
# The first run also installs the `bench` extra (dlt, the peer of figure 6). Takes 10 to 20 minutes;
# BENCH_ARGS=--smoke proves in under a minute that every benchmark still runs.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# The reliability goals at their full counts (`make test` runs them too, at small counts); each prints what it
# measured at the end and keeps it under tests/reliability/results/. Takes 53 to 71 minutes on 2 vCPUs.
reliability: $(STAMP)
	CLUSTERBRIDGE_RELIABILITY_TRIALS=100 CLUSTERBRIDGE_RELIABILITY_STORMS=5 CLUSTERBRIDGE_RELIABILITY_SECONDS=60 \
		$(BIN)/pytest -m reliability tests/reliability $(PYTEST_ARGS)

# Re-pin every dependency to what resolves today (run after changing pyproject.toml).
lock:
	rm -rf /tmp/cb-lock && $(PYTHON) -m venv /tmp/cb-lock
	/tmp/cb-lock/bin/pip install --quiet '.[dev,bench]'
	/tmp/cb-lock/bin/pip freeze --exclude clusterbridge > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache clusterbridge.db
