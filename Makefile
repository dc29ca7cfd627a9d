# The two commands: `make demo` and `make test`. Each builds .venv from nothing when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Models come from PyPI packages or are built on the spot: never reach for a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test venv system-deps protos unit integration e2e lint clean bench bench-full

# Debian's GStreamer RTSP server and its Python bindings, for the RTSP camera test (tests/integration/
# rtsp_camera.py runs them with /usr/bin/python3). Installed only as root on a system with apt-get;
# anyone else runs the other tests, and that one skips saying what to install.
GST_PACKAGES := python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/longwatch demo

test: system-deps venv
	$(PY) -m pytest -q tests

system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then \
		missing=""; \
		for package in $(GST_PACKAGES); do \
			dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" \
				|| missing="$$missing $$package"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "installing$$missing (the RTSP camera test)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
				|| echo "could not install$$missing: the RTSP camera test will skip"; \
		fi; \
	fi

# Measurements, not tests: every benchmark's quick mode, then docs/benchmarks.md from their sections.
bench: venv
	$(VENV)/bin/longwatch eval --quick --results benchmarks/results
	$(PY) -m benchmarks.scaling --quick
	$(PY) -m benchmarks.memory --quick
	$(PY) -m benchmarks.reasoner --quick
	$(PY) -m benchmarks.ingest --quick
	$(PY) -m benchmarks.decode --quick
	$(PY) -m benchmarks.flat_cost --quick
	$(PY) -m benchmarks.ocr_cer --quick
	$(PY) -m benchmarks.load --quick
	$(PY) -m benchmarks.faults --quick
	$(PY) -m benchmarks.bad_input --quick
	$(PY) -m benchmarks.report

bench-full: venv
	$(VENV)/bin/longwatch eval --full --results benchmarks/results
	$(PY) -m benchmarks.scaling --full
	$(PY) -m benchmarks.memory
	$(PY) -m benchmarks.reasoner
	$(PY) -m benchmarks.ingest --full
	$(PY) -m benchmarks.decode
	$(PY) -m benchmarks.flat_cost
	$(PY) -m benchmarks.ocr_cer
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
	$(VENV)/bin/ruff check longwatch longwatch_cli memory_service perception reasoner orchestration tests protos benchmarks
	$(VENV)/bin/ruff format --check longwatch longwatch_cli memory_service perception reasoner orchestration tests benchmarks

protos: venv
	$(PY) protos/generate.py

clean:
	rm -rf $(VENV) build *.egg-info
