"""Stand-in perception service (see service.py)."""

from tests.e2e.fakes.service import run

run("perception")
