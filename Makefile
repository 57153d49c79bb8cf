# The README's two commands: `make run` runs the main job (the whole release on the local
# target), `make test` the project's tests. `make check` runs only the pull-request checks.
# Each works on its own on a fresh machine: it makes the virtualenv and installs the project.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MODEL := artifacts/credit/model.joblib

APPROVER ?= ana

.PHONY: run check test install model clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,deepchecks]'
	touch $@

# The reference model: retrained when its code or training data change.
model: $(MODEL)

$(MODEL): $(INSTALLED) fixtures/credit/train.csv $(wildcard service/*.py)
	$(PY) -m service.train --data fixtures/credit/train.csv --out artifacts/credit --seed 0

run: $(INSTALLED) $(MODEL)
	$(VENV)/bin/harness run --approver $(APPROVER)

check: $(INSTALLED) $(MODEL)
	$(VENV)/bin/harness check --profile pr

test: $(INSTALLED)
	$(PY) -m pytest

clean:
	rm -rf reports artifacts
