# The README's two commands: `make run` runs the main job (the whole release of the
# reference project, examples/credit, on the local target), `make test` the project's
# tests. `make check` runs only the pull-request checks. Each works on its own on a fresh
# machine: it makes the virtualenv and installs the harness.

PYTHON ?= python3
VENV ?= .venv
PY := $(abspath $(VENV))/bin/python
HARNESS := $(abspath $(VENV))/bin/harness
INSTALLED := $(VENV)/.installed
EXAMPLE := examples/credit
MODEL := $(EXAMPLE)/artifacts/credit/model.joblib

APPROVER ?= ana

.PHONY: run check test install model peers clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,protocols]'
	touch $@

# The reference model, trained by the example's own code as a team would (its model.build,
# which `harness build` runs, as the pipelines do): retrained when its code or data change.
model: $(MODEL)

$(MODEL): $(INSTALLED) $(EXAMPLE)/fixtures/credit/train.csv $(wildcard $(EXAMPLE)/credit_model/*.py)
	cd $(EXAMPLE) && $(HARNESS) build

run: $(INSTALLED) $(MODEL)
	cd $(EXAMPLE) && $(HARNESS) run --approver $(APPROVER)

check: $(INSTALLED) $(MODEL)
	cd $(EXAMPLE) && $(HARNESS) check --profile pr

# Two workers, a test file each at a time (a module's fixtures are built once, on one worker),
# the longest files first (tests/file_seconds.json; tests/support/file_order.py says how to
# record it again); `$(PY) -m pytest tests/x.py` runs one file in this process.
test: $(INSTALLED)
	$(PY) -m pytest -n 2 --dist loadfile

# The harness beside the tools a team would pick instead (docs/performance.md): minutes, and
# evidently's own virtualenv is built on the first run.
peers: $(INSTALLED) $(MODEL)
	$(PY) benchmarks/peers.py

clean:
	rm -rf reports $(EXAMPLE)/reports $(EXAMPLE)/artifacts $(EXAMPLE)/.harness
