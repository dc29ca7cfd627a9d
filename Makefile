# The two commands: `make demo` and `make test`. Each builds .venv from nothing when needed.
# `make test-deploy` runs docker compose for real (minutes, a Docker engine) and `make test-ray` the Ray Serve
# application on a local Ray instance: `make test` leaves both out; .ci/run runs all three.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Models come from PyPI packages or are built on the spot: never reach for a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-deploy test-ray venv system-deps deploy-deps protos unit integration e2e lint clean bench bench-full

# Debian's GStreamer RTSP server and its Python bindings, for the RTSP camera test (tests/integration/
# rtsp_camera.py runs them with /usr/bin/python3). Installed only as root on a system with apt-get;
# anyone else runs the other tests, and that one skips saying what to install.
GST_PACKAGES := python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad
DEPLOY_PACKAGES := docker.io docker-compose debootstrap

# $(call apt-install,PACKAGES,WHAT): as root on a system with apt-get, installs those of PACKAGES that are
# missing, which WHAT needs; anyone else gets nothing installed, and WHAT says what to install when it skips.
define apt-install
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then \
		missing=""; \
		for package in $(1); do \
			dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" \
				|| missing="$$missing $$package"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "installing$$missing ($(2))"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
				|| echo "could not install$$missing: $(2) will skip"; \
		fi; \
	fi
endef

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/longwatch demo

test: system-deps venv
	$(PY) -m pytest -q -m "not deploy and not ray" tests

# The test builds the image with deploy/offline_image.sh (a cached no-op once built), then runs the containers.
test-deploy: deploy-deps venv
	$(PY) -m pytest -q -m deploy tests/deploy

# Perception, memory (writer and readers) and the reasoner as Serve deployments, tiny profile, on CPU.
test-ray: venv
	$(PY) -m pytest -q -m ray tests/ray

system-deps:
	$(call apt-install,$(GST_PACKAGES),the RTSP camera test)

# Docker's engine and Debian's docker-compose, and debootstrap for the offline base image (make test-deploy).
deploy-deps:
	$(call apt-install,$(DEPLOY_PACKAGES),the compose test)

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
