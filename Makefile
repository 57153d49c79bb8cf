# The README's two commands: `make check` runs the main job, `make test` the project's tests.
# Each works on its own on a fresh machine: it makes the virtualenv and installs the project.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MODEL := artifacts/credit/model.joblib

.PHONY: check test install model clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The reference model: retrained when its code or training data change.
model: $(MODEL)

$(MODEL): $(INSTALLED) fixtures/credit/train.csv $(wildcard service/*.py)
	$(PY) -m service.train --data fixtures/credit/train.csv --out artifacts/credit --seed 0

check: $(INSTALLED) $(MODEL)
	$(VENV)/bin/harness check --profile pr

test: $(INSTALLED)
	$(PY) -m pytest

clean:
	rm -rf reports artifacts
