"""Stand-in memory service (see service.py)."""

from tests.e2e.fakes.service import run

run("memory")
